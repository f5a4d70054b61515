import Checkpoint
import Connectors
import Foundation
import Logging

extension SinkWorker {
    /// One step of an acknowledging sink: when the interval has come, ask about every pending
    /// ackId at once and send expired batches again; move the offset through the settled prefix;
    /// then, while the window has room, read and send the next batch.
    func stepAcknowledged(_ acknowledging: any AcknowledgingDelivery, flushNow: Bool, now: Date) async throws -> Step {
        guard let settings = acknowledging.acknowledgement else { return .idle }
        if acknowledgementWindow.withLock({ !$0.awaitedIDs.isEmpty && now >= $0.nextQuery }) {
            try await queryAcknowledgements(acknowledging, settings: settings, now: now)
        }
        let committed = try commitSettled()
        let progress: Step = committed > 0 ? .progressed(events: committed) : .waiting
        let (room, readFrom, inFlight) = acknowledgementWindow.withLock { ($0.hasRoom, $0.readFrom, !$0.isEmpty) }
        guard room else { return progress }
        let offset = try readFrom ?? store.offset(sink: name)
        let batch: SpoolBatch
        switch try read(after: offset, flushNow: flushNow, now: now) {
        case .nothing(let head):
            guard !inFlight else { return progress }
            try passIdle(from: offset, through: head)
            return committed > 0 ? progress : .idle
        case .notYet:
            return progress
        case .batch(let read):
            batch = read
        }
        let prepared = prepare(batch.records)
        let result = prepared.selected.isEmpty ? DeliveryResult() : try await deliverWithRetry(prepared.selected)
        let sent = AcknowledgementWindow.Batch(
            passedThrough: batch.passedThrough, deadLetters: prepared.deadLetters + result.deadLetters,
            awaiting: result.awaiting, records: batch.records.count, matched: prepared.matched)
        acknowledgementWindow.withLock { $0.append(sent, now: Date(), queryInterval: settings.queryInterval) }
        if result.gone {
            // What is in flight is not committed: it is sent again when the sink runs next.
            stopGone()
            return .stopped
        }
        _ = try commitSettled()
        return .progressed(events: batch.records.count)
    }

    /// Batches sent and not yet all indexed (an orderly stop waits for them within its grace period).
    var hasUnacknowledged: Bool { acknowledgementWindow.withLock { !$0.isEmpty } }

    /// Asks about every pending ackId in one query, then sends again what stayed unindexed past
    /// `ack_timeout` (at least once: Splunk may have indexed it after all).
    private func queryAcknowledgements(
        _ acknowledging: any AcknowledgingDelivery, settings: SinkConfiguration.Acknowledgement, now: Date
    ) async throws {
        let ids = acknowledgementWindow.withLock { $0.awaitedIDs }
        do {
            let indexed = try await acknowledging.indexed(ids)
            acknowledgementWindow.withLock { $0.markIndexed(indexed) }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Asked again at the next interval; ack_timeout still bounds how long a batch waits.
            try? store.recordSinkError(sink: name, error: String(describing: error))
            logger.warning("ack query failed", metadata: [LogKey.error: "\(error)"])
        }
        let expired = acknowledgementWindow.withLock { $0.takeExpired(now: now, timeout: settings.timeout) }
        for (batch, awaited) in expired {
            logger.warning(
                "Splunk ackId not acknowledged within ack_timeout; sending its events again",
                metadata: [LogKey.ackID: "\(awaited.ackID)", LogKey.events: "\(awaited.items.count)"])
            metrics.retries.increment()
            let result = try await deliverWithRetry(awaited.items)
            acknowledgementWindow.withLock { $0.add(awaiting: result.awaiting, deadLetters: result.deadLetters, toBatch: batch) }
        }
        acknowledgementWindow.withLock { $0.nextQuery = Date().addingTimeInterval(settings.queryInterval.seconds) }
    }

    /// Commits the offset through the leading batches whose every send is indexed, with their
    /// dead letters. Returns how many spool rows that passed.
    private func commitSettled() throws -> Int {
        let settled = acknowledgementWindow.withLock { Array($0.settled) }
        guard let last = settled.last else { return 0 }
        let deadLetters = settled.flatMap(\.deadLetters)
        try store.commitDelivery(sink: name, through: last.passedThrough, deadLetters: deadLetters)
        // Dropped only once committed: a failed commit (a full disk) is tried again next step.
        acknowledgementWindow.withLock { $0.dropSettled(settled.count) }
        let records = settled.reduce(0) { $0 + $1.records }
        recordCommitted(records: records, matched: settled.reduce(0) { $0 + $1.matched }, deadLetters: deadLetters)
        return records
    }
}
