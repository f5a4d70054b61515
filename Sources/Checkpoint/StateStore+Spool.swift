import Foundation
import GRDB
import Synchronization

extension StateStore {
    /// Appends one fetched page and moves the source's cursor, in a single transaction.
    ///
    /// Entries whose (source, event time, upstream id) is already in the dedupe index are skipped,
    /// including repeats inside the page. `cursor`, when given, replaces the source's
    /// position in the same transaction: a crash leaves both the events and the cursor,
    /// or neither. `onlySinks` limits the new events to those sinks (backfills).
    /// `walk` records or clears where a newest-first walk stands, in the same transaction.
    @discardableResult
    public func appendPage(
        source: String, entries: [SpoolEntry], cursor: String?, onlySinks: [String]? = nil,
        walk: WalkUpdate = .unchanged, now: Date = Date()
    ) throws -> AppendResult {
        // A page without events only moves the cursor (or the walk): losing that commit to a power
        // cut costs a repeated fetch, which the dedupe index absorbs, so it need not wait for the
        // disk. With a thousand sources this was one fsync per empty poll.
        try positions.writing(source, change: { $0?.appending(cursor: cursor, walk: walk) }) {
            try countingAdditions(upTo: entries.count) {
                try writeSpooling(synced: !entries.isEmpty) { db, payloads in
                    let result = try Self.insert(db, source: source, entries: entries, onlySinks: onlySinks, now: now, payloads: &payloads)
                    if let cursor {
                        try Self.writeCursor(db, source: source, position: cursor, now: now, success: true)
                    }
                    try Self.write(walk, source: source, db)
                    return result
                }
            }
        }
    }

    public var localSpoolActivity: SpoolActivity? {
        SpoolActivity(additions: additions.load(ordering: .acquiring), offsetMoves: offsetMoves.load(ordering: .acquiring))
    }

    /// Runs an append of up to `entries` events and counts it in `localSpoolActivity` when it added
    /// events, or when it failed (it may have committed before it threw: a sink had better look),
    /// and its events in `depthBound` (all it might have added, when it failed).
    func countingAdditions(upTo entries: Int, _ append: () throws -> AppendResult) throws -> AppendResult {
        do {
            let result = try append()
            depthBound.add(result.inserted)
            if result.inserted > 0 { additions.add(1, ordering: .releasing) }
            return result
        } catch {
            depthBound.add(entries)
            additions.add(1, ordering: .releasing)
            throw error
        }
    }

    /// A write transaction that may spool payloads: `body` gathers them, they are written to their
    /// segment and synced before the transaction commits, and the next append goes on after them
    /// once it has. All of it inside the write lock, so appends never overlap.
    ///
    /// `synced: false` commits without waiting for the disk (`synchronous = NORMAL`). In WAL mode
    /// the file stays consistent and commits survive in order: the next synced commit makes this
    /// one durable too; a power cut may lose it, a killed process does not.
    func writeSpooling<T>(synced: Bool = true, _ body: (Database, inout SpoolSegments.Append) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            // Cached: an idle poll commits through here, and preparing the two pragmas anew each
            // time showed as about 1 % of the CPU of a thousand idle sources (SQLite may still
            // prepare a pragma again inside when it runs it; GRDB's part is saved).
            if !synced { try db.cachedStatement(sql: "PRAGMA synchronous = NORMAL").execute() }
            var result: T?
            var payloads: SpoolSegments.Append?
            do {
                try db.inTransaction {
                    var gathered = try segments.beginAppend { try Self.lastSegmentLocation(db) }
                    result = try body(db, &gathered)
                    try segments.write(gathered)
                    payloads = gathered
                    return .commit
                }
            } catch {
                if !synced { try db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() }
                throw error
            }
            // Before anything else can throw: committed rows point at these payloads, and the next
            // append must go on after them, never over them.
            if let payloads { segments.committed(payloads) }
            if !synced { try db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() }
            guard let result else { preconditionFailure("a committed transaction has a result") }
            return result
        }
    }

    /// Where the newest payloads in a segment lie (nil: no row points into one); for a run, the
    /// span of its payloads.
    static func lastSegmentLocation(_ db: Database) throws -> SpoolSegments.Location? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: "SELECT segment, payload_offset, payload_length FROM spool WHERE segment IS NOT NULL ORDER BY seq DESC LIMIT 1")
        ).map { SpoolSegments.Location(segment: $0[0], offset: $0[1], length: $0[2]) }
    }

    /// Dedupe and spool one page's entries inside the caller's transaction; their payloads join
    /// `payloads`, which the caller writes before it commits.
    ///
    /// An id already seen is skipped unless it was spooled only for some sinks (a `--sink`
    /// backfill, say) and this page wants it for others: then it is spooled again for just the
    /// sinks still missing it, so none receives it twice and none goes without.
    ///
    /// The dedupe key is (source, event time, upstream id): an entry read again carries the same
    /// time, and keys ordered by time keep a page's inserts together (see migration
    /// `v8-dedupe-by-time`). Were an upstream to change an entry's time, the entry would be spooled
    /// again: a duplicate with the same event id, never a loss.
    static func insert(
        _ db: Database, source: String, entries: [SpoolEntry], onlySinks: [String]?, now: Date, payloads: inout SpoolSegments.Append
    ) throws -> AppendResult {
        var result = AppendResult(inserted: 0, duplicates: 0)
        // An idle poll (most of a thousand sources' polls) only moves its cursor.
        guard !entries.isEmpty else { return result }
        let seen = try DirectStatement(
            db.cachedStatement(
                sql: "INSERT OR IGNORE INTO dedupe_by_time (source, event_time, upstream_id, seen_at, sinks) VALUES (?, ?, ?, ?, ?)"),
            in: db)
        let sinkList = onlySinks.map(SinkList.text)
        let stamp = now.timeIntervalSince1970
        var runs = try SpoolRunWriter(db, source: source, spooledAt: stamp)
        let legacyKeys = try LegacyDedupe(db)
        // Only keys this page adds: a page of repeats (a quiet source's overlap, read every poll)
        // records nothing, its keys being covered already.
        var newKeys: [Double] = []
        for entry in entries {
            let key = DedupeKey(source: source, time: entry.eventTime.timeIntervalSince1970, upstreamID: entry.upstreamID)
            try legacyKeys?.adopt(key, db)
            seen.bind(1, source)
            seen.bind(2, key.time)
            seen.bind(3, entry.upstreamID)
            seen.bind(4, stamp)
            seen.bind(5, sinkList)
            try seen.run()
            var spoolFor = sinkList
            if db.changesCount == 1 {
                newKeys.append(key.time)
            } else {
                guard let missing = try sinksStillMissing(db, key: key, wanted: onlySinks) else {
                    result.duplicates += 1
                    continue
                }
                spoolFor = SinkList.text(missing)
            }
            try runs.add(entry, at: payloads.add(entry.payload), onlySinks: spoolFor)
            result.inserted += 1
        }
        try runs.finish(db)
        try DedupePages.record(db, source: source, times: newKeys, seenAt: stamp)
        return result
    }

    /// One row of `dedupe_by_time`.
    struct DedupeKey {
        var source: String
        var time: Double
        var upstreamID: String
    }

    /// The dedupe keys of a state file from before `v8-dedupe-by-time`, kept by upstream id alone
    /// in `dedupe` until `dedupe_window` prunes them. While there are any, each appended entry
    /// looks for its id there and, found, moves the key into `dedupe_by_time` (with its first
    /// sighting and sinks) before the usual check, which then sees it as a repeat.
    struct LegacyDedupe {
        private let find: Statement
        private let remove: Statement
        private let move: Statement

        /// nil when the old table is empty (every state file made since, and old ones once pruned).
        init?(_ db: Database) throws {
            guard try DirectStatement(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM dedupe)"), in: db).integer() != 0 else {
                return nil
            }
            find = try db.cachedStatement(sql: "SELECT seen_at, sinks FROM dedupe WHERE source = ? AND upstream_id = ?")
            remove = try db.cachedStatement(sql: "DELETE FROM dedupe WHERE source = ? AND upstream_id = ?")
            // Not the text of the dedupe insert in `insert`: the same text is the same cached
            // statement, and running it here would leave the other finished between its binds.
            move = try db.cachedStatement(
                sql: "INSERT INTO dedupe_by_time (source, event_time, upstream_id, seen_at, sinks) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
        }

        func adopt(_ key: DedupeKey, _ db: Database) throws {
            guard let row = try Row.fetchOne(find, arguments: [key.source, key.upstreamID]) else { return }
            let (seenAt, sinks): (Double, String?) = (row[0], row[1])
            try remove.execute(arguments: [key.source, key.upstreamID])
            try move.execute(arguments: [key.source, key.time, key.upstreamID, seenAt, sinks])
            // Pruned by its own first sighting, not the page's that moved it.
            try DedupePages.record(db, source: key.source, times: [key.time], seenAt: seenAt)
        }
    }

    /// For a key already in the dedupe index: the sinks among `wanted` (nil: every registered
    /// sink) it was not yet spooled for, recorded as covered now; nil when there are none.
    private static func sinksStillMissing(_ db: Database, key: DedupeKey, wanted: [String]?) throws -> [String]? {
        let arguments: StatementArguments = [key.source, key.time, key.upstreamID]
        let covered = try String.fetchOne(
            db, sql: "SELECT sinks FROM dedupe_by_time WHERE source = ? AND event_time = ? AND upstream_id = ?", arguments: arguments)
        // NULL: spooled for every sink already (the common duplicate: an overlap re-read).
        guard let covered else { return nil }
        let had = Set(SinkList.names(covered))
        let targets = try wanted ?? String.fetchAll(db, sql: "SELECT sink FROM sink_offset ORDER BY sink")
        let missing = targets.filter { !had.contains($0) }
        guard !missing.isEmpty else { return nil }
        let nowCovered: String? = wanted == nil ? nil : SinkList.text(Array(had) + missing)
        try db.execute(
            sql: "UPDATE dedupe_by_time SET sinks = ? WHERE source = ? AND event_time = ? AND upstream_id = ?",
            arguments: [nowCovered] + arguments)
        return missing
    }

    /// The spool's events after `seq` meant for `sink`, oldest first, at most `limit` of them and
    /// at most `maxBytes` of payload (always at least one). Memory is bounded by the batch, not the backlog.
    public func readBatch(sink: String, after seq: Int64, limit: Int, maxBytes: Int = .max) throws -> [SpoolRecord] {
        try nextBatch(sink: sink, after: seq, limit: limit, maxBytes: maxBytes).records
    }

    /// `readBatch`, plus how far `sink` may move its offset once the batch is done.
    ///
    /// When the batch holds every event left for `sink`, that is the spool's head rather than the
    /// batch's last event: the rows between are meant only for other sinks (a backfill or a replay
    /// for them), and an offset left behind them would keep them from ever being pruned, so the
    /// spool would look full forever. Read in one snapshot, and sequence numbers are handed out in
    /// commit order, so nothing for `sink` can later appear at or below that head.
    public func nextBatch(sink: String, after seq: Int64, limit: Int, maxBytes: Int = .max) throws -> SpoolBatch {
        let (taken, passedThrough) = try pool.read { db in
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.spoolColumns) FROM spool
                        WHERE \(Self.rowsAfter) AND (only_sinks IS NULL OR instr(only_sinks, ?2) > 0)
                        ORDER BY seq
                        """),
                arguments: [seq, "," + sink + ","])
            var events = SpooledEvents(rows, after: seq)
            let taken = try BatchCut.take(limit: limit, maxBytes: maxBytes, size: \.size) { try events.next() }
            let passedThrough = try BatchCut.passedThrough(last: taken.items.last?.record.seq, exhausted: taken.exhausted, after: seq) {
                try Int64.fetchOne(db.cachedStatement(sql: Self.newestEventSQL))
            }
            return (taken.items, passedThrough)
        }
        return SpoolBatch(records: try resolvePayloads(taken), passedThrough: passedThrough)
    }

    /// A spooled event as read: the record, and where its payload lies when it is not in the row.
    struct SpooledRow {
        var record: SpoolRecord
        var location: SpoolSegments.Location?

        var size: Int { location?.length ?? record.payload.count }
    }

    /// The event of a spool row of one event (selected as `spoolColumns`).
    static func spooledRow(_ row: Row) -> SpooledRow {
        let record = SpoolRecord(
            seq: row[0], source: row[1], eventID: row[2],
            eventTime: Date(timeIntervalSince1970: row[3]), eventType: row[4], severity: row[5],
            action: row[6], outcome: row[7], payload: row[8],
            spooledAt: Date(timeIntervalSince1970: row[9]))
        guard let segment = row[10] as Int64? else { return SpooledRow(record: record, location: nil) }
        return SpooledRow(record: record, location: SpoolSegments.Location(segment: segment, offset: row[11], length: row[12]))
    }

    /// The records with their payloads read from the segments.
    func resolvePayloads(_ rows: [SpooledRow]) throws -> [SpoolRecord] {
        let payloads = try segments.read(rows.compactMap(\.location))
        var next = payloads.makeIterator()
        return rows.map { row in
            guard row.location != nil, let payload = next.next() else { return row.record }
            var record = row.record
            record.payload = payload
            return record
        }
    }

    /// Ensures each sink has an offset row. A sink seen for the first time starts at the
    /// beginning of what is still spooled, so it receives everything not yet pruned.
    public func registerSinks(_ sinks: [String], now: Date = Date()) throws {
        defer { offsetMoves.add(1, ordering: .releasing) }
        return try pool.write { db in
            for sink in sinks {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO sink_offset (sink, delivered_seq, updated_at) VALUES (?, 0, ?)",
                    arguments: [sink, now.timeIntervalSince1970])
            }
        }
    }

    /// The highest sequence number `sink` has passed (delivered, filtered out or dead-lettered).
    public func offset(sink: String) throws -> Int64 {
        try pool.read { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT delivered_seq FROM sink_offset WHERE sink = ?"), arguments: [sink]) ?? 0
        }
    }

    /// Records that `sink` is done with every event up to `seq`: the dead letters are written and
    /// the offset moves in one transaction. The offset never moves backwards.
    /// `chainHeads`: the sink's integrity chains as they stand after these events, written in
    /// the same transaction as the offset.
    public func commitDelivery(
        sink: String, through seq: Int64, deadLetters: [DeadLetterEntry] = [], chainHeads: [ChainHead] = [], now: Date = Date()
    ) throws {
        defer { offsetMoves.add(1, ordering: .releasing) }
        return try pool.write { db in
            for head in chainHeads {
                try db.execute(
                    sql: """
                        INSERT INTO integrity_chain (sink, source, seq, hash) VALUES (?, ?, ?, ?)
                        ON CONFLICT(sink, source) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
                        """,
                    arguments: [sink, head.source, head.seq, head.hash])
            }
            for letter in deadLetters {
                let r = letter.record
                try db.execute(
                    sql: """
                        INSERT INTO dead_letter (sink, seq, source, event_id, event_time, event_type, severity, action, outcome, payload, status, reason, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        sink, r.seq, r.source, r.eventID, r.eventTime.timeIntervalSince1970, r.eventType, r.severity,
                        r.action, r.outcome, r.payload, letter.status, letter.reason, now.timeIntervalSince1970,
                    ])
            }
            // A delivery clears the sink's last error, unless it dead-lettered events: then that
            // is the error `status` shows, beside the dead letters' count.
            let error = deadLetters.first.map { "dead-lettered \(deadLetters.count) event(s): \($0.reason)" }
            try db.cachedStatement(
                sql: """
                    INSERT INTO sink_offset (sink, delivered_seq, updated_at, last_error, last_error_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(sink) DO UPDATE SET delivered_seq = max(delivered_seq, excluded.delivered_seq),
                        updated_at = excluded.updated_at, last_error = excluded.last_error, last_error_at = excluded.last_error_at
                    """
            ).execute(arguments: [sink, seq, now.timeIntervalSince1970, error, error == nil ? nil : now.timeIntervalSince1970])
        }
    }

    /// The heads of `sink`'s integrity chains, by source (none before its first chained event).
    public func chainHeads(sink: String) throws -> [String: ChainHead] {
        try pool.read { db in
            var heads: [String: ChainHead] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT source, seq, hash FROM integrity_chain WHERE sink = ?", arguments: [sink]) {
                let head = ChainHead(source: row[0], seq: row[1], hash: row[2])
                heads[head.source] = head
            }
            return heads
        }
    }

    /// Remembers a sink's latest failure for `status` (the offset is unchanged).
    public func recordSinkError(sink: String, error: String, now: Date = Date()) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE sink_offset SET last_error = ?, last_error_at = ? WHERE sink = ?",
                arguments: [error, now.timeIntervalSince1970, sink])
        }
    }

    /// Deletes spooled events that every one of `activeSinks` has passed. Returns how many.
    @discardableResult
    public func prune(activeSinks: [String]) throws -> Int {
        guard !activeSinks.isEmpty else { return 0 }
        var pruned = 0
        try pool.writeWithoutTransaction { db in
            var oldestInUse: Int64?
            try db.inTransaction {
                (pruned, oldestInUse) = try prunedRows(db, activeSinks: activeSinks)
                return .commit
            }
            // After the commit (a rolled-back prune leaves its rows), still inside the write lock.
            try segments.prune(oldestInUse: oldestInUse)
        }
        return pruned
    }

    /// Deletes the rows every one of `activeSinks` has passed; returns how many, and the oldest
    /// segment the rows left still point into.
    private func prunedRows(_ db: Database, activeSinks: [String]) throws -> (Int, Int64?) {
        let placeholders = Array(repeating: "?", count: activeSinks.count).joined(separator: ",")
        // A configured sink without an offset row has passed nothing.
        let minimum =
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT CASE WHEN count(*) < \(activeSinks.count) THEN 0 ELSE min(delivered_seq) END
                    FROM sink_offset WHERE sink IN (\(placeholders))
                    """,
                arguments: StatementArguments(activeSinks)) ?? 0
        let passed = "seq <= ?1 AND coalesce(last_seq, seq) <= ?1"
        var pruned =
            try Int.fetchOne(
                db, sql: "SELECT coalesce(sum(coalesce(last_seq, seq) - seq + 1), 0) FROM spool WHERE \(passed)", arguments: [minimum]) ?? 0
        try db.execute(sql: "DELETE FROM spool WHERE \(passed)", arguments: [minimum])
        pruned += try Self.trimRun(db, through: minimum)
        // Segment numbers grow with sequence numbers: the oldest row left names the oldest segment
        // still in use.
        let oldestInUse = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT segment FROM spool WHERE segment IS NOT NULL ORDER BY seq LIMIT 1"))
        return (pruned, oldestInUse)
    }

    /// How many events are spooled (delivered or not by some sink).
    /// Sequence numbers are contiguous between pruned prefixes, so this is O(log n), not a table scan.
    public func spoolDepth() throws -> Int64 {
        try pool.read { db in
            // Two subqueries: SQLite answers a lone min() or max() from the b-tree's edge, but a
            // query holding both scans the whole table (it was half of all reads, once per page).
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT (SELECT min(seq) FROM spool), (\(Self.newestEventSQL))"))
            guard let row, let low = row[0] as Int64?, let high = row[1] as Int64? else { return 0 }
            // Checked: only a damaged file could make it overflow, and `status` must still answer.
            let (span, overflow) = high.subtractingReportingOverflow(low)
            return overflow || span == .max ? .max : span + 1
        }
    }

    /// Back-pressure: whether `limit` events or more wait, read only when what this store added
    /// since the last read could have filled it (`SpoolDepthBound`).
    public func spoolIsFull(limit: Int64) throws -> Bool {
        try depthBound.isFull(limit: limit, readDepth: spoolDepth)
    }

    /// The size of the spool's segment files together.
    public func spoolFileBytes() throws -> Int64? {
        try segments.diskBytes()
    }

    /// The highest sequence number ever spooled (0 when nothing was).
    public func headSeq() throws -> Int64 {
        try pool.read { db in
            try Int64.fetchOne(db, sql: Self.headSQL) ?? 0
        }
    }

    /// Removes dedupe keys first seen before `cutoff` (the end of `dedupe_window`): all of them,
    /// unless more than `DedupePages.rowsPerBatch × batchesPerPrune` pages' keys aged at once, whose
    /// rest the next call takes. A transaction per batch, so appends go on between them.
    @discardableResult
    public func pruneDedupe(seenBefore cutoff: Date) throws -> Int {
        let cutoff = cutoff.timeIntervalSince1970
        var pruned = try pool.write { db in
            try db.execute(sql: "DELETE FROM dedupe WHERE seen_at < ?", arguments: [cutoff])
            return db.changesCount
        }
        for _ in 0..<DedupePages.batchesPerPrune {
            let batch = try pool.write { db in try DedupePages.prune(db, seenBefore: cutoff) }
            pruned += batch.keys
            if batch.rows < DedupePages.rowsPerBatch { break }
        }
        return pruned
    }

    /// Number of upstream ids currently remembered for `source` (an id under two times once).
    public func dedupeCount(source: String) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(
                db,
                sql:
                    "SELECT count(*) FROM (SELECT upstream_id FROM dedupe_by_time WHERE source = ?1 UNION SELECT upstream_id FROM dedupe WHERE source = ?1)",
                arguments: [source]) ?? 0
        }
    }
}

extension StateStore {
    /// Every upstream id of `source` in the dedupe index: what has been fetched and spooled
    /// (within `dedupe_window`). Tests use it to prove the cursor never ran ahead of the spool.
    public func seenUpstreamIDs(source: String) throws -> Set<String> {
        try pool.read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT upstream_id FROM dedupe_by_time WHERE source = ?1 UNION SELECT upstream_id FROM dedupe WHERE source = ?1",
                    arguments: [source]))
        }
    }
}

extension StateStore {
    /// About how many events (up to `limit`) wait after `seq` for `sink`, when the oldest was
    /// spooled, and how far the offset may move when none wait (see `nextBatch`).
    ///
    /// Touches a handful of pages, whatever the backlog: payloads share the rows' pages, and WAL
    /// readers drop their page cache after every write, so counting the rows themselves every
    /// 50 ms re-read up to a whole batch of payloads from disk (most of the forwarder's reads).
    /// The count is by sequence numbers from the first event meant for `sink`, so events after it
    /// meant only for other sinks (backfills, replays) count too: at worst a batch leaves early.
    public func pendingSummary(sink: String, after seq: Int64, limit: Int) throws -> PendingSummary {
        try pool.read { db in
            let head = try Int64.fetchOne(db.cachedStatement(sql: Self.newestEventSQL)) ?? seq
            guard
                let first = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT seq, spooled_at FROM spool
                            WHERE \(Self.rowsAfter) AND (only_sinks IS NULL OR instr(only_sinks, ?2) > 0)
                            ORDER BY seq LIMIT 1
                            """),
                    arguments: [seq, "," + sink + ","])
            else { return PendingSummary(count: 0, oldestSpooledAt: nil, idleThrough: max(seq, head)) }
            // A run may begin before the first event after `seq`.
            let firstSeq = max(first[0] as Int64, seq.addingReportingOverflow(1).overflow ? seq : seq + 1)
            let count = Int(min(Int64(limit), max(head, firstSeq) - firstSeq + 1))
            return PendingSummary(count: count, oldestSpooledAt: Date(timeIntervalSince1970: first[1]), idleThrough: seq)
        }
    }
}

/// A sink's next batch and the offset it may move to once the batch is handled.
public struct SpoolBatch: Sendable {
    public var records: [SpoolRecord]
    public var passedThrough: Int64
}

/// What `pendingSummary` found for one sink.
public struct PendingSummary: Sendable, Equatable {
    public var count: Int
    public var oldestSpooledAt: Date?
    /// With nothing pending: the spool's head, which the sink may adopt as its offset.
    public var idleThrough: Int64
}

/// A set of sink names as stored in `only_sinks` and `dedupe.sinks`: `,a,b,`, so `instr(…, ",a,")`
/// finds one without matching a prefix of another.
enum SinkList {
    static func text(_ sinks: [String]) -> String {
        "," + sinks.sorted().joined(separator: ",") + ","
    }

    static func names(_ text: String) -> [String] {
        text.split(separator: ",").map(String.init)
    }
}
