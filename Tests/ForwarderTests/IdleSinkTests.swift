import Checkpoint
import Foundation
import Testing

@testable import Forwarder

/// Work that found nothing to do skips its reads while this process's store has changed nothing:
/// a sink until the store adds events or `nothingNewRecheck` passes (what another process adds,
/// e.g. `deadletters replay`); the periodic prune until an offset moves or events are added.
@Suite(.awaitedTeardown, .serialized) struct IdleSinkTests {
    @Test func anIdleSinkReadsAgainWhenTheStoreAddsOrARecheckIsDue() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(3)
        let clock = VirtualClock()
        let engine = try harness.engine(try harness.configuration(), clock: clock)
        let archive = try #require(engine.workers.first { $0.name == "archive" })
        try await engine.pollers[0].poll()
        let spooled = try engine.store.readBatch(sink: "archive", after: 0, limit: 10)
        #expect(spooled.count == 3)
        #expect(try await archive.step(flushNow: true) == .progressed(events: 3))
        #expect(try await archive.step(flushNow: true) == .idle)

        // Added behind this process's store (as another process would): not seen at once...
        let elsewhere = try StateStore(path: harness.statePath)
        try elsewhere.appendPage(source: "deploys", entries: [copy(of: spooled[0], as: "other-1")], cursor: nil)
        #expect(try await archive.step(flushNow: true) == .idle)
        #expect(try harness.fileEventIDs().count == 3)
        // ...but once the recheck is due.
        clock.advance(by: SinkWorker.nothingNewRecheck)
        #expect(try await archive.step(flushNow: true) == .progressed(events: 1))
        #expect(try await archive.step(flushNow: true) == .idle)

        // Added through the engine's store: sent at the next step, without waiting for a recheck.
        try engine.store.appendPage(source: "deploys", entries: [copy(of: spooled[1], as: "other-2")], cursor: nil)
        #expect(try await archive.step(flushNow: true) == .progressed(events: 1))
        #expect(try harness.fileEventIDs().count == 5)

        // An append that adds nothing (a duplicate, or only a cursor) is no reason to read: an
        // event added behind the store meanwhile waits for the recheck.
        #expect(try await archive.step(flushNow: true) == .idle)
        try elsewhere.appendPage(source: "deploys", entries: [copy(of: spooled[2], as: "other-3")], cursor: nil)
        try engine.store.appendPage(source: "deploys", entries: [copy(of: spooled[1], as: "other-2")], cursor: "c")
        #expect(try await archive.step(flushNow: true) == .idle)
        #expect(try harness.fileEventIDs().count == 5)
        clock.advance(by: SinkWorker.nothingNewRecheck)
        #expect(try await archive.step(flushNow: true) == .progressed(events: 1))
        await engine.shutdown()
    }

    @Test func thePruneRunsAgainOnlyAfterTheStoreChangedTheSpool() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(3)
        let engine = try harness.engine(try harness.configuration())
        try await engine.pollers[0].poll()
        let head = try engine.store.headSeq()
        engine.maintain()
        #expect(try engine.store.spoolDepth() == 3)

        // Both sinks passed everything, but through another store: this engine's prune skips.
        let elsewhere = try StateStore(path: harness.statePath)
        for sink in ["hook", "archive"] { try elsewhere.commitDelivery(sink: sink, through: head) }
        engine.maintain()
        #expect(try engine.store.spoolDepth() == 3)
        // Any offset this store moves (here: one already there) makes the next prune run.
        try engine.store.commitDelivery(sink: "hook", through: head)
        engine.maintain()
        #expect(try engine.store.spoolDepth() == 0)
        await engine.shutdown()
    }

    /// The same event under another upstream id, so the dedupe index lets it in again.
    private func copy(of record: SpoolRecord, as upstreamID: String) -> SpoolEntry {
        SpoolEntry(
            upstreamID: upstreamID, eventID: record.eventID + "-" + upstreamID, eventTime: record.eventTime, eventType: record.eventType,
            severity: record.severity, action: record.action, outcome: record.outcome, payload: record.payload)
    }
}
