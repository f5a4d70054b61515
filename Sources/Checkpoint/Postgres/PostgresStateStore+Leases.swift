import Foundation
import PostgresNIO

/// A source's lease as the database has it, for `status`.
public struct SourceLease: Sendable, Equatable {
    public var source: String
    public var owner: String
    public var epoch: Int64
    public var expiresAt: Date
}

/// Leases with fencing (DESIGN.md §8): each source is leased to one agent at a time, on the
/// database's clock. Taking a free or expired lease raises its epoch. Once this store acts for
/// an agent (`takeLeases`), every change to a source first checks, in the same transaction and
/// with the lease row locked against a takeover, that the source's epoch is still the one this
/// agent took; if not, the change rolls back with `PostgresStateError.isStaleEpoch`, the source
/// is let go, and `staleEpochRejections` counts it.
extension PostgresStateStore {
    /// From now on this store acts for `agent`: it delivers only the sources it holds (none
    /// yet) and fences every change by their epochs. An engine on a shared state calls this
    /// before anything else, so that a first renewal that fails leaves it holding nothing rather
    /// than acting for every source.
    public func actAs(agent: String) {
        leases.withLock { $0.agent = agent }
    }

    /// Takes the leases among `sources` that are free or expired (or this agent's already),
    /// for `ttl`. Returns the sources taken now with their new epochs.
    /// `limit`: take at most this many (an agent's fair share).
    @discardableResult
    public func takeLeases(_ sources: [String], agent: String, ttl: Duration, limit: Int = .max) throws -> [String: Int64] {
        guard !sources.isEmpty, limit > 0 else {
            leases.withLock { $0.agent = agent }
            return [:]
        }
        let taken = try connector.withSession { session in
            try session.run(
                """
                INSERT INTO source_lease (source, owner, epoch, expires_at)
                SELECT picked.name, \(agent), 1, now() + \(Self.milliseconds(ttl)) * interval '1 millisecond'
                FROM (
                    SELECT wanted.name FROM unnest(\(sources)::text[]) WITH ORDINALITY AS wanted(name, position)
                    LEFT JOIN source_lease l ON l.source = wanted.name
                    WHERE l.source IS NULL OR l.expires_at < now() OR l.owner = \(agent)
                    ORDER BY wanted.position LIMIT \(Int64(min(limit, sources.count)))
                ) AS picked
                -- Picked in the caller's order, locked in one order by every agent: two agents
                -- taking many sources at once cannot deadlock.
                ORDER BY picked.name
                ON CONFLICT (source) DO UPDATE SET owner = excluded.owner, epoch = source_lease.epoch + 1, expires_at = excluded.expires_at
                WHERE source_lease.expires_at < now() OR source_lease.owner = excluded.owner
                RETURNING source, epoch
                """
            ).map { (try $0.column(0, as: String.self), try $0.column(1, as: Int64.self)) }
        }
        let epochs = Dictionary(taken, uniquingKeysWith: max)
        leases.withLock { held in
            held.agent = agent
            held.epochs.merge(epochs) { _, new in new }
        }
        return epochs
    }

    /// Extends every lease this agent holds by `ttl` and records its heartbeat: one statement,
    /// whatever the number of sources. Returns the sources still held; any other was taken over
    /// (or lost when its lease ran out and someone took it) and is let go.
    /// `heartbeat` false: a backfill keeping its job's lease, which must not count as an agent.
    @discardableResult
    public func renewLeases(ttl: Duration, heartbeat: Bool = true) throws -> Set<String> {
        try renewLeasesCountingAgents(ttl: ttl, heartbeat: heartbeat).kept
    }

    /// What one renewal round learned: the sources still held, the agents alive (this one
    /// included when it beats), and how many of the sources asked about other agents hold.
    public struct LeaseRenewal: Sendable, Equatable {
        public var kept: Set<String>
        public var liveAgents: Int
        public var heldByOthers: Int
    }

    /// `renewLeases`, in the same statement counting the agents whose heartbeat is younger than
    /// `ttl` and how many of `among` other agents hold: an agent's steady round is one statement.
    public func renewLeasesCountingAgents(ttl: Duration, heartbeat: Bool = true, among: [String] = []) throws -> LeaseRenewal {
        let (agent, epochs) = leases.withLock { ($0.agent, $0.epochs) }
        guard let agent else { return LeaseRenewal(kept: [], liveAgents: 0, heldByOthers: 0) }
        let sources = Array(epochs.keys)
        let ttlMilliseconds = Self.milliseconds(ttl)
        let rows = try connector.withSession { session in
            try session.run(
                """
                WITH beat AS (
                    INSERT INTO agent (name, heartbeat_at) SELECT \(agent), now() WHERE \(heartbeat)
                    ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
                ), forgotten AS (
                    -- Agents killed long ago (a name per host and pid): kept a day for `status`.
                    DELETE FROM agent WHERE \(heartbeat) AND heartbeat_at < now() - interval '1 day'
                ), locked AS (
                    -- Locked in name order, as takeLeases locks: a renewal and a takeover that
                    -- meet on several rows cannot deadlock.
                    SELECT l.source FROM source_lease l
                    JOIN unnest(\(sources)::text[], \(sources.map { epochs[$0]! })::int8[]) AS held(source, epoch)
                        ON l.source = held.source AND l.epoch = held.epoch AND l.owner = \(agent)
                    ORDER BY l.source FOR UPDATE OF l
                ), renewed AS (
                    UPDATE source_lease SET expires_at = now() + \(ttlMilliseconds) * interval '1 millisecond'
                    FROM locked WHERE source_lease.source = locked.source
                    RETURNING source_lease.source
                )
                SELECT source, NULL::int8, NULL::int8 FROM renewed
                UNION ALL
                -- The statement's own heartbeat is not visible to it: the others, counted apart.
                SELECT NULL,
                    (SELECT count(*) FROM agent WHERE name <> \(agent) AND heartbeat_at > now() - \(ttlMilliseconds) * interval '1 millisecond'),
                    (SELECT count(*) FROM source_lease WHERE source = ANY(\(among)::text[]) AND owner <> \(agent) AND expires_at >= now())
                """
            ).map { (try $0.column(0, as: String?.self), try $0.column(1, as: Int64?.self), try $0.column(2, as: Int64?.self)) }
        }
        let still = Set(rows.compactMap(\.0))
        let others = rows.compactMap(\.1).first ?? 0
        leases.withLock { held in held.epochs = held.epochs.filter { still.contains($0.key) } }
        return LeaseRenewal(kept: still, liveAgents: Int(others) + (heartbeat ? 1 : 0), heldByOthers: Int(rows.compactMap(\.2).first ?? 0))
    }

    /// Hands the leases back at once (a clean exit), so another agent need not wait for them to
    /// run out. nil: every lease this agent holds.
    public func releaseLeases(_ sources: [String]? = nil) throws {
        let (agent, epochs) = leases.withLock { held in
            let released = sources.map { names in held.epochs.filter { names.contains($0.key) } } ?? held.epochs
            for name in released.keys { held.epochs[name] = nil }
            return (held.agent, released)
        }
        guard let agent, !epochs.isEmpty else { return }
        let names = Array(epochs.keys)
        try connector.withSession { session in
            try session.execute(
                """
                UPDATE source_lease SET expires_at = '-infinity'
                FROM unnest(\(names)::text[], \(names.map { epochs[$0]! })::int8[]) AS held(source, epoch)
                WHERE source_lease.source = held.source AND source_lease.epoch = held.epoch AND source_lease.owner = \(agent)
                """)
        }
    }

    /// The sources this agent holds, with the epochs it took them at.
    public var heldLeases: [String: Int64] { leases.withLock { $0.epochs } }

    /// Changes this agent tried after its lease on the source had been taken over.
    public var staleEpochRejections: Int { leases.withLock { $0.rejections } }

    /// The lease name of backfill job `id`: jobs are leased like sources, by the agent running them.
    public static func jobLease(_ id: Int64) -> String { "backfill:\(id)" }

    /// Statements sent to the database so far.
    public var statementsSent: Int { connector.statements.value + reader.statements.value }

    /// Every agent with its last heartbeat, for `status`.
    public func agents() throws -> [(name: String, heartbeatAt: Date)] {
        try reader.withSession { session in
            try session.run("SELECT name, extract(epoch FROM heartbeat_at)::float8 FROM agent ORDER BY name").map {
                (try $0.column(0, as: String.self), Date(timeIntervalSince1970: try $0.column(1, as: Double.self)))
            }
        }
    }

    /// Forgets this agent's heartbeat (a clean exit), so the others count it out at once.
    public func retireAgent() throws {
        guard let agent = leases.withLock({ $0.agent }) else { return }
        try connector.withSession { try $0.execute("DELETE FROM agent WHERE name = \(agent)") }
    }

    /// Every lease, by source.
    public func sourceLeases() throws -> [SourceLease] {
        try reader.withSession { session in
            try session.run("SELECT source, owner, epoch, extract(epoch FROM expires_at)::float8 FROM source_lease ORDER BY source").map { row in
                SourceLease(
                    source: try row.column(0), owner: try row.column(1), epoch: try row.column(2),
                    expiresAt: Date(timeIntervalSince1970: try row.column(3)))
            }
        }
    }

    /// Inside a transaction that changes `source`: nothing to check while the store acts for no
    /// agent (one agent on its own, the admin commands); else the source's lease row, locked
    /// against a takeover until this transaction ends, must still carry this agent's epoch.
    func checkEpoch(_ session: PostgresSession, source: String) throws {
        let (agent, epoch) = leases.withLock { ($0.agent, $0.epochs[source]) }
        guard let agent else { return }
        let current = try epoch.flatMap { epoch in
            try session.scalar(
                "SELECT epoch FROM source_lease WHERE source = \(source) AND owner = \(agent) AND epoch = \(epoch) FOR SHARE", as: Int64.self)
        }
        guard current == nil else { return }
        leases.withLock { held in
            held.epochs[source] = nil
            held.rejections += 1
        }
        throw PostgresStateError(
            "PostgreSQL state \(location.redacted): source \(source) is no longer leased to agent \(agent) (another agent took it over); the change was rolled back",
            sqlState: PostgresStateError.staleEpochState)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// What this store holds for its agent.
struct HeldLeases {
    var agent: String?
    var epochs: [String: Int64] = [:]
    var rejections = 0
    /// Per sink, the sources of its current delivery round (see `agentOffset`).
    var roundScopes: [String: [String]] = [:]
}

extension PostgresStateStore {
    /// See `StateBackend.changeAlone`: the lease is taken for 30 s (a command that dies holding
    /// it blocks the source that long at most) and released after the change, committed or not.
    public func changeAlone<T>(source: String, as admin: String, _ change: () throws -> T) throws -> T {
        guard try takeLeases([source], agent: admin, ttl: .seconds(30))[source] != nil else {
            let lease = try sourceLeases().first { $0.source == source }
            throw SourceBusyError(source: source, owner: lease?.owner ?? "?", until: lease?.expiresAt ?? Date())
        }
        defer { try? releaseLeases([source]) }
        return try change()
    }
}
