import GRDB

/// When the dedupe keys were seen, recorded per appended page (migration `v10-dedupe-pages`): a
/// row per cluster of the page's new keys, with the span of event times they lie in and their
/// first sighting. The prune finds aged keys through these rows, without an index on each key's
/// first sighting.
///
/// Every key has a row whose span holds its time and whose `seen_at` is the key's own: the page
/// that inserted it, or a row of its own for a key moved from the old table. A span may hold keys
/// of other pages too (repeats, overlapping walks). The prune takes the rows seen before the cutoff
/// and deletes, within each span, the keys seen before it, so no key goes before its window ends.
enum DedupePages {
    /// New keys further apart in event time than this start a span of their own: a late entry on a
    /// page must not stretch its row over hours of other pages' keys, which the prune would visit.
    static let largestGap: Double = 600

    /// Records that keys at `times` (one page's new ones) were first seen at `seenAt`, inside the
    /// append's transaction. Nothing when the page added none.
    static func record(_ db: Database, source: String, times: [Double], seenAt: Double) throws {
        guard !times.isEmpty else { return }
        let insert = try db.cachedStatement(sql: "INSERT INTO dedupe_page (source, first_time, last_time, seen_at) VALUES (?, ?, ?, ?)")
        let sorted = times.sorted()
        var first = sorted[0]
        for (previous, time) in zip(sorted, sorted.dropFirst()) where time - previous > largestGap {
            try insert.execute(arguments: [source, first, previous, seenAt])
            first = time
        }
        try insert.execute(arguments: [source, first, sorted[sorted.count - 1], seenAt])
    }

    /// Rows one transaction of the prune takes, and how many such batches one prune runs at most
    /// (the engine prunes every second; `once` at its end).
    static let rowsPerBatch = 1000
    static let batchesPerPrune = 16

    /// Deletes the keys seen before `cutoff` within the spans of up to `rowsPerBatch` rows seen
    /// before it, and those rows. Returns the rows taken and the keys deleted.
    static func prune(_ db: Database, seenBefore cutoff: Double) throws -> (rows: Int, keys: Int) {
        let aged = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT rowid, source, first_time, last_time FROM dedupe_page WHERE seen_at < ? ORDER BY seen_at LIMIT ?"),
            arguments: [cutoff, rowsPerBatch])
        let deleteKeys = try db.cachedStatement(
            sql: "DELETE FROM dedupe_by_time WHERE source = ? AND event_time >= ? AND event_time <= ? AND seen_at < ?")
        let deleteRow = try db.cachedStatement(sql: "DELETE FROM dedupe_page WHERE rowid = ?")
        var keys = 0
        for row in aged {
            let (rowID, source, first, last): (Int64, String, Double, Double) = (row[0], row[1], row[2], row[3])
            try deleteKeys.execute(arguments: [source, first, last, cutoff])
            keys += db.changesCount
            try deleteRow.execute(arguments: [rowID])
        }
        return (aged.count, keys)
    }
}
