import Checkpoint
import Foundation
import Logging

/// An agent's share of the sources of a shared (PostgreSQL) state, DESIGN.md §8: every
/// `ttl / 3` it renews what it holds and writes its heartbeat (one statement), then takes free or
/// expired sources up to its fair share, ⌈sources ÷ live agents⌉, or hands back what it holds
/// beyond that so an agent that joined gets its share. Pollers poll only held sources; sink
/// workers deliver only their events (the store scopes each round).
final class SourceLeasing: Sendable {
    let store: PostgresStateStore
    let agent: String
    let ttl: Duration
    let sources: [String]
    let logger: Logger
    private let reportedRejections = LockedCount()

    init(store: PostgresStateStore, agent: String, ttl: Duration, sources: [String], logger: Logger) {
        self.store = store
        self.agent = agent
        self.ttl = ttl
        self.sources = sources
        self.logger = logger
        store.actAs(agent: agent)
    }

    var renewalPeriod: Duration { ttl / 3 }

    func holds(_ source: String) -> Bool { store.heldLeases[source] != nil }

    /// One renewal round. Returns how many sources this agent holds after it.
    @discardableResult
    func tick() throws -> Int {
        let before = Set(store.heldLeases.keys)
        let kept = try store.renewLeases(ttl: ttl)
        for lost in before.subtracting(kept).sorted() {
            logger.warning("lease lost: another agent holds the source now", metadata: [LogKey.source: "\(lost)", "agent": "\(agent)"])
        }
        let live = max(1, try store.liveAgents(within: ttl).count)
        let share = (sources.count + live - 1) / live
        if kept.count > share {
            let extras = Array(kept.sorted().suffix(kept.count - share))
            try store.releaseLeases(extras)
            logger.info("handed back sources for a fair share", metadata: ["sources": "\(extras)", "share": "\(share)", "agents": "\(live)"])
        } else if kept.count < share {
            let wanted = sources.filter { !kept.contains($0) }.shuffled()
            let taken = try store.takeLeases(wanted, agent: agent, ttl: ttl, limit: share - kept.count)
            for (source, epoch) in taken.sorted(by: { $0.key < $1.key }) {
                if epoch > 1 { LeaseMetrics.takeovers.increment() }
                logger.info("lease taken", metadata: [LogKey.source: "\(source)", "epoch": "\(epoch)", "agent": "\(agent)"])
            }
        }
        let now = store.heldLeases.count
        LeaseMetrics.held.record(now)
        let rejections = store.staleEpochRejections
        let fresh = reportedRejections.advance(to: rejections)
        if fresh > 0 { LeaseMetrics.staleEpochRejections.increment(by: fresh) }
        return now
    }

    /// A backfill job's lease (`backfill:<id>`): taken by the one agent running the job; its
    /// pages are fenced by it. False when another agent holds it.
    func takeJob(_ id: Int64) throws -> Bool {
        !(try store.takeLeases([PostgresStateStore.jobLease(id)], agent: agent, ttl: ttl)).isEmpty
    }

    /// Renews the job's lease without a heartbeat: a backfill is not an agent that takes sources.
    func renewJob() {
        do {
            try store.renewLeases(ttl: ttl, heartbeat: false)
        } catch {
            logger.error("backfill lease renewal failed", metadata: [LogKey.error: "\(error)"])
        }
    }

    func releaseJob(_ id: Int64) {
        try? store.releaseLeases([PostgresStateStore.jobLease(id)])
    }

    /// `tick`, with a failure logged: the database may be down for a while; the leases run out
    /// and the next tick that reaches it takes a share again.
    func tickLogged() {
        do {
            try tick()
        } catch {
            logger.error("lease renewal failed; sources are let go when their leases run out", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// Hands every lease back and forgets the heartbeat (a clean exit): a restart or another agent
    /// need not wait for them to run out.
    func releaseAll() {
        do {
            try store.releaseLeases()
            try store.retireAgent()
            LeaseMetrics.held.record(0)
        } catch {
            logger.warning("could not hand the leases back; they run out within one TTL", metadata: [LogKey.error: "\(error)"])
        }
    }
}

/// The rejections already counted into the metric.
private final class LockedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func advance(to total: Int) -> Int {
        lock.withLock {
            defer { value = max(value, total) }
            return max(0, total - value)
        }
    }
}
