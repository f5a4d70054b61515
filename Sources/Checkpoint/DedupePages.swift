import GRDB

/// When the dedupe keys were seen, a row per appended page (migration `v10-dedupe-pages`): the
/// span of event times the page's keys lie in, and their first sighting. The prune finds aged keys
/// through these rows, without an index on each key's first sighting.
///
/// Every key has a row whose span holds its time and whose `seen_at` is the key's own: the page
/// that inserted it, or a row of its own for a key moved from the old table. A span may hold keys
/// of other pages too (repeats, overlapping walks). The prune takes the rows seen before the cutoff
/// and deletes, within each span, the keys seen before it, so no key goes before its window ends.
enum DedupePages {
    /// The event times of the keys one page added.
    struct Span {
        private(set) var bounds: (first: Double, last: Double)?

        init() {}

        init(_ time: Double) { add(time) }

        mutating func add(_ time: Double) {
            bounds = bounds.map { (min($0.first, time), max($0.last, time)) } ?? (time, time)
        }
    }

    /// Records that keys within `span` (one page's new ones) were first seen at `seenAt`, inside
    /// the append's transaction. Nothing when the page added none.
    static func record(_ db: Database, source: String, span: Span, seenAt: Double) throws {
        guard let (first, last) = span.bounds else { return }
        try db.cachedStatement(sql: "INSERT INTO dedupe_page (source, first_time, last_time, seen_at) VALUES (?, ?, ?, ?)")
            .execute(arguments: [source, first, last, seenAt])
    }

    /// Rows taken by one prune; the rest wait for the next (the engine prunes every second), so a
    /// day of keys aging at once does not hold the write lock for long.
    static let rowsPerPrune = 1000

    /// Deletes the keys seen before `cutoff` within the spans of rows seen before it, and those
    /// rows. Returns how many keys went.
    static func prune(_ db: Database, seenBefore cutoff: Double) throws -> Int {
        let aged = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT rowid, source, first_time, last_time FROM dedupe_page WHERE seen_at < ? ORDER BY seen_at LIMIT ?"),
            arguments: [cutoff, rowsPerPrune])
        let deleteKeys = try db.cachedStatement(
            sql: "DELETE FROM dedupe_by_time WHERE source = ? AND event_time >= ? AND event_time <= ? AND seen_at < ?")
        let deleteRow = try db.cachedStatement(sql: "DELETE FROM dedupe_page WHERE rowid = ?")
        var pruned = 0
        for row in aged {
            let (rowID, source, first, last): (Int64, String, Double, Double) = (row[0], row[1], row[2], row[3])
            try deleteKeys.execute(arguments: [source, first, last, cutoff])
            pruned += db.changesCount
            try deleteRow.execute(arguments: [rowID])
        }
        return pruned
    }
}
