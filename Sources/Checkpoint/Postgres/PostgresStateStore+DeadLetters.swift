import Foundation
import PostgresNIO

extension PostgresStateStore {
    public func newestDeadLetter(sink: String) throws -> DeadLetter? {
        try reader.withSession { session in
            try session.run(
                "SELECT \(unescaped: Self.deadLetterColumns) FROM dead_letter WHERE sink = \(sink) ORDER BY id DESC LIMIT 1"
            ).first.map(Self.deadLetter)
        }
    }

    public func deadLetters(sink: String?, limit: Int) throws -> [DeadLetter] {
        try reader.withSession { session in
            let rows =
                if let sink {
                    try session.run("SELECT \(unescaped: Self.deadLetterColumns) FROM dead_letter WHERE sink = \(sink) ORDER BY id LIMIT \(limit)")
                } else {
                    try session.run("SELECT \(unescaped: Self.deadLetterColumns) FROM dead_letter ORDER BY id LIMIT \(limit)")
                }
            return try rows.map(Self.deadLetter)
        }
    }

    public func deadLetterCount(sink: String) throws -> Int {
        try reader.withSession { Int(try $0.scalar("SELECT count(*) FROM dead_letter WHERE sink = \(sink)", as: Int64.self) ?? 0) }
    }

    public func deadLetterCounts() throws -> [String: Int] {
        try reader.withSession { session in
            var counts: [String: Int] = [:]
            for row in try session.run("SELECT sink, count(*) FROM dead_letter GROUP BY sink") {
                counts[try row.column(0, as: String.self)] = Int(try row.column(1, as: Int64.self))
            }
            return counts
        }
    }

    /// Appends the chosen dead letters to the spool again, each for its own sink only, and removes
    /// them, in one statement (so one transaction), oldest first.
    public func replayDeadLetters(sink: String?, ids: [Int64]?, now: Date) throws -> Int {
        try connector.transaction { session in
            let sources = try session.run(
                """
                SELECT DISTINCT source FROM dead_letter
                WHERE (\(sink)::text IS NULL OR sink = \(sink)) AND (\(ids == nil) OR id = ANY(\(ids ?? [])::int8[]))
                """
            ).map { try $0.column(0, as: String.self) }
            try Self.lockSpool(session, sources: sources)
            return try session.execute(
                """
                WITH gone AS (
                    DELETE FROM dead_letter
                    WHERE (\(sink)::text IS NULL OR sink = \(sink)) AND (\(ids == nil) OR id = ANY(\(ids ?? [])::int8[]))
                    RETURNING id, sink, source, event_id, event_time, event_type, severity, action, outcome, payload
                )
                INSERT INTO spool (source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at, only_sinks)
                SELECT source, event_id, event_time, event_type, severity, action, outcome, payload, \(now.timeIntervalSince1970), ',' || sink || ','
                FROM gone ORDER BY id
                """)
        }
    }

    public func purgeDeadLetters(sink: String?, ids: [Int64]?) throws -> Int {
        try connector.withSession { session in
            try session.execute(
                """
                DELETE FROM dead_letter
                WHERE (\(sink)::text IS NULL OR sink = \(sink)) AND (\(ids == nil) OR id = ANY(\(ids ?? [])::int8[]))
                """)
        }
    }

    static let deadLetterColumns = "id, sink, source, event_id, status, reason, created_at, payload"

    static func deadLetter(_ row: PostgresRow) throws -> DeadLetter {
        let r = row.makeRandomAccess()
        return DeadLetter(
            id: try r[0].decode(Int64.self), sink: try r[1].decode(String.self), source: try r[2].decode(String.self),
            eventID: try r[3].decode(String.self), status: Int(try r[4].decode(Int32.self)), reason: try r[5].decode(String.self),
            createdAt: Date(timeIntervalSince1970: try r[6].decode(Double.self)), payload: try r[7].decode(Data.self))
    }
}
