import Foundation
import GRDB
import TestSupport
import Testing

@testable import Checkpoint

/// A fresh state file in its own temporary directory.
func temporaryStatePath() -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cp-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("state.sqlite").path
}

func entry(_ id: Int, type: String = "configuration", severity: String = "info", bytes: Int = 10) -> SpoolEntry {
    SpoolEntry(
        upstreamID: "u\(id)", eventID: "e\(id)", eventTime: Date(timeIntervalSince1970: Double(1_700_000_000 + id)),
        eventType: type, severity: severity, action: "thing.update", outcome: "success",
        payload: Data(repeating: UInt8(ascii: "x"), count: bytes))
}

/// The backends the behaviour tests below run against, through `StateBackend` only: a backend
/// joins by adding a case. PostgreSQL: a new database on this test process's throwaway server.
enum BackendUnderTest: String, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    func make() throws -> any StateBackend {
        switch self {
        case .sqlite: try StateStore(path: temporaryStatePath())
        case .postgres: try PostgresStateStore(location: try PostgresTestServer.shared.get().freshDatabase())
        }
    }

    var description: String { rawValue }
}

@Suite struct StateStoreTests {
    /// Commits must reach the disk before they count (power loss, not only a killed process).
    /// GRDB sets a pool's writer to NORMAL after `prepareDatabase`, which once undid our FULL.
    @Test func theWritingConnectionSyncsEveryCommit() throws {
        let store = try StateStore(path: temporaryStatePath())
        let full = 2
        #expect(try store.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == full)
        #expect(try store.pool.write { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }

    @Test func aNewFileHasLargePagesAndAnOldOneKeepsItsOwn() throws {
        let store = try StateStore(path: temporaryStatePath())
        #expect(try store.pool.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == StateStore.newFilePageSize)
        #expect(
            try store.pool.write { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") } == StateStore.backstopCheckpointBytes
                / StateStore.newFilePageSize)

        // A state file made by an earlier release, with SQLite's 4 KiB pages.
        let oldPath = temporaryStatePath()
        let old = try DatabaseQueue(path: oldPath)
        try old.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = 4096")
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        try old.close()
        let reopened = try StateStore(path: oldPath)
        try reopened.appendPage(source: "s", entries: [entry(1)], cursor: "c1")
        #expect(try reopened.pool.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == 4096)
        #expect(try reopened.pool.write { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") } == StateStore.backstopCheckpointBytes / 4096)
        #expect(try reopened.cursor(source: "s") == "c1")
    }

    @Test(arguments: BackendUnderTest.allCases) func appendSkipsSeenIdsAndMovesCursorWithThePage(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        let first = try store.appendPage(source: "s", entries: [entry(1), entry(2), entry(2)], cursor: "c1")
        #expect(first == AppendResult(inserted: 2, duplicates: 1))
        #expect(try store.cursor(source: "s") == "c1")
        let second = try store.appendPage(source: "s", entries: [entry(2), entry(3)], cursor: "c2")
        #expect(second == AppendResult(inserted: 1, duplicates: 1))
        #expect(try store.cursor(source: "s") == "c2")
        // The same upstream id in another source is another event.
        #expect(try store.appendPage(source: "other", entries: [entry(1)], cursor: nil).inserted == 1)
        #expect(try store.cursor(source: "other") == nil)
        let all = try store.readBatch(sink: "any", after: 0, limit: 100)
        #expect(all.map(\.eventID) == ["e1", "e2", "e3", "e1"])
        #expect(all.map(\.seq) == [1, 2, 3, 4])
    }

    /// A backfill for one sink marks its ids as seen; the live tail reading the same ids later
    /// must still spool them for the other sinks, and for those only.
    @Test(arguments: BackendUnderTest.allCases) func anIDSpooledForSomeSinksIsSpooledAgainOnlyForTheOthers(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        try store.registerSinks(["archive", "splunk", "webhook"])
        #expect(try store.appendPage(source: "s", entries: [entry(1), entry(2)], cursor: nil, onlySinks: ["archive"]).inserted == 2)
        // The live tail: 1 and 2 again (for splunk and webhook only), 3 new (for all).
        let live = try store.appendPage(source: "s", entries: [entry(1), entry(2), entry(3)], cursor: "c")
        #expect(live == AppendResult(inserted: 3, duplicates: 0))
        for sink in ["archive", "splunk", "webhook"] {
            #expect(try store.readBatch(sink: sink, after: 0, limit: 100).map(\.eventID) == ["e1", "e2", "e3"], "\(sink)")
        }
        // Now every sink has them: the next re-read and a second one-sink backfill are duplicates.
        #expect(try store.appendPage(source: "s", entries: [entry(1), entry(2), entry(3)], cursor: "c").duplicates == 3)
        #expect(try store.appendPage(source: "s", entries: [entry(1)], cursor: nil, onlySinks: ["splunk"]).duplicates == 1)
        // A backfill for two sinks, one of which already had the id, spools it for the other one.
        #expect(try store.appendPage(source: "s", entries: [entry(4)], cursor: nil, onlySinks: ["archive"]).inserted == 1)
        #expect(try store.appendPage(source: "s", entries: [entry(4)], cursor: nil, onlySinks: ["archive", "webhook"]).inserted == 1)
        #expect(try store.readBatch(sink: "webhook", after: 0, limit: 100).map(\.eventID) == ["e1", "e2", "e3", "e4"])
        #expect(try store.readBatch(sink: "archive", after: 0, limit: 100).map(\.eventID) == ["e1", "e2", "e3", "e4"])
        #expect(try store.readBatch(sink: "splunk", after: 0, limit: 100).map(\.eventID) == ["e1", "e2", "e3"])
    }

    /// A newest-first walk's position moves with its pages, in the same transaction, and goes
    /// when the walk ends or the cursor is set by hand.
    @Test(arguments: BackendUnderTest.allCases) func walkProgressIsSavedWithItsPageAndClearedWithTheCursor(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        let progress = WalkProgress(windowStart: Date(timeIntervalSince1970: 1000), windowEnd: Date(timeIntervalSince1970: 2000), position: "p1")
        try store.appendPage(source: "s", entries: [entry(1)], cursor: nil, walk: .save(progress))
        #expect(try store.walkProgress(source: "s") == progress)
        #expect(try store.walkProgress(source: "other") == nil)
        #expect(try store.pollPosition(source: "s") == PollPosition(cursor: nil, walk: progress))
        try store.appendPage(source: "s", entries: [entry(2)], cursor: "end", walk: .clear)
        #expect(try store.walkProgress(source: "s") == nil)
        #expect(try store.pollPosition(source: "s") == PollPosition(cursor: "end", walk: nil))
        #expect(try store.pollPosition(source: "other") == PollPosition(cursor: nil, walk: nil))
        try store.appendPage(source: "s", entries: [], cursor: nil, walk: .save(progress))
        try store.setCursor(source: "s", position: "by hand")
        #expect(try store.walkProgress(source: "s") == nil)
        try store.appendPage(source: "s", entries: [], cursor: nil, walk: .save(progress))
        try store.resetCursor(source: "s")
        #expect(try store.walkProgress(source: "s") == nil)
    }

    /// A page without events commits without waiting for the disk; the connection goes back to
    /// FULL for the next page, and the commit is there after a reopen.
    @Test func aPageWithoutEventsCommitsUnsyncedAndLeavesTheWriterSynced() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        func writerSynchronous() throws -> Int? {
            try store.pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        }
        #expect(try writerSynchronous() == 2)
        try store.appendPage(source: "s", entries: [], cursor: "c1")
        #expect(try writerSynchronous() == 2)
        #expect(try store.cursor(source: "s") == "c1")
        try store.appendPage(source: "s", entries: [entry(1)], cursor: "c2")
        #expect(try writerSynchronous() == 2)
        try store.appendPage(source: "s", entries: [], cursor: "c3")
        #expect(try StateStore(path: path).cursor(source: "s") == "c3")
    }

    @Test(arguments: BackendUnderTest.allCases) func pageWithoutCursorLeavesCursorAlone(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        try store.appendPage(source: "s", entries: [], cursor: "c1")
        try store.appendPage(source: "s", entries: [entry(1)], cursor: nil)
        #expect(try store.cursor(source: "s") == "c1")
    }

    @Test(arguments: BackendUnderTest.allCases) func readBatchHonoursLimitBytesAndAddressedSinks(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        try store.appendPage(source: "s", entries: (1...10).map { entry($0, bytes: 100) }, cursor: nil)
        try store.appendPage(source: "b", entries: [entry(11)], cursor: nil, onlySinks: ["archive"])
        #expect(try store.readBatch(sink: "x", after: 0, limit: 4).count == 4)
        #expect(try store.readBatch(sink: "x", after: 0, limit: 100, maxBytes: 250).count == 2)
        // One oversized event still comes alone, so it can be sent or dead-lettered, never stuck.
        #expect(try store.readBatch(sink: "x", after: 0, limit: 100, maxBytes: 10).count == 1)
        #expect(try store.readBatch(sink: "x", after: 8, limit: 100).map(\.seq) == [9, 10])
        #expect(try store.readBatch(sink: "archive", after: 8, limit: 100).map(\.seq) == [9, 10, 11])
    }

    /// Events meant only for other sinks are passed over once nothing for this sink is left, and
    /// never while this sink's batch was cut short (the rest of its events may lie beyond them).
    @Test(arguments: BackendUnderTest.allCases) func aBatchPassesOverOtherSinksEventsOnlyWhenNothingIsLeftForThisSink(
        _ backend: BackendUnderTest
    ) throws {
        let store = try backend.make()
        try store.appendPage(source: "s", entries: (1...3).map { entry($0) }, cursor: nil)
        try store.appendPage(source: "b", entries: (4...6).map { entry($0) }, cursor: nil, onlySinks: ["archive"])
        let whole = try store.nextBatch(sink: "x", after: 0, limit: 100)
        #expect(whole.records.map(\.seq) == [1, 2, 3])
        #expect(whole.passedThrough == 6)
        #expect(try store.nextBatch(sink: "x", after: 0, limit: 2).passedThrough == 2)
        #expect(try store.nextBatch(sink: "x", after: 0, limit: 100, maxBytes: 1).passedThrough == 1)
        #expect(try store.nextBatch(sink: "x", after: 3, limit: 100).passedThrough == 6)
        #expect(try store.pendingSummary(sink: "x", after: 3, limit: 100) == PendingSummary(count: 0, oldestSpooledAt: nil, idleThrough: 6))
        #expect(try store.nextBatch(sink: "archive", after: 0, limit: 100).records.count == 6)
    }

    @Test(arguments: BackendUnderTest.allCases) func offsetsAreMonotonicAndPruneKeepsWhatASinkStillNeeds(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        try store.registerSinks(["a", "b"])
        try store.appendPage(source: "s", entries: (1...10).map { entry($0) }, cursor: nil)
        try store.commitDelivery(sink: "a", through: 8)
        try store.commitDelivery(sink: "a", through: 3)
        #expect(try store.offset(sink: "a") == 8)
        try store.commitDelivery(sink: "b", through: 5)
        #expect(try store.prune(activeSinks: ["a", "b"]) == 5)
        #expect(try store.spoolDepth() == 5)
        // Back-pressure reads the same depth.
        #expect(try store.spoolIsFull(limit: 5))
        #expect(try !store.spoolIsFull(limit: 6))
        #expect(try store.readBatch(sink: "b", after: 5, limit: 100).map(\.seq) == [6, 7, 8, 9, 10])
        // A configured sink with no offset row has passed nothing.
        #expect(try store.prune(activeSinks: ["a", "b", "new"]) == 0)
        try store.commitDelivery(sink: "b", through: 10)
        try store.commitDelivery(sink: "a", through: 10)
        #expect(try store.prune(activeSinks: ["a", "b"]) == 5)
        #expect(try store.spoolDepth() == 0)
        #expect(try !store.spoolIsFull(limit: 1))
        // Sequence numbers are never reused after a full prune.
        try store.appendPage(source: "s", entries: [entry(99)], cursor: nil)
        #expect(try store.headSeq() == 11)
    }

    @Test(arguments: BackendUnderTest.allCases) func deadLettersAreWrittenWithTheOffsetAndCanBeReplayedOrPurged(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        try store.registerSinks(["hook", "file"])
        try store.appendPage(source: "s", entries: (1...3).map { entry($0) }, cursor: nil)
        let batch = try store.readBatch(sink: "hook", after: 0, limit: 10)
        try store.commitDelivery(
            sink: "hook", through: 3, deadLetters: [DeadLetterEntry(record: batch[1], status: 400, reason: "HTTP 400: bad")])
        let letters = try store.deadLetters(sink: "hook")
        #expect(letters.count == 1)
        #expect(letters[0].eventID == "e2")
        #expect(letters[0].status == 400)
        #expect(letters[0].reason == "HTTP 400: bad")
        #expect(try store.sinkStates().first { $0.sink == "hook" }?.deadLetters == 1)

        #expect(try store.replayDeadLetters(sink: "hook") == 1)
        #expect(try store.deadLetters().isEmpty)
        // The replayed event is queued for that sink only.
        #expect(try store.readBatch(sink: "hook", after: 3, limit: 10).map(\.eventID) == ["e2"])
        #expect(try store.readBatch(sink: "file", after: 3, limit: 10).isEmpty)

        try store.commitDelivery(sink: "hook", through: 4, deadLetters: [DeadLetterEntry(record: batch[0], status: 0, reason: "x")])
        #expect(try store.purgeDeadLetters(sink: "hook") == 1)
        #expect(try store.deadLetterCount(sink: "hook") == 0)
    }

    @Test(arguments: BackendUnderTest.allCases) func dedupeKeysExpireAfterTheWindow(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        let old = Date(timeIntervalSince1970: 1_000)
        try store.appendPage(source: "s", entries: [entry(1)], cursor: nil, onlySinks: nil, walk: .unchanged, now: old)
        try store.appendPage(source: "s", entries: [entry(2)], cursor: nil, onlySinks: nil, walk: .unchanged, now: Date())
        #expect(try store.pruneDedupe(seenBefore: Date(timeIntervalSince1970: 2_000)) == 1)
        #expect(try store.dedupeCount(source: "s") == 1)
        #expect(try store.appendPage(source: "s", entries: [entry(1), entry(2)], cursor: nil).inserted == 1)
    }

    @Test(arguments: BackendUnderTest.allCases) func cursorsCanBeSetResetAndCarryTheLastError(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        try store.recordSourceError(source: "s", error: "HTTP 401")
        #expect(try store.sourceStates().first?.lastError == "HTTP 401")
        try store.appendPage(source: "s", entries: [], cursor: "2026-01-01T00:00:00.000Z")
        let state = try #require(try store.sourceStates().first)
        #expect(state.lastError == nil)
        #expect(state.lastSuccess != nil)
        try store.setCursor(source: "s", position: "x")
        #expect(try store.cursor(source: "s") == "x")
        try store.resetCursor(source: "s")
        #expect(try store.cursor(source: "s") == nil)
    }

    @Test func stateSurvivesReopening() throws {
        let path = temporaryStatePath()
        do {
            let store = try StateStore(path: path)
            try store.appendPage(source: "s", entries: [entry(1)], cursor: "c")
        }
        let reopened = try StateStore(path: path)
        #expect(try reopened.cursor(source: "s") == "c")
        #expect(try reopened.integrityCheck() == "ok")
    }

    @Test func refusesAFileThatIsNotADatabase() throws {
        let path = temporaryStatePath()
        try Data("hello, not sqlite".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try StateStore(path: path)
        } throws: { ($0 as? StateError)?.code == .notADatabase }
        // Untouched.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "hello, not sqlite")
    }

    @Test func refusesAnotherProgramsDatabase() throws {
        let path = temporaryStatePath()
        let python = try SpawnedProcess.run(
            "/usr/bin/env", ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()", path])
        try #require(python.status == 0, "\(python.output)")
        #expect {
            try StateStore(path: path)
        } throws: { ($0 as? StateError)?.code == .foreignDatabase }
    }
}

@Suite struct RunLockTests {
    @Test func secondHolderIsRefusedUntilTheFirstReleases() async throws {
        let path = temporaryStatePath()
        let first = RunLock(statePath: path)
        try await first.acquire()
        let second = RunLock(statePath: path)
        await #expect {
            try await second.acquire(wait: .milliseconds(300))
        } throws: { ($0 as? StateError)?.code == .locked }
        first.release()
        try await second.acquire(wait: .milliseconds(300))
        second.release()
    }

    /// Two spellings of one state file (a link to it, a linked directory, a relative path) take
    /// one lock, whether the file exists yet or not.
    @Test func everySpellingOfOneStateFileTakesOneLock() async throws {
        let real = temporaryStatePath()
        let directory = (real as NSString).deletingLastPathComponent
        let linkedDirectory = directory + "-link"
        try FileManager.default.createSymbolicLink(atPath: linkedDirectory, withDestinationPath: directory)
        let viaLinkedDirectory = linkedDirectory + "/state.sqlite"
        #expect(RunLock(statePath: viaLinkedDirectory).path == RunLock(statePath: real).path)
        _ = try StateStore(path: real)
        let fileLink = directory + "/link.sqlite"
        try FileManager.default.createSymbolicLink(atPath: fileLink, withDestinationPath: real)
        let first = RunLock(statePath: real)
        try await first.acquire()
        for spelling in [fileLink, viaLinkedDirectory, directory + "/../" + (directory as NSString).lastPathComponent + "/state.sqlite"] {
            let other = RunLock(statePath: spelling)
            #expect(other.path == first.path, "\(spelling)")
            await #expect {
                try await other.acquire(wait: .zero)
            } throws: { ($0 as? StateError)?.code == .locked }
        }
        first.release()
    }
}
