import Checkpoint
import Connectors
import Foundation
import Logging

/// Moves one sink's offset through the spool: read a batch, filter, encode, deliver with the
/// shared retry loop, then dead letters and the new offset in one transaction.
final class SinkWorker: Sendable {
    let configuration: SinkConfiguration
    let store: StateStore
    let delivery: any SinkDelivery
    let encoder: EventEncoder
    let sleeper: any Sleeper
    let logger: Logger
    let metrics: SinkMetrics
    private let stopped = Flag()

    enum Step: Equatable {
        /// Nothing to send right now.
        case idle
        /// A partial batch waits for more events until `flush_interval` has passed.
        case waiting
        /// The offset moved.
        case progressed(events: Int)
        /// The sink is gone (webhook 410); it sends nothing more until restarted.
        case stopped
    }

    init(configuration: SinkConfiguration, store: StateStore, delivery: any SinkDelivery, sleeper: any Sleeper, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.delivery = delivery
        self.encoder = EventEncoder(encoding: configuration.encoding, redact: configuration.redact)
        self.sleeper = sleeper
        var logger = logger
        logger[metadataKey: LogKey.sink] = .string(configuration.name)
        self.logger = logger
        metrics = SinkMetrics(sink: configuration.name)
    }

    var name: String { configuration.name }
    var isStopped: Bool { stopped.value }

    /// Handles the next batch. `flushNow` sends a partial batch without waiting for `flush_interval`.
    func step(flushNow: Bool, now: Date = Date()) async throws -> Step {
        if stopped.value { return .stopped }
        let offset = try store.offset(sink: name)
        if !flushNow {
            // Decide on a partial batch from a payload-free count: re-reading it while it waits
            // for flush_interval was most of the forwarder's I/O.
            let pending = try store.pendingSummary(sink: name, after: offset, limit: configuration.batchSize)
            guard pending.count > 0, let oldest = pending.oldestSpooledAt else {
                try passIdle(from: offset, through: pending.idleThrough)
                return .idle
            }
            if pending.count < configuration.batchSize, now.timeIntervalSince(oldest) < configuration.flushInterval.seconds {
                return .waiting
            }
        }
        let batch = try store.nextBatch(
            sink: name, after: offset, limit: configuration.batchSize, maxBytes: configuration.maxBatchBytes)
        let records = batch.records
        guard !records.isEmpty else {
            try passIdle(from: offset, through: batch.passedThrough)
            return .idle
        }
        var deadLetters: [DeadLetterEntry] = []
        var selected: [(record: SpoolRecord, event: EncodedEvent)] = []
        var matched = 0
        for record in records where configuration.filters.matches(record) {
            matched += 1
            do {
                let event = try encoder.encode(record)
                if let refusal = delivery.preflight(event) {
                    deadLetters.append(.init(record: record, status: 413, reason: refusal))
                } else {
                    selected.append((record, event))
                }
            } catch {
                deadLetters.append(.init(record: record, status: 0, reason: "cannot encode: \(error)"))
            }
        }
        let gone: Bool
        if selected.isEmpty {
            gone = false
        } else {
            let result = try await deliverWithRetry(selected)
            deadLetters += result.deadLetters
            gone = result.gone
        }
        try store.commitDelivery(sink: name, through: batch.passedThrough, deadLetters: deadLetters)
        metrics.filtered.increment(by: records.count - matched)
        metrics.delivered.increment(by: matched - deadLetters.count)
        metrics.deadLettered.increment(by: deadLetters.count)
        if !deadLetters.isEmpty {
            logger.error("events dead-lettered", metadata: [LogKey.deadLetters: "\(deadLetters.count)", LogKey.error: "\(deadLetters[0].reason)"])
        }
        if gone {
            stopped.set()
            logger.critical("sink endpoint is gone; this sink stops until the configuration is fixed and the forwarder restarted")
            return .stopped
        }
        return .progressed(events: records.count)
    }

    /// Moves the offset past events meant only for other sinks, so they can be pruned.
    private func passIdle(from offset: Int64, through head: Int64) throws {
        guard head > offset else { return }
        try store.commitDelivery(sink: name, through: head)
    }

    /// The one retry loop every sink shares. Returns what was rejected for good. Throws only
    /// when cancelled (the batch is abandoned; its offset did not move, so it is sent again later).
    private func deliverWithRetry(_ batch: [(record: SpoolRecord, event: EncodedEvent)]) async throws
        -> (deadLetters: [DeadLetterEntry], gone: Bool)
    {
        var pending = batch
        var deadLetters: [DeadLetterEntry] = []
        var attempts = 0
        while !pending.isEmpty {
            attempts += 1
            let outcome: SinkOutcome
            do {
                outcome = try await delivery.deliver(pending.map(\.event))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                outcome = .retry(after: nil, reason: String(describing: error))
            }
            let retryAfter: Duration?
            let reason: String
            switch outcome {
            case .delivered:
                return (deadLetters, false)
            case .rejected(let status, let why):
                deadLetters += pending.map { DeadLetterEntry(record: $0.record, status: status, reason: why) }
                return (deadLetters, false)
            case .gone(let status, let why):
                deadLetters += pending.map { DeadLetterEntry(record: $0.record, status: status, reason: why) }
                return (deadLetters, true)
            case .tooLarge(let why):
                // Over the sink's request limit: the halves go on their own (each with its own
                // retries); one event alone that is still too large can never be sent.
                guard pending.count > 1 else {
                    deadLetters += pending.map { DeadLetterEntry(record: $0.record, status: 413, reason: why) }
                    return (deadLetters, false)
                }
                let middle = pending.count / 2
                let first = try await deliverWithRetry(Array(pending[..<middle]))
                let second = try await deliverWithRetry(Array(pending[middle...]))
                return (deadLetters + first.deadLetters + second.deadLetters, first.gone || second.gone)
            case .partial(let retry, let rejected, let after):
                deadLetters += rejected.filter { pending.indices.contains($0.index) }.map {
                    DeadLetterEntry(record: pending[$0.index].record, status: $0.status, reason: $0.reason)
                }
                pending = retry.filter { pending.indices.contains($0) }.map { pending[$0] }
                if pending.isEmpty { return (deadLetters, false) }
                retryAfter = after
                reason = "\(pending.count) of the batch need another attempt"
            case .retry(let after, let why):
                retryAfter = after
                reason = why
            }
            try? store.recordSinkError(sink: name, error: reason)
            metrics.retries.increment()
            guard configuration.retry.allowsAnother(after: attempts) else {
                logger.error("retries exhausted", metadata: [LogKey.attempt: "\(attempts)", LogKey.error: "\(reason)"])
                deadLetters += pending.map {
                    DeadLetterEntry(record: $0.record, status: 0, reason: "retries exhausted after \(attempts) attempts: \(reason)")
                }
                return (deadLetters, false)
            }
            let delay = min(configuration.retry.delay(afterAttempts: attempts, retryAfter: retryAfter), .seconds(3600))
            logger.warning(
                "delivery failed, retrying",
                metadata: [
                    LogKey.error: "\(reason)", LogKey.attempt: "\(attempts)", LogKey.delay: "\(DurationText.format(delay))",
                    LogKey.events: "\(pending.count)",
                ])
            try await sleeper.sleep(for: delay)
        }
        return (deadLetters, false)
    }
}

/// A set-once flag readable from any thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    var value: Bool { lock.withLock { raised } }
    func set() { lock.withLock { raised = true } }
}
