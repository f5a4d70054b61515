import Foundation
import GRDB

extension StateStore {
    /// The source's checkpoint, or nil before its first successful poll.
    public func cursor(source: String) throws -> String? {
        try pool.read { db in
            try String.fetchOne(db, sql: "SELECT position FROM source_cursor WHERE source = ?", arguments: [source])
        }
    }

    /// Sets a source's checkpoint by hand (`checkpoints set`).
    public func setCursor(source: String, position: String, now: Date = Date()) throws {
        try pool.write { db in
            try Self.writeCursor(db, source: source, position: position, now: now, success: false)
        }
    }

    /// Forgets a source's checkpoint (`checkpoints reset`): its next poll reaches back `lookback` again.
    public func resetCursor(source: String) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM source_cursor WHERE source = ?", arguments: [source])
        }
    }

    /// Remembers a failed poll for `status`; the cursor is untouched.
    public func recordSourceError(source: String, error: String, now: Date = Date()) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO source_cursor (source, position, updated_at, last_error, last_error_at) VALUES (?, NULL, ?, ?, ?)
                    ON CONFLICT(source) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at
                    """,
                arguments: [source, now.timeIntervalSince1970, error, now.timeIntervalSince1970])
        }
    }

    /// Every source that has state, for `status` and `checkpoints list`.
    public func sourceStates() throws -> [SourceState] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT source, position, last_success, last_error, last_error_at FROM source_cursor ORDER BY source"
            ).map { row in
                SourceState(
                    source: row[0], position: row[1],
                    lastSuccess: (row[2] as Double?).map(Date.init(timeIntervalSince1970:)),
                    lastError: row[3],
                    lastErrorAt: (row[4] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    static func writeCursor(_ db: Database, source: String, position: String, now: Date, success: Bool) throws {
        let stamp = now.timeIntervalSince1970
        try db.execute(
            sql: """
                INSERT INTO source_cursor (source, position, updated_at, last_success) VALUES (?, ?, ?, ?)
                ON CONFLICT(source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at,
                    last_success = coalesce(excluded.last_success, last_success),
                    last_error = CASE WHEN excluded.last_success IS NULL THEN last_error END,
                    last_error_at = CASE WHEN excluded.last_success IS NULL THEN last_error_at END
                """,
            arguments: [source, position, stamp, success ? stamp : nil])
    }
}
