import Checkpoint
import Connectors
import Foundation
import Logging
import Synchronization

/// Moves one sink's offset through the spool: read a batch, filter, encode, deliver with the
/// shared retry loop, then dead letters and the new offset in one transaction. A sink with
/// indexer acknowledgement keeps several batches in flight (`SinkWorker+Acknowledgement`).
final class SinkWorker: Sendable {
    let configuration: SinkConfiguration
    let store: any StateBackend
    let delivery: any SinkDelivery
    let encoder: EventEncoder
    let clock: EngineClock
    let logger: Logger
    let metrics: SinkMetrics
    let stopped = Flag()
    private let warnedMissingAck = Flag()
    /// Set when the sink acknowledges asynchronously (Splunk `acknowledgements: true`).
    let acknowledging: (any AcknowledgingDelivery)?
    let acknowledgementWindow: Mutex<AcknowledgementWindow>
    /// Events this worker delivered since it started (`once` reports it).
    let deliveredCount = Mutex(0)
    /// How many batches go out at once (`max_in_flight` the ceiling).
    let concurrency: Mutex<ConcurrencyLimit>
    /// When this worker last found nothing to send, and the store's additions then (see `step`).
    private let foundNothing = Mutex<(additions: UInt64, at: EngineClock.Instant)?>(nil)
    /// How long a worker that found nothing trusts the store's count of additions before it reads
    /// the spool anyway, for what other processes add (`deadletters replay`).
    static let nothingNewRecheck: Duration = .seconds(1)

    enum Step: Equatable {
        /// Nothing to send right now.
        case idle
        /// A partial batch waits for more events until `flush_interval` has passed, or sent
        /// batches wait for their acks: the next step has something to do `for` from now on (on
        /// the worker's clock), unless more events arrive first.
        case waiting(for: Duration)
        /// The offset moved (or, with acknowledgement, a batch went out to await its ack).
        case progressed(events: Int)
        /// The sink is gone (webhook 410); it sends nothing more until restarted.
        case stopped
    }

    init(configuration: SinkConfiguration, store: any StateBackend, delivery: any SinkDelivery, clock: EngineClock, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.delivery = delivery
        self.encoder = EventEncoder(encoding: configuration.encoding, redact: configuration.redact)
        self.clock = clock
        var logger = logger
        logger[metadataKey: LogKey.sink] = .string(configuration.name)
        self.logger = logger
        metrics = SinkMetrics(sink: configuration.name)
        acknowledgementWindow = Mutex(AcknowledgementWindow(capacity: configuration.acknowledgement?.maxInFlight ?? 1))
        concurrency = Mutex(ConcurrencyLimit(ceiling: configuration.maxInFlight))
        acknowledging = delivery.acknowledgingDelivery
    }

    var name: String { configuration.name }
    var isStopped: Bool { stopped.value }

    /// Handles the next batch. `flushNow` sends a partial batch without waiting for `flush_interval`.
    func step(flushNow: Bool, now: Date? = nil) async throws -> Step {
        let now = now ?? clock.wallNow
        if stopped.value { return .stopped }
        if let acknowledging { return try await stepAcknowledged(acknowledging, flushNow: flushNow, now: now) }
        // Read before the spool is: an append that commits after the reads below counts after it.
        let additions = store.localSpoolActivity?.additions
        if let additions, nothingAddedSinceFoundNothing(additions) { return .idle }
        let offset = try store.offset(sink: name)
        // Up to the concurrency limit of consecutive batches (and `maxBytesInFlight` of their
        // events), sent at once; the offset moves through all of them in one commit once every
        // one is settled.
        let limit = concurrency.withLock { $0.current }
        var batches: [SpoolBatch] = []
        var bytes = 0
        var readFrom = offset
        gathering: while batches.count < limit, bytes < configuration.maxBytesInFlight {
            switch try read(after: readFrom, flushNow: flushNow, now: now) {
            case .nothing(let head):
                guard batches.isEmpty else { break gathering }
                try passIdle(from: offset, through: head)
                if let additions { foundNothing.withLock { $0 = (additions, clock.now) } }
                return .idle
            case .notYet(let wait):
                guard batches.isEmpty else { break gathering }
                return .waiting(for: wait)
            case .batch(let read):
                batches.append(read)
                bytes += read.records.reduce(0) { $0 + $1.payload.count }
                readFrom = read.passedThrough
            }
        }
        var heads = configuration.integrity == nil ? [:] : try store.chainHeads(sink: name)
        var sealedSources: Set<String> = []
        var prepared = batches.map { prepare($0.records) }
        let through = batches[batches.count - 1].passedThrough
        let records = batches.reduce(0) { $0 + $1.records.count }
        // From here on the events live only in their encoding (see `prepare`).
        batches = []
        for index in prepared.indices {
            sealedSources.formUnion(try seal(&prepared[index].selected, heads: &heads))
        }
        let results = try await deliverConcurrently(prepared.map(\.selected))
        let deadLetters = try withPayloads(zip(prepared, results).flatMap { $0.deadLetters + $1.deadLetters })
        try store.commitDelivery(
            sink: name, through: through, deadLetters: deadLetters,
            chainHeads: sealedSources.sorted().compactMap { heads[$0] })
        recordCommitted(records: records, matched: prepared.reduce(0) { $0 + $1.matched }, deadLetters: deadLetters)
        if results.contains(where: \.gone) {
            stopGone()
            return .stopped
        }
        return .progressed(events: records)
    }

    /// Whether this worker found nothing to send less than `nothingNewRecheck` ago and the store
    /// has added nothing since: then the spool has nothing new for it either, and an idle sink
    /// skips its two reads (with 1,000 idle sources, each append only moves a cursor, and every
    /// read after a write reloads the reader's pages).
    private func nothingAddedSinceFoundNothing(_ additions: UInt64) -> Bool {
        let now = clock.now
        return foundNothing.withLock { last in
            guard let found = last, found.additions == additions, now - found.at < Self.nothingNewRecheck else {
                last = nil
                return false
            }
            return true
        }
    }

    /// Sends each batch through the retry loop, all at once, and adapts the concurrency limit to
    /// how the sink answered. Results are in the batches' order.
    private func deliverConcurrently(_ batches: [[AcknowledgementWindow.Item]]) async throws -> [DeliveryResult] {
        let started = clock.now
        var results = Array(repeating: DeliveryResult(), count: batches.count)
        var slowest = Duration.zero
        if batches.count == 1 {
            if !batches[0].isEmpty { results[0] = try await deliverWithRetry(batches[0]) }
            slowest = clock.now - started
        } else {
            try await withThrowingTaskGroup(of: (Int, DeliveryResult, Duration).self) { group in
                for (index, batch) in batches.enumerated() where !batch.isEmpty {
                    group.addTask { (index, try await self.deliverWithRetry(batch), self.clock.now - started) }
                }
                for try await (index, result, took) in group {
                    results[index] = result
                    slowest = max(slowest, took)
                }
            }
        }
        guard concurrency.withLock({ $0.ceiling }) > 1, batches.contains(where: { !$0.isEmpty }) else { return results }
        let seconds = Double(slowest.components.seconds) + Double(slowest.components.attoseconds) / 1e18
        let limit = concurrency.withLock {
            $0.record(batches: batches.count, latency: seconds, backPressure: results.contains(where: \.retried))
            return $0.current
        }
        metrics.inFlightLimit.record(limit)
        return results
    }

    enum Read {
        /// Nothing waits for this sink; its offset may move to `head` (rows for other sinks only).
        case nothing(head: Int64)
        /// A partial batch waits for more events until `flush_interval` has passed, `for` this long.
        case notYet(for: Duration)
        case batch(SpoolBatch)
    }

    /// The next batch after `offset`, unless it is partial and young (and `flushNow` is false).
    func read(after offset: Int64, flushNow: Bool, now: Date) throws -> Read {
        if !flushNow {
            // Decide on a partial batch from a payload-free count: re-reading it while it waits
            // for flush_interval was most of the forwarder's I/O.
            let pending = try store.pendingSummary(sink: name, after: offset, limit: configuration.batchSize)
            guard pending.count > 0, let oldest = pending.oldestSpooledAt else { return .nothing(head: pending.idleThrough) }
            let age = now.timeIntervalSince(oldest)
            if pending.count < configuration.batchSize, age < configuration.flushInterval.seconds {
                return .notYet(for: configuration.flushInterval - .milliseconds(Int64(age * 1000)))
            }
        }
        let batch = try store.nextBatch(
            sink: name, after: offset, limit: configuration.batchSize, maxBytes: configuration.maxBatchBytes)
        return batch.records.isEmpty ? .nothing(head: batch.passedThrough) : .batch(batch)
    }

    /// Filters and encodes a batch; what cannot be encoded or may not be sent is dead-lettered.
    func prepare(_ records: [SpoolRecord]) -> (selected: [AcknowledgementWindow.Item], deadLetters: [DeadLetterEntry], matched: Int) {
        var deadLetters: [DeadLetterEntry] = []
        var selected: [AcknowledgementWindow.Item] = []
        var matched = 0
        for record in records where configuration.filters.matches(record) {
            matched += 1
            do {
                let event = try encoder.encode(record)
                if let refusal = delivery.preflight(event) {
                    deadLetters.append(.init(record: record, status: 413, reason: refusal))
                } else {
                    // The payload is let go once encoded: batches in flight held each event three
                    // times (payload, encoding, request body). A dead letter reads it back.
                    var sent = record
                    sent.payload = Data()
                    selected.append((sent, event))
                }
            } catch {
                deadLetters.append(.init(record: record, status: 0, reason: "cannot encode: \(error)"))
            }
        }
        return (selected, deadLetters, matched)
    }

    /// `letters` with each payload `prepare` let go read back from the spool, in one read of the
    /// span they lie in: the offset has not moved past them, so the spool still holds them. On a
    /// shared PostgreSQL state a source whose lease was lost during the round may have been
    /// delivered and pruned by its new owner; its letters are left out (the commit drops a lost
    /// source's letters anyway), so the round still commits for the sources still held.
    func withPayloads(_ letters: [DeadLetterEntry]) throws -> [DeadLetterEntry] {
        let stripped = letters.filter(\.record.payload.isEmpty).map(\.record.seq)
        guard let first = stripped.min(), let last = stripped.max() else { return letters }
        let span = Int(clamping: last - first + 1)
        let spooled = try store.nextBatch(sink: name, after: first - 1, limit: span).records
        let payloads = Dictionary(spooled.map { ($0.seq, $0.payload) }, uniquingKeysWith: { first, _ in first })
        return letters.compactMap { letter in
            guard letter.record.payload.isEmpty else { return letter }
            guard let payload = payloads[letter.record.seq] else {
                logger.warning(
                    "a dead letter's event is no longer in the spool (its source moved to another agent); not written",
                    metadata: [LogKey.source: .string(letter.record.source), "seq": "\(letter.record.seq)"])
                return nil
            }
            var letter = letter
            letter.record.payload = payload
            return letter
        }
    }

    /// Links the events about to be sent into the sink's integrity chains (`integrity`), from the
    /// committed heads (one batch: `SinkWorker+Acknowledgement`). Returns the heads to commit.
    func seal(_ items: inout [AcknowledgementWindow.Item]) throws -> [ChainHead] {
        guard configuration.integrity != nil, !items.isEmpty else { return [] }
        var heads = try store.chainHeads(sink: name)
        return try seal(&items, heads: &heads).sorted().compactMap { heads[$0] }
    }

    /// Links the events about to be sent into the sink's integrity chains (`integrity`): from
    /// `heads`, per source, each event's sequence number, previous hash and hash; the last event
    /// of each chain in the batch is signed. `heads` moves past the batch (the next batch of a
    /// round chains onto it); returns the sources it touched. Sealed again from the same
    /// committed heads, a resent batch carries the same values.
    func seal(_ items: inout [AcknowledgementWindow.Item], heads: inout [String: ChainHead]) throws -> Set<String> {
        guard let signer = configuration.integrity, !items.isEmpty else { return [] }
        var links: [IntegrityChain.Link] = []
        var values: [JSONValue] = []
        var lastOfSource: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let source = item.record.source
            let head = heads[source]
            // The event's own bytes are hashed (see `IntegrityChain`); OCSF's are parsed too, only
            // to place the link inside `unmapped`.
            let canonical = item.event.body
            let value = configuration.encoding == .ocsf ? try JSONValue.parse(item.event.body) : JSONValue.null
            let previous = head?.hash ?? IntegrityChain.genesis
            let link = IntegrityChain.Link(
                sink: name, source: source, seq: (head?.seq ?? 0) + 1, previous: previous,
                hash: IntegrityChain.hash(previous: previous, canonical: canonical))
            heads[source] = ChainHead(source: source, seq: link.seq, hash: link.hash)
            links.append(link)
            values.append(value)
            lastOfSource[source] = index
        }
        for index in lastOfSource.values {
            let link = links[index]
            links[index].signature = signer.sign(IntegrityChain.signedMessage(sink: name, source: link.source, seq: link.seq, hash: link.hash))
            links[index].keyID = signer.keyID
        }
        let ocsf = configuration.encoding == .ocsf
        for index in items.indices {
            items[index].event.body = IntegrityChain.attach(links[index], to: items[index].event.body, parsed: values[index], ocsf: ocsf)
            items[index].event.integrity = links[index]
        }
        return Set(lastOfSource.keys)
    }

    func recordCommitted(records: Int, matched: Int, deadLetters: [DeadLetterEntry]) {
        metrics.filtered.increment(by: records - matched)
        metrics.delivered.increment(by: matched - deadLetters.count)
        deliveredCount.withLock { $0 += matched - deadLetters.count }
        metrics.deadLettered.increment(by: deadLetters.count)
        if matched > deadLetters.count { metrics.lastSuccess.record(clock.wallNow.timeIntervalSince1970) }
        if !deadLetters.isEmpty {
            logger.error("events dead-lettered", metadata: [LogKey.deadLetters: "\(deadLetters.count)", LogKey.error: "\(deadLetters[0].reason)"])
        }
    }

    /// Said once per worker: acknowledgement was asked for, and Splunk does not give it.
    func noteMissingAck() {
        guard !warnedMissingAck.value else { return }
        warnedMissingAck.set()
        let reason =
            "Splunk accepted a batch without an ackId: indexer acknowledgement is off for this token (or a proxy drops it); accepted batches count as delivered. Turn acknowledgement on for the token, or set acknowledgements: false"
        try? store.recordSinkError(sink: name, error: reason)
        logger.error("\(reason)")
    }

    /// Called after the batch's commit, which clears `last_error`: the stop is recorded for
    /// `status` and `/readyz` (the spool keeps this sink's events until it runs again).
    func stopGone() {
        stopped.set()
        let reason = "sink endpoint is gone; this sink stops until the configuration is fixed and the forwarder restarted"
        try? store.recordSinkError(sink: name, error: reason)
        logger.critical("\(reason)")
    }

    /// Moves the offset past events meant only for other sinks, so they can be pruned.
    func passIdle(from offset: Int64, through head: Int64) throws {
        guard head > offset else { return }
        try store.commitDelivery(sink: name, through: head)
    }

    /// What one trip through the retry loop left: events rejected for good, whether the endpoint
    /// is gone, and (acknowledging sinks) the accepted sends whose ackIds are still to be asked.
    struct DeliveryResult {
        var deadLetters: [DeadLetterEntry] = []
        var gone = false
        var awaiting: [AcknowledgementWindow.Awaited] = []
        /// Some attempt was answered with a retryable failure (back-pressure for `ConcurrencyLimit`).
        var retried = false

        static func + (lhs: Self, rhs: Self) -> Self {
            Self(
                deadLetters: lhs.deadLetters + rhs.deadLetters, gone: lhs.gone || rhs.gone, awaiting: lhs.awaiting + rhs.awaiting,
                retried: lhs.retried || rhs.retried)
        }
    }

    /// The one retry loop every sink shares. Throws only when cancelled (the batch is abandoned;
    /// its offset did not move, so it is sent again later).
    func deliverWithRetry(_ batch: [AcknowledgementWindow.Item]) async throws -> DeliveryResult {
        var pending = batch
        var result = DeliveryResult()
        var attempts = 0
        while !pending.isEmpty {
            attempts += 1
            let outcome: SinkOutcome
            var ackID: Int?
            do {
                if let acknowledging {
                    (outcome, ackID) = try await acknowledging.submit(pending.map(\.event))
                } else {
                    outcome = try await delivery.deliver(pending.map(\.event))
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                outcome = .retry(after: nil, reason: String(describing: error))
            }
            let retryAfter: Duration?
            let reason: String
            switch outcome {
            case .delivered:
                if let ackID {
                    result.awaiting.append(.init(ackID: ackID, items: pending, sentAt: clock.now))
                } else if acknowledging != nil {
                    noteMissingAck()
                }
                return result
            case .rejected(let status, let why):
                result.deadLetters += pending.map { DeadLetterEntry(record: $0.record, status: status, reason: why) }
                return result
            case .gone(let status, let why):
                result.deadLetters += pending.map { DeadLetterEntry(record: $0.record, status: status, reason: why) }
                result.gone = true
                return result
            case .tooLarge(let why):
                // Over the sink's request limit: the halves go on their own (each with its own
                // retries); one event alone that is still too large can never be sent.
                guard pending.count > 1 else {
                    result.deadLetters += pending.map { DeadLetterEntry(record: $0.record, status: 413, reason: why) }
                    return result
                }
                let middle = pending.count / 2
                let first = try await deliverWithRetry(Array(pending[..<middle]))
                let second = try await deliverWithRetry(Array(pending[middle...]))
                return result + first + second
            case .partial(let retry, let rejected, let after):
                result.deadLetters += rejected.filter { pending.indices.contains($0.index) }.map {
                    DeadLetterEntry(record: pending[$0.index].record, status: $0.status, reason: $0.reason)
                }
                // With indexer acknowledgement, what the answer counts as accepted has no ackId to
                // prove it indexed: it goes again with the retried events (at least once).
                let rejectedIndices = Set(rejected.map(\.index))
                let again = acknowledging == nil ? retry : pending.indices.filter { !rejectedIndices.contains($0) }
                pending = again.filter { pending.indices.contains($0) }.map { pending[$0] }
                if pending.isEmpty { return result }
                retryAfter = after
                reason = "\(pending.count) of the batch need another attempt"
            case .retry(let after, let why):
                retryAfter = after
                reason = why
            }
            try? store.recordSinkError(sink: name, error: reason)
            metrics.retries.increment()
            result.retried = true
            guard configuration.retry.allowsAnother(after: attempts) else {
                logger.error("retries exhausted", metadata: [LogKey.attempt: "\(attempts)", LogKey.error: "\(reason)"])
                result.deadLetters += pending.map {
                    DeadLetterEntry(record: $0.record, status: 0, reason: "retries exhausted after \(attempts) attempts: \(reason)")
                }
                return result
            }
            let delay = min(configuration.retry.delay(afterAttempts: attempts, retryAfter: retryAfter), .seconds(3600))
            logger.warning(
                "delivery failed, retrying",
                metadata: [
                    LogKey.error: "\(reason)", LogKey.attempt: "\(attempts)", LogKey.delay: "\(DurationText.format(delay))",
                    LogKey.events: "\(pending.count)",
                ])
            try await clock.sleep(for: delay)
        }
        return result
    }
}
