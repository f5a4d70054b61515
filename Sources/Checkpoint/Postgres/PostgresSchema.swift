import Foundation
import PostgresNIO

/// The versioned schema of a PostgreSQL state. Never edit a released migration; add one.
///
/// The tables mirror the SQLite state's, column for column (times as epoch seconds in double
/// precision), so `state copy` and the shared behaviour tests need no translation.
enum PostgresSchema {
    /// Our marker: a database whose current schema holds tables but not this one is not ours.
    static let versionTable = "audit_forwarder_schema"

    /// Key of the advisory lock that lets one agent at a time migrate ("AFWD").
    static let migrationLockKey: Int64 = 0x4146_5744

    static let migrations: [(version: Int, sql: String)] = [
        (
            1,
            """
            CREATE TABLE source_cursor (
                source TEXT PRIMARY KEY,
                position TEXT,
                updated_at DOUBLE PRECISION NOT NULL,
                last_success DOUBLE PRECISION,
                last_error TEXT,
                last_error_at DOUBLE PRECISION
            );
            -- An identity never hands out a number twice, so sink offsets stay meaningful after a prune.
            CREATE TABLE spool (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                source TEXT NOT NULL,
                event_id TEXT NOT NULL,
                event_time DOUBLE PRECISION NOT NULL,
                event_type TEXT NOT NULL,
                severity TEXT NOT NULL,
                action TEXT NOT NULL,
                outcome TEXT NOT NULL,
                payload BYTEA NOT NULL,
                spooled_at DOUBLE PRECISION NOT NULL,
                -- NULL: every sink; else ',a,b,' — only these sinks (backfills, dead-letter replays).
                only_sinks TEXT
            );
            CREATE TABLE sink_offset (
                sink TEXT PRIMARY KEY,
                delivered_seq BIGINT NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                last_error TEXT,
                last_error_at DOUBLE PRECISION
            );
            CREATE TABLE dedupe (
                source TEXT NOT NULL,
                upstream_id TEXT NOT NULL,
                seen_at DOUBLE PRECISION NOT NULL,
                -- The sinks the id was spooled for, ',a,b,' (NULL: every sink).
                sinks TEXT,
                PRIMARY KEY (source, upstream_id)
            );
            CREATE INDEX dedupe_seen_at ON dedupe (seen_at);
            CREATE TABLE dead_letter (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                sink TEXT NOT NULL,
                seq BIGINT NOT NULL,
                source TEXT NOT NULL,
                event_id TEXT NOT NULL,
                event_time DOUBLE PRECISION NOT NULL,
                event_type TEXT NOT NULL,
                severity TEXT NOT NULL,
                action TEXT NOT NULL,
                outcome TEXT NOT NULL,
                payload BYTEA NOT NULL,
                status INTEGER NOT NULL,
                reason TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL
            );
            CREATE INDEX dead_letter_sink ON dead_letter (sink, id);
            CREATE TABLE backfill_job (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                source TEXT NOT NULL,
                range_start DOUBLE PRECISION NOT NULL,
                range_end DOUBLE PRECISION NOT NULL,
                -- Everything before this time is spooled; a resumed job starts here.
                position DOUBLE PRECISION NOT NULL,
                only_sinks TEXT,
                events BIGINT NOT NULL DEFAULT 0,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                finished_at DOUBLE PRECISION
            );
            -- Windows finished past their job's contiguous position (concurrent windows end out of order).
            CREATE TABLE backfill_window (
                job_id BIGINT NOT NULL REFERENCES backfill_job (id) ON DELETE CASCADE,
                window_start DOUBLE PRECISION NOT NULL,
                window_end DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (job_id, window_start)
            );
            -- A newest-first walk cut short: its window and the paging position of its next page.
            CREATE TABLE walk_progress (
                source TEXT PRIMARY KEY,
                window_start DOUBLE PRECISION NOT NULL,
                window_end DOUBLE PRECISION NOT NULL,
                position TEXT NOT NULL
            );
            -- Per sink and source, the head of the integrity chain of what the sink has passed.
            CREATE TABLE integrity_chain (
                sink TEXT NOT NULL,
                source TEXT NOT NULL,
                seq BIGINT NOT NULL,
                hash TEXT NOT NULL,
                PRIMARY KEY (sink, source)
            );
            """
        ),
        (
            2,
            """
            -- Each source is leased to one agent at a time (DESIGN.md §8). Taking a free or expired
            -- lease raises its epoch; every change to the source checks the epoch first.
            CREATE TABLE source_lease (
                source TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                epoch BIGINT NOT NULL,
                expires_at TIMESTAMPTZ NOT NULL
            );
            CREATE INDEX source_lease_owner ON source_lease (owner);
            -- Live agents, by their heartbeats (written with each renewal).
            CREATE TABLE agent (
                name TEXT PRIMARY KEY,
                heartbeat_at TIMESTAMPTZ NOT NULL
            );
            -- With leases, each source's owner delivers its events: offsets per sink and source.
            CREATE TABLE sink_source_offset (
                sink TEXT NOT NULL,
                source TEXT NOT NULL,
                delivered_seq BIGINT NOT NULL,
                PRIMARY KEY (sink, source)
            );
            -- An agent reads and prunes only its own sources' events.
            CREATE INDEX spool_source_seq ON spool (source, seq);
            """
        ),
    ]

    /// A migration's statements: each ends with a semicolon at the end of a line (comments may
    /// hold semicolons mid-line).
    static func statements(of sql: String) -> [String] {
        sql.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
            .filter { !$0.isEmpty }
    }

    static var latestVersion: Int { migrations.map(\.version).max() ?? 0 }

    /// Brings the database to the latest schema, one agent at a time (an advisory lock held for
    /// the transaction). An empty database gets every migration; one of ours gets the missing
    /// ones; anything else is refused untouched.
    static func migrate(_ connector: PostgresConnector) throws {
        try connector.transaction { session in
            try session.execute("SELECT pg_advisory_xact_lock(\(migrationLockKey))")
            let ours =
                try session.scalar(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = \(versionTable)",
                    as: Int64.self) ?? 0
            var current = 0
            if ours == 0 {
                let others =
                    try session.scalar(
                        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()", as: Int64.self) ?? 0
                guard others == 0 else {
                    throw PostgresStateError(
                        "PostgreSQL state \(connector.location.redacted) holds \(others) table(s) of something else; refusing to touch it — point state.url at an empty database"
                    )
                }
                try session.execute("CREATE TABLE \(unescaped: versionTable) (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)")
            } else {
                current = Int(try session.scalar("SELECT max(version) FROM \(unescaped: versionTable)", as: Int32.self) ?? 0)
            }
            guard current <= latestVersion else {
                throw PostgresStateError(
                    "PostgreSQL state \(connector.location.redacted) was written by a newer audit-forwarder (schema version \(current), this build knows \(latestVersion)); upgrade this binary"
                )
            }
            for migration in migrations where migration.version > current {
                // One statement at a time: the extended protocol PostgresNIO speaks takes one per query.
                for statement in statements(of: migration.sql) {
                    _ = try session.run(PostgresQuery(unsafeSQL: statement))
                }
                try session.execute(
                    "INSERT INTO \(unescaped: versionTable) (version, applied_at) VALUES (\(Int32(migration.version)), \(Date().timeIntervalSince1970))"
                )
            }
        }
    }
}
