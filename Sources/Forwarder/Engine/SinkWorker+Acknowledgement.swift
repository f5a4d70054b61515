import Checkpoint
import Connectors
import Foundation
import Logging

extension SinkWorker {
    /// One step of an acknowledging sink: when the interval has come, ask about every pending
    /// ackId at once and send expired ones again; move the offset through the settled prefix;
    /// then, while the window has room, read and send the next batch. `.progressed` means the
    /// offset moved or a batch went out.
    func stepAcknowledged(_ acknowledging: any AcknowledgingDelivery, flushNow: Bool, now: Date) async throws -> Step {
        guard let settings = acknowledging.acknowledgement else { return .idle }
        if acknowledgementWindow.withLock({ $0.queryDue(now: clock.now) }) {
            try await pollAcknowledgementsAndResendExpired(acknowledging, settings: settings)
        }
        let committed = try commitSettled()
        let untilQuery = acknowledgementWindow.withLock { $0.nextQuery }.map { max(.zero, $0 - clock.now) } ?? .milliseconds(20)
        let progress: Step = committed > 0 ? .progressed(events: committed) : .waiting(for: untilQuery)
        let (room, readFrom, inFlight) = acknowledgementWindow.withLock { ($0.hasRoom, $0.readFrom, !$0.isEmpty) }
        guard room else { return progress }
        let offset = try readFrom ?? store.offset(sink: name)
        let batch: SpoolBatch
        switch try read(after: offset, flushNow: flushNow, now: now) {
        case .nothing(let head):
            guard !inFlight else { return progress }
            try passIdle(from: offset, through: head)
            return committed > 0 ? progress : .idle
        case .notYet(let wait):
            return committed > 0 ? progress : .waiting(for: inFlight ? min(wait, untilQuery) : wait)
        case .batch(let read):
            batch = read
        }
        var prepared = prepare(batch.records)
        // Sealed from the committed heads: `integrity` allows one batch in flight (the reader checks).
        let chainHeads = try seal(&prepared.selected)
        let result = prepared.selected.isEmpty ? DeliveryResult() : try await deliverWithRetry(prepared.selected)
        let sent = AcknowledgementWindow.Batch(
            passedThrough: batch.passedThrough, deadLetters: prepared.deadLetters + result.deadLetters,
            awaiting: result.awaiting, records: batch.records.count, matched: prepared.matched, chainHeads: chainHeads)
        acknowledgementWindow.withLock { $0.append(sent, now: clock.now, queryInterval: settings.queryInterval) }
        if result.gone {
            // What is in flight is not committed: it is sent again when the sink runs next.
            stopGone()
            return .stopped
        }
        _ = try commitSettled()
        return .progressed(events: batch.records.count)
    }

    /// Batches sent and not yet committed (an orderly stop waits for them within its grace period).
    var hasUnacknowledged: Bool { acknowledgementWindow.withLock { !$0.isEmpty } }

    /// Asks about every pending ackId in one query, then sends again what stayed unindexed past
    /// `ack_timeout` or whose ackId Splunk handed out again (at least once: Splunk may have indexed
    /// it after all). A send counts as an attempt against `retry.max_attempts`.
    private func pollAcknowledgementsAndResendExpired(
        _ acknowledging: any AcknowledgingDelivery, settings: SinkConfiguration.Acknowledgement
    ) async throws {
        let ids = acknowledgementWindow.withLock { $0.awaitedIDs }
        if !ids.isEmpty {
            do {
                let indexed = try await acknowledging.indexed(ids)
                acknowledgementWindow.withLock { $0.markIndexed(indexed) }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Asked again at the next interval; ack_timeout still bounds how long a send waits.
                try? store.recordSinkError(sink: name, error: String(describing: error))
                logger.warning("ack query failed", metadata: [LogKey.error: "\(error)"])
            }
        }
        let expired = acknowledgementWindow.withLock { $0.takeExpired(now: clock.now, timeout: settings.timeout) }
        for (batch, awaited) in expired {
            let reason =
                awaited.superseded
                ? "Splunk handed out ackId \(awaited.ackID) again (its ack channel was reset)"
                : "Splunk ackId \(awaited.ackID) not acknowledged within ack_timeout \(DurationText.format(settings.timeout))"
            try? store.recordSinkError(sink: name, error: reason)
            metrics.retries.increment()
            guard configuration.retry.allowsAnother(after: awaited.sends) else {
                logger.error("retries exhausted", metadata: [LogKey.attempt: "\(awaited.sends)", LogKey.error: "\(reason)"])
                let letters = awaited.items.map {
                    DeadLetterEntry(record: $0.record, status: 0, reason: "retries exhausted after \(awaited.sends) sends: \(reason)")
                }
                acknowledgementWindow.withLock { $0.restore([], deadLetters: letters, toBatch: batch) }
                continue
            }
            logger.warning("sending unacknowledged events again", metadata: [LogKey.error: "\(reason)", LogKey.events: "\(awaited.items.count)"])
            do {
                var result = try await deliverWithRetry(awaited.items)
                for index in result.awaiting.indices { result.awaiting[index].sends = awaited.sends + 1 }
                acknowledgementWindow.withLock { $0.add(awaiting: result.awaiting, deadLetters: result.deadLetters, toBatch: batch) }
                if result.gone { stopGone() }
            } catch {
                // Not resent (cancelled): back into its batch, which must not settle without it.
                acknowledgementWindow.withLock { $0.restore([awaited], toBatch: batch) }
                throw error
            }
        }
        acknowledgementWindow.withLock { $0.nextQuery = clock.now + settings.queryInterval }
    }

    /// Commits the offset through the leading batches whose every send is indexed, with their
    /// dead letters. Returns how many spool rows that passed.
    private func commitSettled() throws -> Int {
        let settled = acknowledgementWindow.withLock { Array($0.settled) }
        guard let last = settled.last else { return 0 }
        let deadLetters = try withPayloads(settled.flatMap(\.deadLetters))
        try store.commitDelivery(sink: name, through: last.passedThrough, deadLetters: deadLetters, chainHeads: settled.flatMap(\.chainHeads))
        // Dropped only once committed: a failed commit (a full disk) is tried again next step.
        acknowledgementWindow.withLock { $0.dropSettled(settled.count) }
        let records = settled.reduce(0) { $0 + $1.records }
        recordCommitted(records: records, matched: settled.reduce(0) { $0 + $1.matched }, deadLetters: deadLetters)
        return records
    }
}
