import Foundation
import NIOCore
import PostgresNIO

/// Delivery when the store acts for an agent (after `takeLeases`): the agent delivers only the
/// events of the sources it holds, and each sink's offset is kept per source
/// (`sink_source_offset`), so agents holding different sources share one spool.
///
/// A sink worker's round starts with `offset(sink:)`, and nothing of that sink is in flight
/// then (the acknowledging path, too, asks only with an empty window). So the round's scope, the
/// sources held at that moment, is fixed there: the round's reads see only those sources, and
/// its commit moves only their offsets. A source taken during a round joins at the next one, from
/// its own offset; one lost during a round is left out of the commit, and its new owner sends
/// that batch's events again (the bound: a batch per sink per lost lease).
extension PostgresStateStore {
    /// The round's scope for `sink` when acting for an agent; nil otherwise.
    func roundScope(sink: String) -> [String]? {
        leases.withLock { held in held.agent == nil ? nil : held.roundScopes[sink] ?? held.epochs.keys.sorted() }
    }

    /// Starts a round: fixes its scope and returns the lowest offset among its sources (0 for
    /// one never delivered to `sink`), or the spool's head when the agent holds no source.
    func agentOffset(sink: String) throws -> Int64 {
        let scope = leases.withLock { held in
            let scope = held.epochs.keys.sorted()
            held.roundScopes[sink] = scope
            return scope
        }
        return try reader.withSession { session in
            guard !scope.isEmpty else { return try session.scalar("SELECT max(seq) FROM spool", as: Int64.self) ?? 0 }
            return try session.scalar(
                """
                SELECT min(coalesce(o.delivered_seq, 0)) FROM unnest(\(scope)::text[]) AS held(source)
                LEFT JOIN sink_source_offset o ON o.sink = \(sink) AND o.source = held.source
                """, as: Int64.self) ?? 0
        }
    }

    /// The scope's events for `sink` after `seq` and after each source's own offset, oldest
    /// first: `columns` of at most `limit` of them.
    private func scopedRows(
        _ session: PostgresSession, sink: String, scope: [String], after seq: Int64, limit: Int, columns: String
    ) throws
        -> PostgresQueryResult
    {
        try session.run(
            """
            SELECT \(unescaped: columns) FROM spool s
            LEFT JOIN sink_source_offset o ON o.sink = \(sink) AND o.source = s.source
            WHERE s.source = ANY(\(scope)::text[]) AND s.seq > \(seq) AND s.seq > coalesce(o.delivered_seq, 0)
                AND (s.only_sinks IS NULL OR strpos(s.only_sinks, \("," + sink + ",")) > 0)
            ORDER BY s.seq LIMIT \(limit)
            """)
    }

    private func scopedHead(_ session: PostgresSession, scope: [String]) throws -> Int64? {
        try session.scalar("SELECT max(seq) FROM spool WHERE source = ANY(\(scope)::text[])", as: Int64.self)
    }

    func agentPendingSummary(sink: String, scope: [String], after seq: Int64, limit: Int) throws -> PendingSummary {
        try reader.transaction { session in
            guard !scope.isEmpty else { return PendingSummary(count: 0, oldestSpooledAt: nil, idleThrough: seq) }
            try Self.lockSpool(session, sources: scope, shared: true)
            let rows = try scopedRows(session, sink: sink, scope: scope, after: seq, limit: limit, columns: "s.spooled_at")
            guard let first = rows.first else {
                return PendingSummary(count: 0, oldestSpooledAt: nil, idleThrough: max(seq, try scopedHead(session, scope: scope) ?? seq))
            }
            return PendingSummary(
                count: rows.count, oldestSpooledAt: Date(timeIntervalSince1970: try first.column(0, as: Double.self)), idleThrough: seq)
        }
    }

    func agentNextBatch(sink: String, scope: [String], after seq: Int64, limit: Int, maxBytes: Int) throws -> SpoolBatch {
        // READ COMMITTED after the shared locks: the rows and the head then include every commit
        // of the scope's writers, and no writer of the scope can commit until this one ends.
        try reader.transaction { session in
            guard !scope.isEmpty else { return SpoolBatch(records: [], passedThrough: seq) }
            try Self.lockSpool(session, sources: scope, shared: true)
            let rows = try scopedRows(
                session, sink: sink, scope: scope, after: seq, limit: limit,
                columns: "s.seq, s.source, s.event_id, s.event_time, s.event_type, s.severity, s.action, s.outcome, s.payload, s.spooled_at")
            var remaining = rows.makeIterator()
            let taken = try BatchCut.take(limit: limit, maxBytes: maxBytes) { try remaining.next().map(Self.spoolRecord) }
            return try BatchCut.batch(taken, after: seq) { try scopedHead(session, scope: scope) }
        }
    }

    /// Moves the offsets of the round's sources that this agent still holds, with their dead
    /// letters and chain heads, in one transaction; the lease rows are locked against a takeover
    /// until it commits. Sources lost meanwhile are left to their new owner.
    func agentCommitDelivery(
        sink: String, scope: [String], through seq: Int64, deadLetters: [DeadLetterEntry], chainHeads: [ChainHead], now: Date
    ) throws {
        let (agent, epochs) = leases.withLock { ($0.agent ?? "", $0.epochs) }
        let claimed = scope.filter { epochs[$0] != nil }
        let kept = try connector.transaction { session in
            let kept = Set(
                try session.run(
                    """
                    SELECT l.source FROM source_lease l
                    JOIN unnest(\(claimed)::text[], \(claimed.map { epochs[$0]! })::int8[]) AS held(source, epoch)
                        ON l.source = held.source AND l.epoch = held.epoch
                    WHERE l.owner = \(agent) FOR SHARE OF l
                    """
                ).map { try $0.column(0, as: String.self) })
            let sources = scope.filter(kept.contains)
            if !sources.isEmpty {
                try session.execute(
                    """
                    INSERT INTO sink_source_offset (sink, source, delivered_seq)
                    SELECT \(sink), source, \(seq) FROM unnest(\(sources)::text[]) AS held(source)
                    ON CONFLICT (sink, source) DO UPDATE SET delivered_seq = greatest(sink_source_offset.delivered_seq, excluded.delivered_seq)
                    """)
            }
            try writeDelivery(
                session, sink: sink, through: seq, deadLetters: deadLetters.filter { kept.contains($0.record.source) },
                chainHeads: chainHeads.filter { kept.contains($0.source) }, now: now)
            return kept
        }
        let lost = Set(scope).subtracting(kept)
        // The scope stays until the next round starts: an acknowledging sink reads on past this commit.
        leases.withLock { held in
            for source in lost where held.epochs[source] != nil {
                held.epochs[source] = nil
                held.rejections += 1
            }
        }
    }

    /// Drops the held sources' events that every one of `activeSinks` has passed.
    func agentPrune(activeSinks: [String], held: [String]) throws -> Int {
        guard !held.isEmpty else { return 0 }
        return try connector.withSession { session in
            try session.execute(
                """
                WITH floor AS (
                    SELECT held.source, CASE WHEN count(o.sink) < \(activeSinks.count) THEN 0 ELSE min(o.delivered_seq) END AS upto
                    FROM unnest(\(held)::text[]) AS held(source)
                    LEFT JOIN sink_source_offset o ON o.source = held.source AND o.sink = ANY(\(activeSinks)::text[])
                    GROUP BY held.source
                )
                DELETE FROM spool s USING floor WHERE s.source = floor.source AND s.seq <= floor.upto
                """)
        }
    }
}
