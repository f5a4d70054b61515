import Foundation
import GRDB
import NIOCore
import PostgresNIO

/// `state copy`: an SQLite state into an empty PostgreSQL one, in one PostgreSQL transaction, so
/// agents can move up without sending anything again: cursors, the spool with its sequence
/// numbers, sink offsets (also per sink and source, which agents deliver by), the dedupe index,
/// dead letters, backfill jobs, walk progress and integrity chain heads.
public enum StateCopy {
    public struct Summary: Sendable, Equatable, CustomStringConvertible {
        public var cursors = 0
        public var events = 0
        public var sinks = 0
        public var dedupeKeys = 0
        public var deadLetters = 0
        public var backfillJobs = 0

        public var description: String {
            "\(cursors) cursor(s), \(events) spooled event(s), \(sinks) sink offset(s), \(dedupeKeys) dedupe key(s), "
                + "\(deadLetters) dead letter(s), \(backfillJobs) backfill job(s)"
        }
    }

    /// Rows per statement for the large tables.
    static let chunk = 1000

    public static func copy(from sqlite: StateStore, to target: PostgresStateStore) throws -> Summary {
        try target.connector.transaction { session in
            try refuseNonEmpty(session, target: target)
            var summary = Summary()
            try sqlite.pool.read { db in
                summary.cursors = try copyCursors(db, session)
                summary.events = try copySpool(db, session, from: sqlite)
                summary.sinks = try copyOffsets(db, session)
                summary.dedupeKeys = try copyDedupe(db, session)
                summary.deadLetters = try copyDeadLetters(db, session)
                summary.backfillJobs = try copyBackfill(db, session)
                try copySmallTables(db, session)
            }
            return summary
        }
    }

    private static func refuseNonEmpty(_ session: PostgresSession, target: PostgresStateStore) throws {
        let tables = ["source_cursor", "spool", "sink_offset", "dedupe", "dead_letter", "backfill_job", "source_lease"]
        for table in tables {
            let rows = try session.scalar("SELECT count(*) FROM (SELECT 1 FROM \(unescaped: table) LIMIT 1) AS any_row", as: Int64.self) ?? 0
            if rows > 0 {
                throw PostgresStateError(
                    "PostgreSQL state \(target.location.redacted) is not empty (\(table) has rows); copy only into a new database, before any agent runs on it"
                )
            }
        }
    }

    private static func copyCursors(_ db: Database, _ session: PostgresSession) throws -> Int {
        let rows = try Row.fetchAll(db, sql: "SELECT source, position, updated_at, last_success, last_error, last_error_at FROM source_cursor")
        for row in rows {
            let (source, position, updated): (String, String?, Double) = (row[0], row[1], row[2])
            let (success, error, errorAt): (Double?, String?, Double?) = (row[3], row[4], row[5])
            try session.execute(
                """
                INSERT INTO source_cursor (source, position, updated_at, last_success, last_error, last_error_at)
                VALUES (\(source), \(position), \(updated), \(success), \(error), \(errorAt))
                """)
        }
        return rows.count
    }

    /// The events keep their sequence numbers, so every sink's offset still means what it meant;
    /// the identity goes on after the highest ever handed out.
    private static func copySpool(_ db: Database, _ session: PostgresSession, from sqlite: StateStore) throws -> Int {
        var copied = 0
        var after: Int64 = 0
        while true {
            // Whole rows (a run of events, or one), until the chunk holds about `chunk` events.
            let rows = try Row.fetchCursor(
                db, sql: "SELECT \(StateStore.spoolColumns) FROM spool WHERE seq > ? ORDER BY seq", arguments: [after])
            var events: [StateStore.SpooledRow] = []
            var onlySinks: [String] = []
            while events.count < chunk, let row = try rows.next() {
                let expanded = try StateStore.spooledRows(row)
                events += expanded
                onlySinks += Array(repeating: (row[15] as String?) ?? "", count: expanded.count)
                after = row[0]
            }
            guard !events.isEmpty else { break }
            // Payloads in segment files are read from there.
            let records = try sqlite.resolvePayloads(events)
            let text = { (field: KeyPath<SpoolRecord, String>) -> [String] in records.map { $0[keyPath: field] } }
            let seqs = records.map(\.seq)
            let times = records.map(\.eventTime.timeIntervalSince1970)
            let payloads = records.map { ByteBuffer(bytes: $0.payload) }
            let spooledAt = records.map(\.spooledAt.timeIntervalSince1970)
            try session.execute(
                """
                INSERT INTO spool (seq, source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at, only_sinks)
                OVERRIDING SYSTEM VALUE
                SELECT seq, source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at, NULLIF(only_sinks, '')
                FROM unnest(\(seqs)::int8[], \(text(\.source))::text[], \(text(\.eventID))::text[], \(times)::float8[],
                    \(text(\.eventType))::text[], \(text(\.severity))::text[], \(text(\.action))::text[], \(text(\.outcome))::text[],
                    \(payloads)::bytea[], \(spooledAt)::float8[], \(onlySinks)::text[])
                    AS copied(seq, source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at, only_sinks)
                """)
            copied += records.count
        }
        let head = try Int64.fetchOne(db, sql: StateStore.headSQL) ?? 0
        if head > 0 { try session.execute("SELECT setval(pg_get_serial_sequence('spool', 'seq'), \(head))") }
        return copied
    }

    /// Each sink's offset, and the same offset for every source the state knows: agents deliver
    /// by sink and source.
    private static func copyOffsets(_ db: Database, _ session: PostgresSession) throws -> Int {
        let rows = try Row.fetchAll(db, sql: "SELECT sink, delivered_seq, updated_at, last_error, last_error_at FROM sink_offset")
        let sources = try String.fetchAll(
            db,
            sql:
                "SELECT source FROM source_cursor UNION SELECT DISTINCT source FROM spool UNION SELECT DISTINCT source FROM dedupe_by_time UNION SELECT DISTINCT source FROM dedupe"
        )
        for row in rows {
            let (sink, delivered, updated): (String, Int64, Double) = (row[0], row[1], row[2])
            let (error, errorAt): (String?, Double?) = (row[3], row[4])
            try session.execute(
                """
                INSERT INTO sink_offset (sink, delivered_seq, updated_at, last_error, last_error_at)
                VALUES (\(sink), \(delivered), \(updated), \(error), \(errorAt))
                """)
            if !sources.isEmpty {
                try session.execute(
                    """
                    INSERT INTO sink_source_offset (sink, source, delivered_seq)
                    SELECT \(sink), source, \(delivered) FROM unnest(\(sources)::text[]) AS known(source)
                    """)
            }
        }
        return rows.count
    }

    /// Both SQLite dedupe tables (`dedupe_by_time`, and `dedupe` from before it). PostgreSQL keys
    /// by upstream id alone: an id remembered under two times arrives once, with its first
    /// sighting and every sink either row covered (NULL, every sink, when either says so).
    private static func copyDedupe(_ db: Database, _ session: PostgresSession) throws -> Int {
        var after: [DatabaseValueConvertible] = ["", -Double.infinity, ""]
        while true {
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT source, upstream_id, seen_at, sinks, event_time FROM dedupe_by_time
                    WHERE (source, event_time, upstream_id) > (?, ?, ?) ORDER BY source, event_time, upstream_id LIMIT ?
                    """, arguments: StatementArguments(after + [chunk]))
            guard let last = rows.last else { break }
            try insertDedupe(rows, session)
            after = [last[0] as String, last[4] as Double, last[1] as String]
        }
        var legacyAfter = ("", "")
        while true {
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT source, upstream_id, seen_at, sinks FROM dedupe
                    WHERE (source, upstream_id) > (?, ?) ORDER BY source, upstream_id LIMIT ?
                    """, arguments: [legacyAfter.0, legacyAfter.1, chunk])
            guard let last = rows.last else { break }
            try insertDedupe(rows, session)
            legacyAfter = (last[0], last[1])
        }
        return Int(try session.scalar("SELECT count(*) FROM dedupe", as: Int64.self) ?? 0)
    }

    /// Rows of (source, upstream_id, seen_at, sinks), merged with any row already there for the
    /// same id. One statement may not touch a row twice, so repeats within `rows` merge first.
    private static func insertDedupe(_ rows: [Row], _ session: PostgresSession) throws {
        var merged: [String: (source: String, id: String, seen: Double, sinks: String?)] = [:]
        var order: [String] = []
        for row in rows {
            let (source, id, seen, sinks): (String, String, Double, String?) = (row[0], row[1], row[2], row[3])
            let key = source + "\u{0}" + id
            guard let earlier = merged[key] else {
                merged[key] = (source, id, seen, sinks)
                order.append(key)
                continue
            }
            let covered = earlier.sinks.flatMap { had in sinks.map { had + $0.dropFirst() } }
            merged[key] = (source, id, min(earlier.seen, seen), covered)
        }
        let kept = order.compactMap { merged[$0] }
        let sources = kept.map(\.source)
        let ids = kept.map(\.id)
        let seen = kept.map(\.seen)
        let sinks = kept.map { $0.sinks ?? "" }
        try session.execute(
            """
            INSERT INTO dedupe (source, upstream_id, seen_at, sinks)
            SELECT source, upstream_id, seen_at, NULLIF(sinks, '')
            FROM unnest(\(sources)::text[], \(ids)::text[], \(seen)::float8[], \(sinks)::text[]) AS copied(source, upstream_id, seen_at, sinks)
            ON CONFLICT (source, upstream_id) DO UPDATE SET
                seen_at = LEAST(dedupe.seen_at, EXCLUDED.seen_at),
                sinks = CASE WHEN dedupe.sinks IS NULL OR EXCLUDED.sinks IS NULL THEN NULL
                    ELSE dedupe.sinks || substr(EXCLUDED.sinks, 2) END
            """)
    }

    private static func copyDeadLetters(_ db: Database, _ session: PostgresSession) throws -> Int {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT id, sink, seq, source, event_id, event_time, event_type, severity, action, outcome, payload, status, reason, created_at
                FROM dead_letter ORDER BY id
                """)
        for row in rows {
            let (id, sink, seq, source, eventID): (Int64, String, Int64, String, String) = (row[0], row[1], row[2], row[3], row[4])
            let (time, type, severity, action, outcome): (Double, String, String, String, String) = (row[5], row[6], row[7], row[8], row[9])
            let (payload, status, reason, created): (Data, Int32, String, Double) = (row[10], row[11], row[12], row[13])
            try session.execute(
                """
                INSERT INTO dead_letter (id, sink, seq, source, event_id, event_time, event_type, severity, action, outcome, payload, status, reason, created_at)
                OVERRIDING SYSTEM VALUE VALUES (\(id), \(sink), \(seq), \(source), \(eventID), \(time), \(type), \(severity), \(action), \(outcome),
                    \(ByteBuffer(bytes: payload)), \(status), \(reason), \(created))
                """)
        }
        if let last = rows.last {
            try session.execute("SELECT setval(pg_get_serial_sequence('dead_letter', 'id'), \(last[0] as Int64))")
        }
        return rows.count
    }

    private static func copyBackfill(_ db: Database, _ session: PostgresSession) throws -> Int {
        let jobs = try Row.fetchAll(
            db,
            sql:
                "SELECT id, source, range_start, range_end, position, only_sinks, events, created_at, updated_at, finished_at FROM backfill_job ORDER BY id"
        )
        for row in jobs {
            let (id, source, start, end, position): (Int64, String, Double, Double, Double) = (row[0], row[1], row[2], row[3], row[4])
            let (sinks, events, created, updated, finished): (String?, Int64, Double, Double, Double?) = (row[5], row[6], row[7], row[8], row[9])
            try session.execute(
                """
                INSERT INTO backfill_job (id, source, range_start, range_end, position, only_sinks, events, created_at, updated_at, finished_at)
                OVERRIDING SYSTEM VALUE VALUES (\(id), \(source), \(start), \(end), \(position), \(sinks), \(events), \(created), \(updated), \(finished))
                """)
        }
        for row in try Row.fetchAll(db, sql: "SELECT job_id, window_start, window_end FROM backfill_window") {
            let (job, start, end): (Int64, Double, Double) = (row[0], row[1], row[2])
            try session.execute("INSERT INTO backfill_window (job_id, window_start, window_end) VALUES (\(job), \(start), \(end))")
        }
        if let last = jobs.last {
            try session.execute("SELECT setval(pg_get_serial_sequence('backfill_job', 'id'), \(last[0] as Int64))")
        }
        return jobs.count
    }

    private static func copySmallTables(_ db: Database, _ session: PostgresSession) throws {
        for row in try Row.fetchAll(db, sql: "SELECT source, window_start, window_end, position FROM walk_progress") {
            let (source, start, end, position): (String, Double, Double, String) = (row[0], row[1], row[2], row[3])
            try session.execute(
                "INSERT INTO walk_progress (source, window_start, window_end, position) VALUES (\(source), \(start), \(end), \(position))")
        }
        for row in try Row.fetchAll(db, sql: "SELECT sink, source, seq, hash FROM integrity_chain") {
            let (sink, source, seq, hash): (String, String, Int64, String) = (row[0], row[1], row[2], row[3])
            try session.execute("INSERT INTO integrity_chain (sink, source, seq, hash) VALUES (\(sink), \(source), \(seq), \(hash))")
        }
    }
}
