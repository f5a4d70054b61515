import Foundation
import GRDB
import Synchronization

extension StateStore {
    /// Dead letters, oldest first, optionally of one sink.
    /// The most recent dead letter of `sink`, if any (what `status` quotes).
    public func newestDeadLetter(sink: String) throws -> DeadLetter? {
        try pool.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT id, sink, source, event_id, status, reason, created_at, payload FROM dead_letter WHERE sink = ? ORDER BY id DESC LIMIT 1",
                arguments: [sink]
            ).map { row in
                DeadLetter(
                    id: row[0], sink: row[1], source: row[2], eventID: row[3], status: row[4], reason: row[5],
                    createdAt: Date(timeIntervalSince1970: row[6]), payload: row[7])
            }
        }
    }

    public func deadLetters(sink: String? = nil, limit: Int = 1000) throws -> [DeadLetter] {
        try pool.read { db in
            let filter = sink == nil ? "" : "WHERE sink = ?"
            var arguments: StatementArguments = sink.map { [$0] } ?? []
            _ = arguments.append(contentsOf: [limit])
            return try Row.fetchAll(
                db,
                sql: "SELECT id, sink, source, event_id, status, reason, created_at, payload FROM dead_letter \(filter) ORDER BY id LIMIT ?",
                arguments: arguments
            ).map { row in
                DeadLetter(
                    id: row[0], sink: row[1], source: row[2], eventID: row[3], status: row[4], reason: row[5],
                    createdAt: Date(timeIntervalSince1970: row[6]), payload: row[7])
            }
        }
    }

    /// Number of dead letters of `sink`.
    public func deadLetterCount(sink: String) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM dead_letter WHERE sink = ?", arguments: [sink]) ?? 0
        }
    }

    /// Puts dead letters back into their sink's queue: each is appended to the spool again,
    /// addressed to that sink only, and removed from the dead-letter table in the same transaction.
    /// `ids` nil replays every dead letter (of `sink` when given). Returns how many were replayed.
    @discardableResult
    public func replayDeadLetters(sink: String? = nil, ids: [Int64]? = nil, now: Date = Date()) throws -> Int {
        // Counted as an addition whatever its outcome: a sink looks at the spool again.
        defer { additions.add(1, ordering: .releasing) }
        do {
            let replayed = try replay(sink: sink, ids: ids, now: now)
            depthBound.add(replayed)
            return replayed
        } catch {
            depthBound.forget()
            throw error
        }
    }

    private func replay(sink: String?, ids: [Int64]?, now: Date) throws -> Int {
        try pool.write { db in
            let (whereClause, arguments) = Self.deadLetterSelection(sink: sink, ids: ids)
            try db.execute(
                sql: """
                    INSERT INTO spool (source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at, only_sinks)
                    SELECT source, event_id, event_time, event_type, severity, action, outcome, payload, ?, ',' || sink || ','
                    FROM dead_letter \(whereClause) ORDER BY id
                    """,
                arguments: [now.timeIntervalSince1970] + arguments)
            let replayed = db.changesCount
            try db.execute(sql: "DELETE FROM dead_letter \(whereClause)", arguments: arguments)
            return replayed
        }
    }

    /// How many dead letters each sink has.
    public func deadLetterCounts() throws -> [String: Int] {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT sink, count(*) FROM dead_letter GROUP BY sink")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0[1] as Int) })
        }
    }

    /// Deletes dead letters for good. Returns how many.
    @discardableResult
    public func purgeDeadLetters(sink: String? = nil, ids: [Int64]? = nil) throws -> Int {
        try pool.write { db in
            let (whereClause, arguments) = Self.deadLetterSelection(sink: sink, ids: ids)
            try db.execute(sql: "DELETE FROM dead_letter \(whereClause)", arguments: arguments)
            return db.changesCount
        }
    }

    /// The WHERE clause (and its arguments) choosing dead letters by sink and/or ids; empty: all.
    private static func deadLetterSelection(sink: String?, ids: [Int64]?) -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let sink {
            conditions.append("sink = ?")
            _ = arguments.append(contentsOf: [sink])
        }
        if let ids {
            // Int64s rendered by us: no injection possible.
            conditions.append("id IN (\(ids.map(String.init).joined(separator: ",")))")
        }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), arguments)
    }

    /// Each sink's progress, for `status`.
    public func sinkStates() throws -> [SinkState] {
        try pool.read { db in
            let head = try Int64.fetchOne(db, sql: Self.newestEventSQL) ?? 0
            return try Row.fetchAll(
                db, sql: "SELECT sink, delivered_seq, last_error FROM sink_offset ORDER BY sink"
            ).map { row in
                let sink: String = row[0]
                let delivered: Int64 = row[1]
                let oldest = try Double.fetchOne(
                    db, sql: "SELECT spooled_at FROM spool WHERE \(Self.rowsAfter) ORDER BY seq LIMIT 1", arguments: [delivered])
                let letters =
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM dead_letter WHERE sink = ?", arguments: [sink]) ?? 0
                return SinkState(
                    sink: sink, deliveredSeq: delivered, pending: max(0, head - delivered),
                    oldestPendingSpooledAt: oldest.map(Date.init(timeIntervalSince1970:)),
                    deadLetters: letters, lastError: row[2])
            }
        }
    }
}
