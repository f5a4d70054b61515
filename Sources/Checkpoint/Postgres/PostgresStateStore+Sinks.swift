import Foundation
import NIOCore
import PostgresNIO

extension PostgresStateStore {
    public func registerSinks(_ sinks: [String], now: Date) throws {
        guard !sinks.isEmpty else { return }
        try connector.withSession { session in
            try session.execute(
                """
                INSERT INTO sink_offset (sink, delivered_seq, updated_at)
                SELECT name, 0, \(now.timeIntervalSince1970) FROM unnest(\(sinks)::text[]) AS name
                ON CONFLICT DO NOTHING
                """)
        }
    }

    public func offset(sink: String) throws -> Int64 {
        if leases.withLock({ $0.agent != nil }) { return try agentOffset(sink: sink) }
        return try reader.withSession { try $0.scalar("SELECT delivered_seq FROM sink_offset WHERE sink = \(sink)", as: Int64.self) ?? 0 }
    }

    public func commitDelivery(sink: String, through seq: Int64, deadLetters: [DeadLetterEntry], chainHeads: [ChainHead], now: Date) throws {
        if let scope = roundScope(sink: sink) {
            return try agentCommitDelivery(sink: sink, scope: scope, through: seq, deadLetters: deadLetters, chainHeads: chainHeads, now: now)
        }
        try connector.transaction { session in
            try writeDelivery(session, sink: sink, through: seq, deadLetters: deadLetters, chainHeads: chainHeads, now: now)
        }
    }

    /// The chain heads, dead letters and the sink's row (offset, last error), in the caller's transaction.
    func writeDelivery(
        _ session: PostgresSession, sink: String, through seq: Int64, deadLetters: [DeadLetterEntry], chainHeads: [ChainHead], now: Date
    ) throws {
        let stamp = now.timeIntervalSince1970
        if !chainHeads.isEmpty {
            try session.execute(
                """
                INSERT INTO integrity_chain (sink, source, seq, hash)
                SELECT \(sink), source, seq, hash FROM unnest(\(chainHeads.map(\.source))::text[], \(chainHeads.map(\.seq))::int8[],
                    \(chainHeads.map(\.hash))::text[]) AS head(source, seq, hash)
                ON CONFLICT (sink, source) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
                """)
        }
        if !deadLetters.isEmpty {
            let r = deadLetters.map(\.record)
            try session.execute(
                """
                INSERT INTO dead_letter (sink, seq, source, event_id, event_time, event_type, severity, action, outcome, payload, status, reason, created_at)
                SELECT \(sink), seq, source, event_id, event_time, event_type, severity, action, outcome, payload, status, reason, \(stamp)
                FROM unnest(\(r.map(\.seq))::int8[], \(r.map(\.source))::text[], \(r.map(\.eventID))::text[],
                    \(r.map { $0.eventTime.timeIntervalSince1970 })::float8[], \(r.map(\.eventType))::text[], \(r.map(\.severity))::text[],
                    \(r.map(\.action))::text[], \(r.map(\.outcome))::text[], \(r.map { ByteBuffer(bytes: $0.payload) })::bytea[],
                    \(deadLetters.map { Int32(clamping: $0.status) })::int4[], \(deadLetters.map(\.reason))::text[])
                    WITH ORDINALITY AS letter(seq, source, event_id, event_time, event_type, severity, action, outcome, payload, status, reason, n)
                ORDER BY n
                """)
        }
        // A delivery clears the sink's last error, unless it dead-lettered events: then that
        // is the error `status` shows, beside the dead letters' count.
        let error = deadLetters.first.map { "dead-lettered \(deadLetters.count) event(s): \($0.reason)" }
        let errorAt: Double? = error == nil ? nil : stamp
        try session.execute(
            """
            INSERT INTO sink_offset (sink, delivered_seq, updated_at, last_error, last_error_at) VALUES (\(sink), \(seq), \(stamp), \(error), \(errorAt))
            ON CONFLICT (sink) DO UPDATE SET delivered_seq = greatest(sink_offset.delivered_seq, excluded.delivered_seq),
                updated_at = excluded.updated_at, last_error = excluded.last_error, last_error_at = excluded.last_error_at
            """)
    }

    public func chainHeads(sink: String) throws -> [String: ChainHead] {
        try reader.withSession { session in
            var heads: [String: ChainHead] = [:]
            for row in try session.run("SELECT source, seq, hash FROM integrity_chain WHERE sink = \(sink)") {
                let head = ChainHead(source: try row.column(0), seq: try row.column(1), hash: try row.column(2))
                heads[head.source] = head
            }
            return heads
        }
    }

    public func recordSinkError(sink: String, error: String, now: Date) throws {
        try connector.withSession { session in
            try session.execute(
                "UPDATE sink_offset SET last_error = \(error), last_error_at = \(now.timeIntervalSince1970) WHERE sink = \(sink)")
        }
    }

    public func sinkStates() throws -> [SinkState] {
        try reader.transaction("REPEATABLE READ, READ ONLY") { session in
            let head = try session.scalar("SELECT max(seq) FROM spool", as: Int64.self) ?? 0
            return try session.run("SELECT sink, delivered_seq, last_error FROM sink_offset ORDER BY sink").map { row in
                let sink = try row.column(0, as: String.self)
                let delivered = try row.column(1, as: Int64.self)
                let oldest = try session.scalar(
                    "SELECT spooled_at FROM spool WHERE seq > \(delivered) ORDER BY seq LIMIT 1", as: Double.self)
                let letters = try session.scalar("SELECT count(*) FROM dead_letter WHERE sink = \(sink)", as: Int64.self) ?? 0
                return SinkState(
                    sink: sink, deliveredSeq: delivered, pending: max(0, head - delivered),
                    oldestPendingSpooledAt: oldest.map(Date.init(timeIntervalSince1970:)), deadLetters: Int(letters),
                    lastError: try row.column(2, as: String?.self))
            }
        }
    }
}
