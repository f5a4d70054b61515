import Foundation
import GRDB
import Testing

@testable import Checkpoint

/// The dedupe prune finds aged keys through a row per appended page (`DedupePages`, migration
/// `v10-dedupe-pages`): no key may go before its window ends, and every key must go once it has.
@Suite struct DedupePagesTests {
    func timed(_ id: Int, at time: Double) -> SpoolEntry {
        var made = entry(id)
        made.eventTime = Date(timeIntervalSince1970: time)
        return made
    }

    func keys(_ store: StateStore) throws -> Set<String> {
        try store.seenUpstreamIDs(source: "s")
    }

    /// Pages whose spans of event time overlap: a prune of the older page's keys leaves the newer
    /// page's, even those inside the older span; repeats keep their first sighting.
    @Test func eachKeyGoesWhenItsOwnWindowEnds() throws {
        let store = try StateStore(path: temporaryStatePath())
        let seen = (first: Date(timeIntervalSince1970: 1_000), second: Date(timeIntervalSince1970: 5_000))
        try store.appendPage(source: "s", entries: [timed(1, at: 10), timed(2, at: 30)], cursor: nil, now: seen.first)
        // Inside the first page's span, and a repeat of its key 1.
        try store.appendPage(source: "s", entries: [timed(3, at: 20), timed(1, at: 10), timed(4, at: 40)], cursor: nil, now: seen.second)
        try store.appendPage(source: "t", entries: [timed(1, at: 10)], cursor: nil, now: seen.first)
        #expect(try store.pruneDedupe(seenBefore: Date(timeIntervalSince1970: 1_000)) == 0, "nothing is older than its window")
        #expect(try store.pruneDedupe(seenBefore: Date(timeIntervalSince1970: 3_000)) == 3)
        #expect(try keys(store) == ["u3", "u4"])
        #expect(try store.seenUpstreamIDs(source: "t").isEmpty)
        // Gone, the keys no longer hold repeats back; kept, they still do.
        #expect(try store.appendPage(source: "s", entries: [timed(1, at: 10), timed(3, at: 20)], cursor: nil, now: seen.second).inserted == 1)
        #expect(try store.pruneDedupe(seenBefore: Date(timeIntervalSince1970: 6_000)) == 3)
        #expect(try keys(store).isEmpty)
        #expect(try store.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dedupe_page") } == 0, "no row outlives its keys")
    }

    /// A quiet source re-reads its overlap every poll: a page of repeats records nothing.
    @Test func aPageOfRepeatsRecordsNothing() throws {
        let store = try StateStore(path: temporaryStatePath())
        func rows() throws -> Int { try store.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dedupe_page") ?? -1 } }
        try store.appendPage(source: "s", entries: [timed(1, at: 10), timed(2, at: 20)], cursor: nil)
        #expect(try rows() == 1)
        for _ in 0..<3 { try store.appendPage(source: "s", entries: [timed(1, at: 10), timed(2, at: 20)], cursor: nil) }
        try store.appendPage(source: "s", entries: [], cursor: "c")
        #expect(try rows() == 1)
        try store.appendPage(source: "s", entries: [timed(2, at: 20), timed(3, at: 30)], cursor: nil)
        let span = try store.pool.read { try Row.fetchOne($0, sql: "SELECT first_time, last_time FROM dedupe_page ORDER BY rowid DESC LIMIT 1") }
        #expect(try rows() == 2)
        #expect(span?[0] == 30.0 && span?[1] == 30.0, "the span of the new key only")
    }

    /// Random pages (repeats, spans that overlap, late entries, first sightings out of order),
    /// then prunes at rising cutoffs: after each, exactly the keys first seen at or after the
    /// cutoff remain, and at the end no key and no row.
    @Test func randomPagesPruneExactlyByFirstSighting() throws {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            let store = try StateStore(path: temporaryStatePath())
            var firstSeen: [String: Double] = [:]  // "id@time" → the first sighting the store kept
            for _ in 0..<30 {
                let now = Double.random(in: 1_000...9_000, using: &random).rounded()
                var page: [SpoolEntry] = []
                for _ in 0..<Int.random(in: 1...20, using: &random) {
                    let id = Int.random(in: 0..<150, using: &random)
                    // Mostly near the id's own time; now and then an entry hours late.
                    let time = Double(id * 30) + (Bool.random(using: &random) ? 0 : Double.random(in: -20_000...0, using: &random).rounded())
                    page.append(timed(id, at: time))
                }
                try store.appendPage(source: "s", entries: page, cursor: nil, now: Date(timeIntervalSince1970: now))
                for entry in page { firstSeen["\(entry.upstreamID)@\(entry.eventTime.timeIntervalSince1970)", default: now] += 0 }
            }
            let remembered = try store.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT upstream_id, event_time, seen_at FROM dedupe_by_time WHERE source = 's'").map {
                    ("\($0[0] as String)@\($0[1] as Double)", $0[2] as Double)
                }
            }
            let seenAt = Dictionary(uniqueKeysWithValues: remembered)
            #expect(seenAt == firstSeen, "each key remembered with the page that first had it")
            for cutoff in stride(from: 1_000.0, through: 9_001, by: 500) {
                try store.pruneDedupe(seenBefore: Date(timeIntervalSince1970: cutoff))
                let left = try store.pool.read { db in
                    try Row.fetchAll(db, sql: "SELECT upstream_id, event_time FROM dedupe_by_time").map { "\($0[0] as String)@\($0[1] as Double)" }
                }
                #expect(Set(left) == Set(seenAt.filter { $0.value >= cutoff }.keys), "cutoff \(cutoff)")
            }
            #expect(try store.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dedupe_page") } == 0)
        }
    }

    /// One prune takes every aged page up to its bound, in batches; the next call goes on.
    @Test func aLongAgedBacklogIsPrunedInBatches() throws {
        let store = try StateStore(path: temporaryStatePath())
        let bound = DedupePages.rowsPerBatch * DedupePages.batchesPerPrune
        // Written directly: `bound` fsynced appends would take a minute.
        try store.pool.write { db in
            for page in 0..<(bound + 5) {
                try db.execute(
                    sql: "INSERT INTO dedupe_by_time (source, event_time, upstream_id, seen_at, sinks) VALUES ('s', ?, ?, 1000, NULL)",
                    arguments: [Double(page), "u\(page)"])
                try DedupePages.record(db, source: "s", times: [Double(page)], seenAt: 1000)
            }
        }
        let cutoff = Date(timeIntervalSince1970: 2_000)
        #expect(try store.pruneDedupe(seenBefore: cutoff) == bound)
        #expect(try store.pruneDedupe(seenBefore: cutoff) == 5)
        #expect(try store.dedupeCount(source: "s") == 0)
    }

    /// A page's new keys far apart in time get rows of their own, so a late entry does not stretch
    /// a row over what lies between; a key spooled again for a sink that missed it adds no row.
    @Test func spansBreakAtGapsAndRespoolsAddNoRow() throws {
        let store = try StateStore(path: temporaryStatePath())
        func spans() throws -> [[Double]] {
            try store.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT first_time, last_time FROM dedupe_page ORDER BY first_time").map { [$0[0], $0[1]] }
            }
        }
        try store.registerSinks(["a", "b"])
        let gap = DedupePages.largestGap
        try store.appendPage(
            source: "s", entries: [timed(1, at: 10_000), timed(2, at: 10_000 + gap), timed(3, at: 10_000 - 2 * gap)], cursor: nil,
            onlySinks: ["a"], walk: .unchanged, now: Date(timeIntervalSince1970: 1_000))
        #expect(try spans() == [[10_000 - 2 * gap, 10_000 - 2 * gap], [10_000, 10_000 + gap]])
        // Wanted by b too now: spooled again for b, remembered as it was.
        let again = try store.appendPage(source: "s", entries: [timed(1, at: 10_000)], cursor: nil, now: Date(timeIntervalSince1970: 5_000))
        #expect(again.inserted == 1)
        #expect(try spans().count == 2)
        #expect(try store.pruneDedupe(seenBefore: Date(timeIntervalSince1970: 2_000)) == 3)
        #expect(try spans().isEmpty)
    }

    /// Keys spooled before the migration get rows per source and hour of first sighting: none goes
    /// before its window ends, and each goes at most an hour after.
    @Test func keysFromBeforeTheMigrationAgeAsBefore() throws {
        let path = temporaryStatePath()
        do {
            let old = try DatabaseQueue(path: path)
            try old.writeWithoutTransaction { try $0.execute(sql: "PRAGMA application_id = \(StateStore.applicationID)") }
            try StateStore.migrator.migrate(old, upTo: "v9-spool-runs")
            try old.write { db in
                for (id, time, seenAt) in [(1, 10.0, 1_000.0), (2, 20.0, 1_000.0), (3, 15.0, 8_200.0), (4, 30.0, 3_000.0)] {
                    try db.execute(
                        sql: "INSERT INTO dedupe_by_time (source, event_time, upstream_id, seen_at, sinks) VALUES ('s', ?, ?, ?, NULL)",
                        arguments: [time, "u\(id)", seenAt])
                }
            }
        }
        let store = try StateStore(path: path)
        let indexes = try store.pool.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'index'") }
        #expect(!indexes.contains("dedupe_by_time_seen_at"))
        // Keys 1, 2 (seen at 1,000) and 4 (3,000) share the first hour (and a day of event time);
        // key 3 (8,200) is in the third.
        #expect(try store.pruneDedupe(seenBefore: Date(timeIntervalSince1970: 2_000)) == 0, "key 4 of that hour is not old enough")
        #expect(try store.pruneDedupe(seenBefore: Date(timeIntervalSince1970: 3_001)) == 3)
        #expect(try keys(store) == ["u3"])
        #expect(try store.appendPage(source: "s", entries: [timed(3, at: 15)], cursor: nil).duplicates == 1)
        #expect(try store.pruneDedupe(seenBefore: Date(timeIntervalSince1970: 8_201)) == 1)
        #expect(try keys(store).isEmpty)
    }
}
