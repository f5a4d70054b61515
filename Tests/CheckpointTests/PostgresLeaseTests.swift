import Foundation
import TestSupport
import Testing

@testable import Checkpoint

/// Leases with fencing, two agents on one database (each a store of its own, as two processes
/// would have): one owner per source, takeover only after expiry or release, and a change by an
/// agent whose lease was taken over rolled back.
@Suite struct PostgresLeaseTests {
    let location: PostgresLocation

    init() throws {
        location = try PostgresTestServer.shared.get().freshDatabase()
    }

    @Test func aHeldLeaseIsNotTakenUntilItRunsOutAndTakingRaisesTheEpoch() throws {
        let a = try PostgresStateStore(location: location)
        let b = try PostgresStateStore(location: location)
        #expect(try a.takeLeases(["s1", "s2"], agent: "a", ttl: .seconds(60)) == ["s1": 1, "s2": 1])
        #expect(try b.takeLeases(["s1", "s2", "s3"], agent: "b", ttl: .seconds(60)) == ["s3": 1])
        // While renewed, a keeps them.
        #expect(try a.renewLeases(ttl: .seconds(60)) == ["s1", "s2"])
        #expect(try b.takeLeases(["s1"], agent: "b", ttl: .seconds(60)).isEmpty)
        // Renewed for a short while only: once that runs out, b takes them, each at a higher epoch.
        #expect(try a.renewLeases(ttl: .milliseconds(300)) == ["s1", "s2"])
        Thread.sleep(forTimeInterval: 0.6)
        #expect(try b.takeLeases(["s1", "s2"], agent: "b", ttl: .seconds(60)) == ["s1": 2, "s2": 2])
        #expect(try a.renewLeases(ttl: .seconds(1)).isEmpty)
        #expect(a.heldLeases.isEmpty)
        let owners = try b.sourceLeases().map { "\($0.source):\($0.owner):\($0.epoch)" }
        #expect(owners == ["s1:b:2", "s2:b:2", "s3:b:1"])
    }

    /// An agent frozen past its lease wakes up and tries to write: the page, its dedupe keys
    /// and the cursor all roll back, and the rejection is counted.
    @Test func aChangeAfterATakeoverIsRolledBack() throws {
        let a = try PostgresStateStore(location: location)
        let b = try PostgresStateStore(location: location)
        try a.registerSinks(["out"])
        try a.takeLeases(["s"], agent: "a", ttl: .seconds(60))
        try a.appendPage(source: "s", entries: [entry(1)], cursor: "c1")
        try a.renewLeases(ttl: .milliseconds(300))
        Thread.sleep(forTimeInterval: 0.6)
        #expect(try b.takeLeases(["s"], agent: "b", ttl: .seconds(60)) == ["s": 2])

        let error = #expect(throws: PostgresStateError.self) { try a.appendPage(source: "s", entries: [entry(2)], cursor: "c2") }
        #expect(error?.isStaleEpoch == true, "\(String(describing: error))")
        #expect(throws: PostgresStateError.self) { try a.setCursor(source: "s", position: "c9") }
        // Both counted; the second was refused without a lease row to lock: s had been let go.
        #expect(a.staleEpochRejections == 2)
        #expect(try b.cursor(source: "s") == "c1")
        #expect(try b.spoolDepth() == 1)
        #expect(try b.seenUpstreamIDs(source: "s") == ["u1"])
        // The new owner goes on.
        try b.appendPage(source: "s", entries: [entry(2)], cursor: "c2")
        #expect(try b.readBatch(sink: "out", after: 0, limit: 10).map(\.eventID) == ["e1", "e2"])
    }

    @Test func aReleasedLeaseIsTakenAtOnce() throws {
        let a = try PostgresStateStore(location: location)
        let b = try PostgresStateStore(location: location)
        try a.takeLeases(["s1", "s2"], agent: "a", ttl: .seconds(60))
        try a.releaseLeases(["s1"])
        #expect(try b.takeLeases(["s1", "s2"], agent: "b", ttl: .seconds(60)) == ["s1": 2])
        #expect(a.heldLeases == ["s2": 1])
    }

    /// An operator's change to a source (`checkpoints set`) takes the source's lease: refused while
    /// an agent holds it; else done at a raised epoch, so the agent that held it before cannot
    /// write over it, and handed back at once.
    @Test func anOperatorsChangeTakesTheSourcesLease() throws {
        let a = try PostgresStateStore(location: location)
        let admin = try PostgresStateStore(location: location)
        try a.takeLeases(["s"], agent: "a", ttl: .seconds(60))
        let busy = #expect(throws: SourceBusyError.self) {
            try admin.changeAlone(source: "s", as: "admin:x") { try admin.setCursor(source: "s", position: "c1") }
        }
        #expect(busy?.owner == "a" && busy?.description.contains("leased to agent a") == true, "\(String(describing: busy))")
        #expect(try admin.cursor(source: "s") == nil)

        // a's lease runs out (a frozen agent); the change goes through.
        try a.renewLeases(ttl: .milliseconds(300))
        Thread.sleep(forTimeInterval: 0.6)
        let other = try PostgresStateStore(location: location)
        try other.changeAlone(source: "s", as: "admin:x") { try other.setCursor(source: "s", position: "c2") }
        #expect(try other.cursor(source: "s") == "c2")
        let lease = try #require(try other.sourceLeases().first)
        #expect(lease.owner == "admin:x" && lease.epoch == 2 && lease.expiresAt < Date())
        // a, still thinking it holds epoch 1, is refused.
        #expect(a.heldLeases == ["s": 1])
        #expect(throws: PostgresStateError.self) { try a.setCursor(source: "s", position: "stale") }
        #expect(try other.cursor(source: "s") == "c2")
    }

    /// Renewal costs one statement per agent, whatever the number of sources it holds.
    @Test func renewingAThousandLeasesIsOneStatement() throws {
        let a = try PostgresStateStore(location: location)
        let sources = (1...1000).map { "tenant-\($0)" }
        #expect(try a.takeLeases(sources, agent: "a", ttl: .seconds(60)).count == 1000)
        let before = a.statementsSent
        #expect(try a.renewLeases(ttl: .seconds(60)).count == 1000)
        #expect(a.statementsSent - before == 1)
    }
}

/// Delivery by source owners: two agents share one spool and one sink, each delivering only the
/// sources it holds, with offsets per sink and source.
extension PostgresLeaseTests {
    func page(_ source: String, _ ids: ClosedRange<Int>) -> [SpoolEntry] {
        ids.map { id in
            var e = entry(id)
            e.eventID = "\(source)-\(id)"
            return e
        }
    }

    @Test func eachAgentDeliversItsOwnSourcesAndATakeoverGoesOnFromTheSourcesOffset() throws {
        let a = try PostgresStateStore(location: location)
        let b = try PostgresStateStore(location: location)
        try a.registerSinks(["out"])
        try a.takeLeases(["s1"], agent: "a", ttl: .seconds(60))
        try b.takeLeases(["s2"], agent: "b", ttl: .seconds(60))
        // Interleaved in the spool.
        try a.appendPage(source: "s1", entries: page("s1", 1...3), cursor: "c")
        try b.appendPage(source: "s2", entries: page("s2", 1...3), cursor: "c")
        try a.appendPage(source: "s1", entries: page("s1", 4...6), cursor: "c")

        // a's round: only s1's events, in order; its commit moves only s1's offset.
        let aFrom = try a.offset(sink: "out")
        let aBatch = try a.nextBatch(sink: "out", after: aFrom, limit: 4)
        #expect(aBatch.records.map(\.eventID) == ["s1-1", "s1-2", "s1-3", "s1-4"])
        try a.commitDelivery(sink: "out", through: aBatch.passedThrough)
        #expect(try a.pendingSummary(sink: "out", after: aBatch.passedThrough, limit: 100).count == 2)

        // b's round sees s2 from its own offset (0), although a's offset passed s2's rows.
        let bFrom = try b.offset(sink: "out")
        let bBatch = try b.nextBatch(sink: "out", after: bFrom, limit: 100)
        #expect(bBatch.records.map(\.eventID) == ["s2-1", "s2-2", "s2-3"])
        try b.commitDelivery(sink: "out", through: bBatch.passedThrough)

        // a hands s1 back; b takes it over and goes on from s1's offset: s1-5 and s1-6, once.
        try a.releaseLeases()
        try b.takeLeases(["s1"], agent: "b", ttl: .seconds(60))
        let next = try b.nextBatch(sink: "out", after: try b.offset(sink: "out"), limit: 100)
        #expect(next.records.map(\.eventID) == ["s1-5", "s1-6"])
        try b.commitDelivery(sink: "out", through: next.passedThrough)
        #expect(try b.nextBatch(sink: "out", after: try b.offset(sink: "out"), limit: 100).records.isEmpty)

        // Everything every sink passed is pruned, by the owner of the events' sources.
        #expect(try b.prune(activeSinks: ["out"]) == 9)
        #expect(try b.spoolDepth() == 0)
    }

    /// A commit for a round whose source was taken over meanwhile moves nothing for that source:
    /// its new owner sends that batch again.
    @Test func aCommitAfterLosingTheSourceLeavesItsOffsetToTheNewOwner() throws {
        let a = try PostgresStateStore(location: location)
        let b = try PostgresStateStore(location: location)
        try a.registerSinks(["out"])
        try a.takeLeases(["s1"], agent: "a", ttl: .seconds(60))
        try a.appendPage(source: "s1", entries: page("s1", 1...3), cursor: "c")
        let batch = try a.nextBatch(sink: "out", after: try a.offset(sink: "out"), limit: 100)
        #expect(batch.records.count == 3)
        try a.renewLeases(ttl: .milliseconds(300))
        Thread.sleep(forTimeInterval: 0.6)
        try b.takeLeases(["s1"], agent: "b", ttl: .seconds(60))
        try a.commitDelivery(sink: "out", through: batch.passedThrough)
        #expect(a.heldLeases.isEmpty && a.staleEpochRejections == 1)
        let again = try b.nextBatch(sink: "out", after: try b.offset(sink: "out"), limit: 100)
        #expect(again.records.map(\.eventID) == ["s1-1", "s1-2", "s1-3"])
    }
}

/// Another writer of a source (a dead-letter replay, a backfill, on a connection of its own)
/// takes its sequence number before it commits. The owner's sink round must not move the offset
/// over it meanwhile, or that event would never be delivered.
extension PostgresLeaseTests {
    @Test func aSinkRoundWaitsForAnotherWriterOfItsSourceInsteadOfPassingItsEvent() throws {
        let a = try PostgresStateStore(location: location)
        try a.registerSinks(["out"])
        try a.takeLeases(["s"], agent: "a", ttl: .seconds(60))
        try a.appendPage(source: "s", entries: [entry(1)], cursor: "c1")

        // The other writer: its row for s takes a sequence number, and it does not commit yet.
        let other = try PostgresConnector(location: location)
        let committed = DispatchSemaphore(value: 0)
        let otherRow = try other.withSession { session -> Int64 in
            try session.execute("BEGIN")
            try PostgresStateStore.lockSpool(session, sources: ["s"])
            return try session.scalar(
                """
                INSERT INTO spool (source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at, only_sinks)
                VALUES ('s', 'replayed', 0, 't', 'info', 'a', 'success', '\\x7b7d', 0, ',out,') RETURNING seq
                """, as: Int64.self) ?? 0
        }
        DispatchQueue.global().async {
            Thread.sleep(forTimeInterval: 0.5)
            _ = try? other.withSession { try $0.execute("COMMIT") }
            committed.signal()
        }
        // The owner's next page: a higher sequence number, committed before the other writer's.
        let page = DispatchQueue(label: "page")
        page.async { _ = try? a.appendPage(source: "s", entries: [entry(2)], cursor: "c2") }

        var delivered: [String] = []
        for _ in 0..<3 {
            let batch = try a.nextBatch(sink: "out", after: try a.offset(sink: "out"), limit: 100)
            delivered += batch.records.map(\.eventID)
            try a.commitDelivery(sink: "out", through: batch.passedThrough)
            Thread.sleep(forTimeInterval: 0.3)
        }
        committed.wait()
        page.sync {}
        let last = try a.nextBatch(sink: "out", after: try a.offset(sink: "out"), limit: 100)
        delivered += last.records.map(\.eventID)
        #expect(otherRow > 1)
        #expect(Set(delivered) == ["e1", "e2", "replayed"], "\(delivered)")
        other.close()
    }
}

extension PostgresLeaseTests {
    /// The spool's depth, which pauses polling when full, counts only the agent's own sources:
    /// rows of a source no agent holds (removed from the configuration) must not pin it.
    @Test func anAgentsSpoolDepthCountsOnlyItsOwnSources() throws {
        let a = try PostgresStateStore(location: location)
        try a.registerSinks(["out"])
        try a.takeLeases(["gone", "s"], agent: "a", ttl: .seconds(60))
        try a.appendPage(source: "gone", entries: page("gone", 1...5), cursor: "c")
        try a.releaseLeases(["gone"])
        try a.appendPage(source: "s", entries: page("s", 1...3), cursor: "c")
        #expect(try a.spoolDepth() == 3)
        // Full at 3 of its own; the spool's range (8) above the limit does not make it full.
        #expect(try a.spoolIsFull(limit: 3))
        #expect(try !a.spoolIsFull(limit: 4))
        #expect(try !a.spoolIsFull(limit: 100))
        let plain = try PostgresStateStore(location: location)
        #expect(try plain.spoolIsFull(limit: 8))
        #expect(try !plain.spoolIsFull(limit: 9))
    }
}
