import Foundation
import GRDB
import TestSupport
import Testing

@testable import Checkpoint

/// A page's events share one spool row (`v9-spool-runs`); sinks still read, and the spool still
/// prunes, one event at a time.
@Suite struct SpoolRunTests {
    static func rowCount(_ store: StateStore) throws -> Int {
        try store.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM spool") ?? -1 }
    }

    @Test func aPageIsOneRowAndIsReadBackEventByEvent() throws {
        let store = try StateStore(path: temporaryStatePath())
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(1...5), cursor: "c1")
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(6...7), cursor: "c2")
        #expect(try Self.rowCount(store) == 2)
        let all = try store.readBatch(sink: "x", after: 0, limit: 100)
        #expect(all.map(\.seq) == Array(1...7))
        #expect(all.map(\.payload) == (1...7).map { SpoolSegmentTests.payload($0) })
        #expect(all.map(\.eventID) == SpoolSegmentTests.entries(1...7).map(\.eventID))
        #expect(all.map(\.eventTime) == SpoolSegmentTests.entries(1...7).map(\.eventTime))
        // From inside a run, and cut inside one by count and by bytes.
        #expect(try store.readBatch(sink: "x", after: 2, limit: 2).map(\.seq) == [3, 4])
        #expect(try store.readBatch(sink: "x", after: 4, limit: 100, maxBytes: 1).map(\.seq) == [5])
        let middle = try store.nextBatch(sink: "x", after: 5, limit: 1)
        #expect(middle.records.map(\.seq) == [6])
        #expect(middle.passedThrough == 6)
        #expect(try store.nextBatch(sink: "x", after: 6, limit: 100).passedThrough == 7)
        #expect(try store.pendingSummary(sink: "x", after: 3, limit: 100).count == 4)
        #expect(try store.spoolDepth() == 7)
        #expect(try store.headSeq() == 7)
    }

    @Test func aLongPageIsCutIntoRunsOfBoundedLength() throws {
        let store = try StateStore(path: temporaryStatePath())
        let count = Int(StateStore.SpoolRunWriter.maxEventsPerRun) * 2 + 5
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(1...count, bytes: 10), cursor: "c1")
        #expect(try Self.rowCount(store) == 3)
        let all = try store.readBatch(sink: "x", after: 0, limit: 10_000)
        #expect(all.map(\.seq) == (1...count).map(Int64.init))
        #expect(all.map(\.payload) == (1...count).map { SpoolSegmentTests.payload($0, bytes: 10) })
        #expect(try store.spoolDepth() == Int64(count))
    }

    /// A prune that falls inside a run keeps only that run's events some sink still needs.
    @Test func aPruneInsideARunKeepsOnlyWhatIsStillNeeded() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        try store.registerSinks(["a"])
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(1...6), cursor: "c1")
        try store.commitDelivery(sink: "a", through: 4)
        #expect(try store.prune(activeSinks: ["a"]) == 4)
        #expect(try store.spoolDepth() == 2)
        let left = try store.readBatch(sink: "a", after: 0, limit: 100)
        #expect(left.map(\.seq) == [5, 6])
        #expect(left.map(\.payload) == [5, 6].map { SpoolSegmentTests.payload($0) })
        // A new process goes on after the trimmed run's payloads, and after its sequence numbers.
        let reopened = try StateStore(path: path)
        try reopened.appendPage(source: "s", entries: SpoolSegmentTests.entries(7...8), cursor: "c2")
        #expect(try reopened.readBatch(sink: "a", after: 4, limit: 100).map(\.payload) == (5...8).map { SpoolSegmentTests.payload($0) })
        #expect(try reopened.readBatch(sink: "a", after: 4, limit: 100).map(\.seq) == [5, 6, 7, 8])
        try reopened.commitDelivery(sink: "a", through: 8)
        #expect(try reopened.prune(activeSinks: ["a"]) == 4)
        #expect(try reopened.spoolDepth() == 0)
        #expect(try reopened.headSeq() == 8)
        // After a full prune, in a new process: numbers are never reused.
        let again = try StateStore(path: path)
        try again.appendPage(source: "s", entries: SpoolSegmentTests.entries(9...10), cursor: "c3")
        #expect(try again.readBatch(sink: "a", after: 8, limit: 100).map(\.seq) == [9, 10])
    }

    /// Events of a backfill page that some sinks already had go only to the others: the page
    /// splits into runs by the sinks they are meant for.
    @Test func aPageSplitsWhereTheSinksItIsMeantForChange() throws {
        let store = try StateStore(path: temporaryStatePath())
        try store.registerSinks(["a", "b"])
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(2...2), cursor: nil, onlySinks: ["a"])
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(1...3), cursor: nil, onlySinks: ["a", "b"])
        #expect(try Self.rowCount(store) == 4)
        #expect(try store.readBatch(sink: "a", after: 0, limit: 100).map(\.payload) == [2, 1, 3].map { SpoolSegmentTests.payload($0) })
        #expect(try store.readBatch(sink: "b", after: 0, limit: 100).map(\.payload) == [1, 2, 3].map { SpoolSegmentTests.payload($0) })
        // Sequence numbers: 1 (2, for a), 2 (1, both), 3 (2, for b only), 4 (3, both). The row that
        // holds the next event after a's offset is b's alone: a still finds 4 after it.
        #expect(try store.readBatch(sink: "a", after: 2, limit: 100).map(\.seq) == [4])
        #expect(try store.pendingSummary(sink: "a", after: 2, limit: 100).count == 1)
        let rest = try store.nextBatch(sink: "a", after: 3, limit: 100)
        #expect(rest.records.map(\.seq) == [4])
        #expect(rest.passedThrough == 4)
        #expect(try store.readBatch(sink: "b", after: 2, limit: 100).map(\.seq) == [3, 4])
        try store.commitDelivery(sink: "a", through: 1)
        let states = try store.sinkStates()
        #expect(states.map(\.pending) == [3, 4])
        #expect(states.map { $0.oldestPendingSpooledAt != nil } == [true, true])
    }

    /// Replayed dead letters, written without a sequence number, come after every event of the
    /// runs before them, never inside one.
    @Test func replayedDeadLettersComeAfterTheLastRun() throws {
        let store = try StateStore(path: temporaryStatePath())
        try store.registerSinks(["a"])
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(1...3), cursor: "c1")
        let first = try #require(try store.readBatch(sink: "a", after: 0, limit: 1).first)
        try store.commitDelivery(sink: "a", through: 3, deadLetters: [DeadLetterEntry(record: first, status: 400, reason: "no")])
        #expect(try store.replayDeadLetters(sink: "a") == 1)
        #expect(try store.readBatch(sink: "a", after: 3, limit: 100).map(\.seq) == [4])
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(4...5), cursor: "c2")
        #expect(try store.readBatch(sink: "a", after: 3, limit: 100).map(\.seq) == [4, 5, 6])
        #expect(try store.readBatch(sink: "a", after: 3, limit: 100).map(\.payload) == [1, 4, 5].map { SpoolSegmentTests.payload($0) })
    }

    /// Rows of one event from before the upgrade are read in order beside runs.
    @Test func rowsOfOneEventFromBeforeAreReadBesideRuns() throws {
        let store = try StateStore(path: temporaryStatePath())
        try store.pool.write { db in
            for id in 1...2 {
                try db.execute(
                    sql: """
                        INSERT INTO spool (source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at)
                        VALUES ('s', ?, 0, 'configuration', 'info', 'a', 'success', ?, 0)
                        """, arguments: ["e\(id)", SpoolSegmentTests.payload(id)])
            }
        }
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(3...4), cursor: "c1")
        #expect(try store.readBatch(sink: "x", after: 1, limit: 100).map(\.seq) == [2, 3, 4])
        #expect(try store.readBatch(sink: "x", after: 0, limit: 100).map(\.payload) == (1...4).map { SpoolSegmentTests.payload($0) })
        #expect(try store.spoolDepth() == 4)
    }

    @Test func aDamagedRunIsAClearError() throws {
        let store = try StateStore(path: temporaryStatePath())
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(1...3), cursor: "c1")
        try store.pool.write { try $0.execute(sql: "UPDATE spool SET events = substr(events, 1, length(events) - 3)") }
        #expect {
            try store.readBatch(sink: "x", after: 0, limit: 100)
        } throws: { error in
            "\(error)".contains("cut short or damaged")
        }
        let other = try StateStore(path: temporaryStatePath())
        try other.appendPage(source: "s", entries: SpoolSegmentTests.entries(1...3), cursor: "c1")
        try other.pool.write { try $0.execute(sql: "UPDATE spool SET last_seq = 7") }
        #expect {
            try other.readBatch(sink: "x", after: 0, limit: 100)
        } throws: { error in
            "\(error)".contains("does not match")
        }
    }

    /// A row whose numbers no run can have (a damaged file) is a clear error when read or
    /// pruned, and appending after it too: never an arithmetic trap.
    @Test func impossibleSequenceNumbersAreAClearError() throws {
        let store = try StateStore(path: temporaryStatePath())
        try store.registerSinks(["a"])
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(1...3), cursor: "c1")
        try store.pool.write { try $0.execute(sql: "UPDATE spool SET last_seq = 9223372036854775807") }
        #expect {
            try store.readBatch(sink: "a", after: 0, limit: 100)
        } throws: { error in
            "\(error)".contains("does not match")
        }
        try store.commitDelivery(sink: "a", through: 1)
        #expect {
            try store.prune(activeSinks: ["a"])
        } throws: { error in
            "\(error)".contains("does not match")
        }
        #expect {
            try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(4...4), cursor: "c2")
        } throws: { error in
            "\(error)".contains("run out")
        }
        #expect(try store.spoolDepth() == .max)
    }

    /// `state copy` gives PostgreSQL every event of every run, with its own sequence number,
    /// and PostgreSQL goes on numbering after them.
    @Test func stateCopyTakesEachEventOfTheRuns() throws {
        let store = try StateStore(path: temporaryStatePath())
        try store.registerSinks(["a", "b"])
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(1...5), cursor: "c1")
        try store.appendPage(source: "s", entries: SpoolSegmentTests.entries(6...7), cursor: "c1", onlySinks: ["b"])
        try store.commitDelivery(sink: "a", through: 2)
        try store.commitDelivery(sink: "b", through: 2)
        #expect(try store.prune(activeSinks: ["a", "b"]) == 2)
        let target = try PostgresStateStore(location: try PostgresTestServer.shared.get().freshDatabase())
        let summary = try StateCopy.copy(from: store, to: target)
        #expect(summary.events == 5)
        for sink in ["a", "b"] {
            let copied = try target.readBatch(sink: sink, after: 2, limit: 100)
            let original = try store.readBatch(sink: sink, after: 2, limit: 100)
            #expect(copied.map(\.seq) == original.map(\.seq))
            #expect(copied.map(\.payload) == original.map(\.payload))
            #expect(copied.map(\.eventID) == original.map(\.eventID))
        }
        try target.appendPage(source: "s", entries: SpoolSegmentTests.entries(8...8), cursor: "c2")
        #expect(try target.readBatch(sink: "a", after: 7, limit: 100).map(\.seq) == [8])
    }

    @Test func theRunCodecKeepsEveryField() throws {
        let events = [
            SpoolRun.Event(
                eventID: "é1", eventTime: 1_700_000_000.25, eventType: "t", severity: "high", action: "", outcome: "success", offset: 0,
                length: 17),
            SpoolRun.Event(
                eventID: "2", eventTime: -1, eventType: "type two", severity: "info", action: "a.b", outcome: "failure", offset: 17,
                length: 0),
        ]
        var blob: [UInt8] = []
        for event in events { SpoolRun.append(event, to: &blob) }
        #expect(try SpoolRun.events(in: Data(blob), seq: 1) == events)
    }
}
