import Foundation
import NIOCore
import PostgresNIO

extension PostgresStateStore {
    public func appendPage(
        source: String, entries: [SpoolEntry], cursor: String?, onlySinks: [String]?, walk: WalkUpdate, now: Date
    ) throws -> AppendResult {
        try connector.transaction { session in
            try checkEpoch(session, source: source)
            let result = try Self.insert(session, source: source, entries: entries, onlySinks: onlySinks, now: now)
            if let cursor {
                try Self.writeCursor(session, source: source, position: cursor, now: now, success: true)
            }
            try Self.write(walk, source: source, session)
            return result
        }
    }

    /// Dedupes and spools one page inside the caller's transaction, in three statements whatever
    /// the page's size: the dedupe keys (returning the new ones), the few ids seen before for
    /// other sinks only, and every new event in one multi-row insert, in page order.
    static func insert(
        _ session: PostgresSession, source: String, entries: [SpoolEntry], onlySinks: [String]?, now: Date
    ) throws
        -> AppendResult
    {
        guard !entries.isEmpty else { return AppendResult(inserted: 0, duplicates: 0) }
        try lockSpool(session, sources: [source])
        let sinkList = onlySinks.map(SinkList.text)
        let stamp = now.timeIntervalSince1970
        let ids = entries.map(\.upstreamID)
        let fresh = Set(
            try session.run(
                """
                INSERT INTO dedupe (source, upstream_id, seen_at, sinks)
                SELECT \(source), id, \(stamp), \(sinkList) FROM unnest(\(ids)::text[]) AS id
                ON CONFLICT DO NOTHING RETURNING upstream_id
                """
            ).map { try $0.column(0, as: String.self) })
        // Ids seen before: spooled again only for sinks they have not been spooled for yet.
        let seenBefore = Set(ids).subtracting(fresh)
        let stillMissing =
            seenBefore.isEmpty
            ? [:] : try sinksStillMissing(session, source: source, upstreamIDs: Array(seenBefore), wanted: onlySinks)

        var handled = Set<String>()
        var rows: [(entry: SpoolEntry, sinks: String?)] = []
        for entry in entries where handled.insert(entry.upstreamID).inserted {
            if fresh.contains(entry.upstreamID) {
                rows.append((entry, sinkList))
            } else if let missing = stillMissing[entry.upstreamID] {
                rows.append((entry, SinkList.text(missing)))
            }
        }
        if !rows.isEmpty {
            let e = rows.map(\.entry)
            // Empty text stands for "every sink" in the array (NULL elements do not bind); NULLIF restores it.
            try session.execute(
                """
                INSERT INTO spool (source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at, only_sinks)
                SELECT \(source), event_id, event_time, event_type, severity, action, outcome, payload, \(stamp), NULLIF(sinks, '')
                FROM unnest(\(e.map(\.eventID))::text[], \(e.map { $0.eventTime.timeIntervalSince1970 })::float8[],
                    \(e.map(\.eventType))::text[], \(e.map(\.severity))::text[], \(e.map(\.action))::text[], \(e.map(\.outcome))::text[],
                    \(e.map { ByteBuffer(bytes: $0.payload) })::bytea[], \(rows.map { $0.sinks ?? "" })::text[])
                    WITH ORDINALITY AS page(event_id, event_time, event_type, severity, action, outcome, payload, sinks, n)
                ORDER BY n
                """)
        }
        return AppendResult(inserted: rows.count, duplicates: entries.count - rows.count)
    }

    /// Several writers may add events of one source (its owner's polls, a backfill, a dead-letter
    /// replay, each on a connection of its own), and sequence numbers are handed out before their
    /// transactions commit, so not in commit order. A sink that moves its offset over the spool's
    /// head (see `nextBatch`) must not pass events that are still being committed: writers of a
    /// source hold this lock until they commit, and readers take it shared before they read.
    static func lockSpool(_ session: PostgresSession, sources: [String], shared: Bool = false) throws {
        guard !sources.isEmpty else { return }
        let function = shared ? "pg_advisory_xact_lock_shared" : "pg_advisory_xact_lock"
        try session.execute(
            """
            SELECT \(unescaped: function)(\(spoolLockSpace), hashtext(name)) FROM (SELECT DISTINCT name FROM unnest(\(sources)::text[]) AS held(name) ORDER BY name) AS ordered
            """)
    }

    /// The first key of the spool's advisory locks ("AF"), apart from other programs' locks.
    static let spoolLockSpace: Int32 = 0x4146

    /// For ids already in the dedupe index: the sinks among `wanted` (nil: every registered sink)
    /// each was not yet spooled for, recorded as covered now. Ids spooled for every sink (the
    /// common duplicate, an overlap re-read) and ids missing nothing are left out.
    private static func sinksStillMissing(
        _ session: PostgresSession, source: String, upstreamIDs: [String], wanted: [String]?
    ) throws
        -> [String: [String]]
    {
        let partial = try session.run(
            "SELECT upstream_id, sinks FROM dedupe WHERE source = \(source) AND upstream_id = ANY(\(upstreamIDs)::text[]) AND sinks IS NOT NULL")
        guard !partial.isEmpty else { return [:] }
        let targets = try wanted ?? session.run("SELECT sink FROM sink_offset ORDER BY sink").map { try $0.column(0, as: String.self) }
        var missingByID: [String: [String]] = [:]
        for row in partial {
            let id = try row.column(0, as: String.self)
            let had = Set(SinkList.names(try row.column(1, as: String.self)))
            let missing = targets.filter { !had.contains($0) }
            guard !missing.isEmpty else { continue }
            let nowCovered: String? = wanted == nil ? nil : SinkList.text(Array(had) + missing)
            try session.execute("UPDATE dedupe SET sinks = \(nowCovered) WHERE source = \(source) AND upstream_id = \(id)")
            missingByID[id] = missing
        }
        return missingByID
    }

    public func pendingSummary(sink: String, after seq: Int64, limit: Int) throws -> PendingSummary {
        if let scope = roundScope(sink: sink) { return try agentPendingSummary(sink: sink, scope: scope, after: seq, limit: limit) }
        return try reader.withSession { session in
            let head = try session.scalar("SELECT max(seq) FROM spool", as: Int64.self) ?? seq
            guard
                let first = try session.run(
                    """
                    SELECT seq, spooled_at FROM spool
                    WHERE seq > \(seq) AND (only_sinks IS NULL OR strpos(only_sinks, \("," + sink + ",")) > 0)
                    ORDER BY seq LIMIT 1
                    """
                ).first
            else { return PendingSummary(count: 0, oldestSpooledAt: nil, idleThrough: max(seq, head)) }
            let firstSeq = try first.column(0, as: Int64.self)
            let count = Int(min(Int64(limit), max(head, firstSeq) - firstSeq + 1))
            return PendingSummary(
                count: count, oldestSpooledAt: Date(timeIntervalSince1970: try first.column(1, as: Double.self)), idleThrough: seq)
        }
    }

    public func readBatch(sink: String, after seq: Int64, limit: Int, maxBytes: Int) throws -> [SpoolRecord] {
        try nextBatch(sink: sink, after: seq, limit: limit, maxBytes: maxBytes).records
    }

    /// As the SQLite store's: when the batch holds everything left for `sink`, the offset may move
    /// to the spool's head, past rows meant only for other sinks. The batch and the head are
    /// read in one snapshot.
    public func nextBatch(sink: String, after seq: Int64, limit: Int, maxBytes: Int) throws -> SpoolBatch {
        if let scope = roundScope(sink: sink) {
            return try agentNextBatch(sink: sink, scope: scope, after: seq, limit: limit, maxBytes: maxBytes)
        }
        return try reader.transaction("REPEATABLE READ, READ ONLY") { session in
            let rows = try session.run(
                """
                SELECT seq, source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at
                FROM spool
                WHERE seq > \(seq) AND (only_sinks IS NULL OR strpos(only_sinks, \("," + sink + ",")) > 0)
                ORDER BY seq LIMIT \(limit)
                """)
            var remaining = rows.makeIterator()
            let taken = try BatchCut.take(limit: limit, maxBytes: maxBytes) { try remaining.next().map(Self.spoolRecord) }
            return try BatchCut.batch(taken, after: seq) { try session.scalar("SELECT max(seq) FROM spool", as: Int64.self) }
        }
    }

    static func spoolRecord(_ row: PostgresRow) throws -> SpoolRecord {
        let r = row.makeRandomAccess()
        return SpoolRecord(
            seq: try r[0].decode(Int64.self), source: try r[1].decode(String.self), eventID: try r[2].decode(String.self),
            eventTime: Date(timeIntervalSince1970: try r[3].decode(Double.self)), eventType: try r[4].decode(String.self),
            severity: try r[5].decode(String.self), action: try r[6].decode(String.self), outcome: try r[7].decode(String.self),
            payload: try r[8].decode(Data.self), spooledAt: Date(timeIntervalSince1970: try r[9].decode(Double.self)))
    }

    /// Acting for an agent, its own sources' events are counted (`spoolDepth`), which takes time in
    /// proportion to them: asked before every group of pages, a backlog of 400,000 events made
    /// each check cost about 45 ms and the whole run two to three times slower. The spool's whole
    /// range of sequence numbers, read from the ends of its key, bounds that count from above:
    /// below the limit, there is room. Only above it are the agent's events counted, and only up
    /// to the limit.
    public func spoolIsFull(limit: Int64) throws -> Bool {
        let (agent, held) = leases.withLock { ($0.agent, $0.epochs.keys.sorted()) }
        guard agent != nil else { return try spoolDepth() >= limit }
        guard !held.isEmpty else { return false }
        return try reader.withSession { session in
            guard let range = try session.scalar("SELECT (SELECT max(seq) FROM spool) - (SELECT min(seq) FROM spool) + 1", as: Int64.self),
                range >= limit
            else { return false }
            let counted = try session.scalar(
                "SELECT count(*) FROM (SELECT 1 FROM spool WHERE source = ANY(\(held)::text[]) LIMIT \(limit)) AS held_events",
                as: Int64.self)
            return (counted ?? 0) >= limit
        }
    }

    /// Acting for an agent: the events of the sources it holds, counted. The whole spool's range
    /// would be pinned by another agent's backlog, or for good by the last rows of a source no
    /// agent holds any more (removed from the configuration), and would pause this agent's polls.
    public func spoolDepth() throws -> Int64 {
        let (agent, held) = leases.withLock { ($0.agent, $0.epochs.keys.sorted()) }
        if agent != nil {
            guard !held.isEmpty else { return 0 }
            return try reader.withSession { try $0.scalar("SELECT count(*) FROM spool WHERE source = ANY(\(held)::text[])", as: Int64.self) ?? 0 }
        }
        return try reader.withSession { session in
            guard let row = try session.run("SELECT min(seq), max(seq) FROM spool").first,
                let low = try row.column(0, as: Int64?.self), let high = try row.column(1, as: Int64?.self)
            else { return 0 }
            return high - low + 1
        }
    }

    /// The highest sequence number ever spooled and committed (0 when nothing was). The identity's
    /// own counter would count rolled-back pages too; after a full prune the sinks' offsets
    /// remember the head.
    public func headSeq() throws -> Int64 {
        try reader.withSession { session in
            try session.scalar(
                "SELECT greatest((SELECT max(seq) FROM spool), (SELECT max(delivered_seq) FROM sink_offset), 0)", as: Int64.self) ?? 0
        }
    }

    public func prune(activeSinks: [String]) throws -> Int {
        guard !activeSinks.isEmpty else { return 0 }
        let (agent, held) = leases.withLock { ($0.agent, $0.epochs.keys.sorted()) }
        if agent != nil { return try agentPrune(activeSinks: activeSinks, held: held) }
        return try connector.transaction { session in
            // A configured sink without an offset row has passed nothing.
            let minimum =
                try session.scalar(
                    """
                    SELECT CASE WHEN count(*) < \(activeSinks.count) THEN 0 ELSE min(delivered_seq) END
                    FROM sink_offset WHERE sink = ANY(\(activeSinks)::text[])
                    """, as: Int64.self) ?? 0
            return try session.execute("DELETE FROM spool WHERE seq <= \(minimum)")
        }
    }

    public func pruneDedupe(seenBefore cutoff: Date) throws -> Int {
        try connector.withSession { try $0.execute("DELETE FROM dedupe WHERE seen_at < \(cutoff.timeIntervalSince1970)") }
    }

    public func dedupeCount(source: String) throws -> Int {
        try reader.withSession { Int(try $0.scalar("SELECT count(*) FROM dedupe WHERE source = \(source)", as: Int64.self) ?? 0) }
    }

    public func seenUpstreamIDs(source: String) throws -> Set<String> {
        try reader.withSession { session in
            Set(try session.run("SELECT upstream_id FROM dedupe WHERE source = \(source)").map { try $0.column(0, as: String.self) })
        }
    }
}
