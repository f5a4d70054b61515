import Foundation
import GRDB
import TestSupport
import Testing

@testable import Checkpoint

/// The SQLite dedupe index is keyed by (source, event time, upstream id) since migration
/// `v8-dedupe-by-time`; these check what that key is for, and that keys from before it still count.
@Suite struct DedupeByTimeTests {
    /// Random upstream ids (Okta's, GitHub's, 1Password's) keyed by id alone land all over the index,
    /// and every index page a commit touches is written to the WAL again. Keyed by time, a page's
    /// keys land together, so a page's commit writes about the same whatever the index holds.
    @Test func aPageOfRandomIDsWritesLittleWhateverTheIndexHolds() throws {
        let store = try StateStore(path: temporaryStatePath())
        let start = 1_700_000_000.0
        var time = start
        func page(_ count: Int) -> [SpoolEntry] {
            (0..<count).map { _ in
                time += 0.01
                return SpoolEntry(
                    upstreamID: UUID().uuidString, eventID: UUID().uuidString, eventTime: Date(timeIntervalSince1970: time),
                    eventType: "authentication", severity: "info", action: "user.session.start", outcome: "success",
                    payload: Data("{}".utf8))
            }
        }
        // 60,000 keys remembered: about 100 index pages of 32 KiB when spread by id.
        for _ in 0..<60 { try store.appendPage(source: "okta", entries: page(1000), cursor: nil) }
        try store.pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
        try store.appendPage(source: "okta", entries: page(1000), cursor: nil)
        let walBytes = try FileManager.default.attributesOfItem(atPath: store.path + "-wal")[.size] as? Int ?? 0
        // Keyed by time: about 15 pages (the new keys, the spool rows, the page's dedupe record). Keyed
        // by id it was over 100.
        #expect(walBytes < 40 * (StateStore.newFilePageSize + 24), "WAL after one page: \(walBytes) bytes")
        #expect(try store.dedupeCount(source: "okta") == 61_000)
    }

    /// A state file from before the migration keeps its keys (by id alone) in `dedupe`; an entry read
    /// again after the upgrade is still a repeat, with its first sighting and sinks carried over.
    @Test func keysRememberedBeforeTheUpgradeStillSkipRepeats() throws {
        let path = temporaryStatePath()
        do {
            let old = try DatabaseQueue(path: path)
            try old.writeWithoutTransaction { try $0.execute(sql: "PRAGMA application_id = \(StateStore.applicationID)") }
            try StateStore.migrator.migrate(old, upTo: "v7-spool-segments")
            try old.write { db in
                try db.execute(sql: "INSERT INTO sink_offset (sink, delivered_seq, updated_at) VALUES ('archive', 0, 0), ('splunk', 0, 0)")
                try db.execute(sql: "INSERT INTO dedupe (source, upstream_id, seen_at, sinks) VALUES ('s', 'u1', 1000, NULL)")
                try db.execute(sql: "INSERT INTO dedupe (source, upstream_id, seen_at, sinks) VALUES ('s', 'u2', 1000, ',archive,')")
            }
        }
        let store = try StateStore(path: path)
        #expect(try store.dedupeCount(source: "s") == 2)
        // u1 was spooled for every sink: a repeat. u2 only for archive: spooled again for splunk. u3 is new.
        let result = try store.appendPage(source: "s", entries: [entry(1), entry(2), entry(3)], cursor: nil)
        #expect(result == AppendResult(inserted: 2, duplicates: 1))
        #expect(try store.readBatch(sink: "splunk", after: 0, limit: 10).map(\.eventID) == ["e2", "e3"])
        #expect(try store.readBatch(sink: "archive", after: 0, limit: 10).map(\.eventID) == ["e3"])
        #expect(try store.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dedupe") } == 0)
        #expect(try store.appendPage(source: "s", entries: [entry(1), entry(2), entry(3)], cursor: nil).duplicates == 3)
        // The moved keys keep their first sighting, so the window prunes them when it would have.
        #expect(try store.pruneDedupe(seenBefore: Date(timeIntervalSince1970: 2_000)) == 2)
        #expect(try store.seenUpstreamIDs(source: "s") == ["u3"])
    }

    /// `state copy` takes the keys of both tables; PostgreSQL keys by id alone, so an id
    /// remembered under two times (an upstream that moved an entry) arrives once.
    @Test func stateCopyTakesTheKeysOfBothTables() throws {
        let store = try StateStore(path: temporaryStatePath())
        try store.appendPage(source: "s", entries: [entry(1), entry(2)], cursor: "c")
        var moved = entry(2)
        moved.eventTime = moved.eventTime.addingTimeInterval(60)
        #expect(try store.appendPage(source: "s", entries: [moved], cursor: "c").inserted == 1)
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO dedupe (source, upstream_id, seen_at, sinks) VALUES ('s', 'u9', 1000, NULL), ('t', 'u1', 1000, NULL)")
        }
        let target = try PostgresStateStore(location: try PostgresTestServer.shared.get().freshDatabase())
        let summary = try StateCopy.copy(from: store, to: target)
        #expect(summary.dedupeKeys == 4)
        #expect(try target.seenUpstreamIDs(source: "s") == ["u1", "u2", "u9"])
        #expect(try target.seenUpstreamIDs(source: "t") == ["u1"])
        #expect(try target.appendPage(source: "s", entries: [entry(1), entry(2), entry(9)], cursor: nil).duplicates == 3)
    }
}
