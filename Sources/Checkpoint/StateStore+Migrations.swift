import GRDB

extension StateStore {
    /// Versioned schema. Never edit a registered migration; add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core") { db in
            try db.execute(
                sql: """
                    CREATE TABLE source_cursor (
                        source TEXT PRIMARY KEY NOT NULL,
                        position TEXT,
                        updated_at REAL NOT NULL,
                        last_success REAL,
                        last_error TEXT,
                        last_error_at REAL
                    );
                    -- AUTOINCREMENT: a pruned sequence number is never reused, so sink offsets stay meaningful.
                    CREATE TABLE spool (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        source TEXT NOT NULL,
                        event_id TEXT NOT NULL,
                        event_time REAL NOT NULL,
                        event_type TEXT NOT NULL,
                        severity TEXT NOT NULL,
                        action TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        payload BLOB NOT NULL,
                        spooled_at REAL NOT NULL,
                        -- NULL: every sink; else ",a,b," — only these sinks (backfills, dead-letter replays).
                        only_sinks TEXT
                    );
                    CREATE TABLE sink_offset (
                        sink TEXT PRIMARY KEY NOT NULL,
                        delivered_seq INTEGER NOT NULL,
                        updated_at REAL NOT NULL,
                        last_error TEXT,
                        last_error_at REAL
                    );
                    CREATE TABLE dedupe (
                        source TEXT NOT NULL,
                        upstream_id TEXT NOT NULL,
                        seen_at REAL NOT NULL,
                        PRIMARY KEY (source, upstream_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX dedupe_seen_at ON dedupe(seen_at);
                    CREATE TABLE dead_letter (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        sink TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        source TEXT NOT NULL,
                        event_id TEXT NOT NULL,
                        event_time REAL NOT NULL,
                        event_type TEXT NOT NULL,
                        severity TEXT NOT NULL,
                        action TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        payload BLOB NOT NULL,
                        status INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX dead_letter_sink ON dead_letter(sink, id);
                    """)
        }
        migrator.registerMigration("v2-backfill-jobs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE backfill_job (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        source TEXT NOT NULL,
                        range_start REAL NOT NULL,
                        range_end REAL NOT NULL,
                        -- Everything before this time is spooled; a resumed job starts here.
                        position REAL NOT NULL,
                        -- NULL: every sink; else ",a,b,".
                        only_sinks TEXT,
                        events INTEGER NOT NULL DEFAULT 0,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        finished_at REAL
                    );
                    """)
        }
        migrator.registerMigration("v3-backfill-windows") { db in
            try db.execute(
                sql: """
                    -- Windows of a job finished past its contiguous `position` (concurrent windows end out
                    -- of order); folded into `position` and deleted once the windows before them finish.
                    CREATE TABLE backfill_window (
                        job_id INTEGER NOT NULL REFERENCES backfill_job(id) ON DELETE CASCADE,
                        window_start REAL NOT NULL,
                        window_end REAL NOT NULL,
                        PRIMARY KEY (job_id, window_start)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v4-dedupe-sinks") { db in
            // The sinks an upstream id was spooled for, as `,a,b,` (NULL: every sink). A backfill for
            // one sink must not make the live tail drop the same id for all the others.
            try db.execute(sql: "ALTER TABLE dedupe ADD COLUMN sinks TEXT")
        }
        migrator.registerMigration("v5-walk-progress") { db in
            // A newest-first walk cut short (a deadline, a failed page): its window and the paging
            // position of its next page, so the next poll goes on instead of starting over.
            try db.execute(
                sql: """
                    CREATE TABLE walk_progress (
                        source TEXT PRIMARY KEY NOT NULL,
                        window_start REAL NOT NULL,
                        window_end REAL NOT NULL,
                        position TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v6-integrity-chain") { db in
            // Per sink and source, the head of the integrity chain of what the sink has passed:
            // written with the sink's offset, so a resend after a crash carries the same values.
            try db.execute(
                sql: """
                    CREATE TABLE integrity_chain (
                        sink TEXT NOT NULL,
                        source TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        hash TEXT NOT NULL,
                        PRIMARY KEY (sink, source)
                    );
                    """)
        }
        migrator.registerMigration("v7-spool-segments") { db in
            // Where a payload lies in the spool's segment files (`SpoolSegments`); NULL: in
            // `payload` itself (rows spooled before, and dead letters replayed).
            try db.execute(
                sql: """
                    ALTER TABLE spool ADD COLUMN segment INTEGER;
                    ALTER TABLE spool ADD COLUMN payload_offset INTEGER;
                    ALTER TABLE spool ADD COLUMN payload_length INTEGER;
                    """)
        }
        migrator.registerMigration("v8-dedupe-by-time") { db in
            // Dedupe keys ordered by the event's own time, so a page's keys land together: keyed by
            // upstream id alone, random ids (Okta's, GitHub's, most) spread every commit over the
            // whole index, and each touched 32 KiB page went into the WAL again (about 20 KB of WAL
            // per event with half a million keys remembered). The old table keeps the keys it has
            // until they age out; appends still consult it while it has any (`StateStore.insert`).
            try db.execute(
                sql: """
                    CREATE TABLE dedupe_by_time (
                        source TEXT NOT NULL,
                        event_time REAL NOT NULL,
                        upstream_id TEXT NOT NULL,
                        seen_at REAL NOT NULL,
                        sinks TEXT,
                        PRIMARY KEY (source, event_time, upstream_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX dedupe_by_time_seen_at ON dedupe_by_time(seen_at);
                    """)
        }
        migrator.registerMigration("v9-spool-runs") { db in
            // A row may hold a run of events (`SpoolRun`): `seq` is the first one's sequence number,
            // `last_seq` the last one's, `events` their own fields, and `payload_offset` and
            // `payload_length` the span of their payloads in `segment`. NULL `events`: a row of one
            // event, as before (rows spooled earlier, dead letters replayed).
            try db.execute(
                sql: """
                    ALTER TABLE spool ADD COLUMN last_seq INTEGER;
                    ALTER TABLE spool ADD COLUMN events BLOB;
                    """)
        }
        migrator.registerMigration("v10-dedupe-pages") { db in
            // The dedupe keys lose their index by first sighting: a second b-tree insert per event,
            // about 8 % of the CPU moving 100k events. Rows per appended page name the spans of
            // event times its new keys lie in and when they were seen (`DedupePages`); the prune
            // deletes each aged span (a range of the keys' own order) and its row. Keys spooled
            // before this get a row per source, hour of first sighting (its latest) and day of
            // event time, so none goes before its window ends; some go up to an hour later. This
            // reads every key once, at the first start of the new binary.
            try db.execute(
                sql: """
                    CREATE TABLE dedupe_page (
                        source TEXT NOT NULL,
                        first_time REAL NOT NULL,
                        last_time REAL NOT NULL,
                        seen_at REAL NOT NULL
                    );
                    CREATE INDEX dedupe_page_seen_at ON dedupe_page(seen_at);
                    INSERT INTO dedupe_page (source, first_time, last_time, seen_at)
                        SELECT source, min(event_time), max(event_time), max(seen_at) FROM dedupe_by_time
                        GROUP BY source, CAST(seen_at / 3600 AS INTEGER), CAST(event_time / 86400 AS INTEGER);
                    DROP INDEX dedupe_by_time_seen_at;
                    """)
        }
        return migrator
    }
}
