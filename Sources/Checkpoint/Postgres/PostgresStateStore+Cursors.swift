import Foundation
import PostgresNIO

extension PostgresStateStore {
    public func cursor(source: String) throws -> String? {
        try reader.withSession { try $0.scalar("SELECT position FROM source_cursor WHERE source = \(source)", as: String.self) }
    }

    public func setCursor(source: String, position: String, now: Date) throws {
        try connector.transaction { session in
            try checkEpoch(session, source: source)
            try Self.writeCursor(session, source: source, position: position, now: now, success: false)
            // A walk left unfinished belongs to the old position.
            try Self.write(.clear, source: source, session)
        }
    }

    public func resetCursor(source: String) throws {
        try connector.transaction { session in
            try checkEpoch(session, source: source)
            try session.execute("DELETE FROM source_cursor WHERE source = \(source)")
            try Self.write(.clear, source: source, session)
        }
    }

    public func recordSourceError(source: String, error: String, now: Date) throws {
        let stamp = now.timeIntervalSince1970
        try connector.transaction { session in
            try checkEpoch(session, source: source)
            try session.execute(
                """
                INSERT INTO source_cursor (source, position, updated_at, last_error, last_error_at) VALUES (\(source), NULL, \(stamp), \(error), \(stamp))
                ON CONFLICT (source) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at
                """)
        }
    }

    public func sourceStates() throws -> [SourceState] {
        try reader.withSession { session in
            try session.run("SELECT source, position, last_success, last_error, last_error_at FROM source_cursor ORDER BY source").map { row in
                SourceState(
                    source: try row.column(0), position: try row.column(1),
                    lastSuccess: try row.column(2, as: Double?.self).map(Date.init(timeIntervalSince1970:)),
                    lastError: try row.column(3),
                    lastErrorAt: try row.column(4, as: Double?.self).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    static func writeCursor(_ session: PostgresSession, source: String, position: String, now: Date, success: Bool) throws {
        let stamp = now.timeIntervalSince1970
        let successAt: Double? = success ? stamp : nil
        try session.execute(
            """
            INSERT INTO source_cursor (source, position, updated_at, last_success) VALUES (\(source), \(position), \(stamp), \(successAt))
            ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at,
                last_success = coalesce(excluded.last_success, source_cursor.last_success),
                last_error = CASE WHEN excluded.last_success IS NULL THEN source_cursor.last_error END,
                last_error_at = CASE WHEN excluded.last_success IS NULL THEN source_cursor.last_error_at END
            """)
    }

    public func walkProgress(source: String) throws -> WalkProgress? {
        try reader.withSession { session in
            try session.run("SELECT window_start, window_end, position FROM walk_progress WHERE source = \(source)").first.map { row in
                WalkProgress(
                    windowStart: Date(timeIntervalSince1970: try row.column(0)), windowEnd: Date(timeIntervalSince1970: try row.column(1)),
                    position: try row.column(2))
            }
        }
    }

    public func clearWalkProgress(source: String) throws {
        try connector.transaction { session in
            try checkEpoch(session, source: source)
            try Self.write(.clear, source: source, session)
        }
    }

    static func write(_ update: WalkUpdate, source: String, _ session: PostgresSession) throws {
        switch update {
        case .unchanged:
            break
        case .save(let progress):
            try session.execute(
                """
                INSERT INTO walk_progress (source, window_start, window_end, position)
                VALUES (\(source), \(progress.windowStart.timeIntervalSince1970), \(progress.windowEnd.timeIntervalSince1970), \(progress.position))
                ON CONFLICT (source) DO UPDATE SET window_start = excluded.window_start, window_end = excluded.window_end, position = excluded.position
                """)
        case .clear:
            try session.execute("DELETE FROM walk_progress WHERE source = \(source)")
        }
    }
}
