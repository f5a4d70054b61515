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
        try positions.writing(source, change: { _ in PollPosition(cursor: position, walk: nil) }) {
            try pool.write { db in
                try Self.writeCursor(db, source: source, position: position, now: now, success: false)
                // A walk left unfinished belongs to the old position.
                try Self.write(.clear, source: source, db)
            }
        }
    }

    /// Forgets a source's checkpoint (`checkpoints reset`): its next poll reaches back `lookback` again.
    public func resetCursor(source: String) throws {
        try positions.writing(source, change: { _ in PollPosition(cursor: nil, walk: nil) }) {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM source_cursor WHERE source = ?", arguments: [source])
                try Self.write(.clear, source: source, db)
            }
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
        // Cached statements here and in the other per-page and per-batch queries: preparing
        // them anew each time was about 3 % of the forwarder's CPU.
        try db.cachedStatement(
            sql: """
                INSERT INTO source_cursor (source, position, updated_at, last_success) VALUES (?, ?, ?, ?)
                ON CONFLICT(source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at,
                    last_success = coalesce(excluded.last_success, last_success),
                    last_error = CASE WHEN excluded.last_success IS NULL THEN last_error END,
                    last_error_at = CASE WHEN excluded.last_success IS NULL THEN last_error_at END
                """
        ).execute(arguments: [source, position, stamp, success ? stamp : nil])
    }
}

/// Where a newest-first walk that was cut short stands: its window and the paging position of
/// its next page (the connector's own text, e.g. deploys.app's `before`).
public struct WalkProgress: Sendable, Equatable {
    public var windowStart: Date
    public var windowEnd: Date
    public var position: String

    public init(windowStart: Date, windowEnd: Date, position: String) {
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.position = position
    }
}

/// Where a source's next poll starts: its cursor and the walk a previous poll left unfinished.
public struct PollPosition: Sendable, Equatable {
    public var cursor: String?
    public var walk: WalkProgress?

    public init(cursor: String?, walk: WalkProgress?) {
        self.cursor = cursor
        self.walk = walk
    }
}

/// What a page append does to the source's walk progress.
public enum WalkUpdate: Sendable, Equatable {
    case unchanged
    case save(WalkProgress)
    case clear
}

extension StateStore {
    /// The walk of `source` that a previous poll left unfinished, if any.
    public func walkProgress(source: String) throws -> WalkProgress? {
        try pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT window_start, window_end, position FROM walk_progress WHERE source = ?", arguments: [source]
            ).map {
                WalkProgress(
                    windowStart: Date(timeIntervalSince1970: $0[0]), windowEnd: Date(timeIntervalSince1970: $0[1]), position: $0[2])
            }
        }
    }

    /// The cursor and the unfinished walk of `source`, read together: a poll starts from both.
    /// Read from the database once, then kept as this process writes it (`PollPositionCache`).
    public func pollPosition(source: String) throws -> PollPosition {
        let (known, generation) = positions.position(of: source)
        if let known { return known }
        let position = try readPollPosition(source: source)
        positions.remember(position, of: source, readAt: generation)
        return position
    }

    private func readPollPosition(source: String) throws -> PollPosition {
        try pool.read { db in
            let cursor = try String.fetchOne(
                db.cachedStatement(sql: "SELECT position FROM source_cursor WHERE source = ?"), arguments: [source])
            let walk = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT window_start, window_end, position FROM walk_progress WHERE source = ?"),
                arguments: [source]
            ).map {
                WalkProgress(
                    windowStart: Date(timeIntervalSince1970: $0[0]), windowEnd: Date(timeIntervalSince1970: $0[1]), position: $0[2])
            }
            return PollPosition(cursor: cursor, walk: walk)
        }
    }

    /// Forgets an unfinished walk the connector cannot resume; the cursor is untouched.
    public func clearWalkProgress(source: String) throws {
        try positions.writing(source, change: { $0.map { PollPosition(cursor: $0.cursor, walk: nil) } }) {
            try pool.write { db in try Self.write(.clear, source: source, db) }
        }
    }

    static func write(_ update: WalkUpdate, source: String, _ db: Database) throws {
        switch update {
        case .unchanged:
            break
        case .save(let progress):
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO walk_progress (source, window_start, window_end, position) VALUES (?, ?, ?, ?)")
                .execute(arguments: [source, progress.windowStart.timeIntervalSince1970, progress.windowEnd.timeIntervalSince1970, progress.position])
        case .clear:
            try db.cachedStatement(sql: "DELETE FROM walk_progress WHERE source = ?").execute(arguments: [source])
        }
    }
}
