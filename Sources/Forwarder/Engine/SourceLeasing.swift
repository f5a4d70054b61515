import Checkpoint
import Foundation
import Logging
import Synchronization

/// An agent's share of the sources of a shared (PostgreSQL) state, DESIGN.md §8: every
/// `ttl / 3` it renews what it holds, writes its heartbeat, counts the live agents and the
/// sources others hold (one statement), then takes free or expired sources up to its fair share, ⌈sources ÷ live agents⌉,
/// or hands back what it holds beyond that so an agent that joined gets its share. Pollers poll
/// only held sources; sink workers deliver only their events (the store scopes each round).
///
/// Two agents never poll one source at once: a source is handed back only once its poll has
/// stopped at a page boundary (`mayContinue`), and an agent that cannot renew stops polling
/// when its leases would run out on its own clock, before the database lets another take them.
final class SourceLeasing: Sendable {
    let store: PostgresStateStore
    let agent: String
    let ttl: Duration
    let sources: [String]
    let logger: Logger
    /// Lease trust is measured on it: monotonic, and virtual in tests.
    let clock: EngineClock
    private let reportedRejections = LockedCount()
    private let local = LocalLeases()

    init(store: PostgresStateStore, agent: String, ttl: Duration, sources: [String], clock: EngineClock = .system, logger: Logger) {
        self.clock = clock
        self.store = store
        self.agent = agent
        self.ttl = ttl
        self.sources = sources
        self.logger = logger
        store.actAs(agent: agent)
    }

    var renewalPeriod: Duration { ttl / 3 }

    /// How long a lease is trusted here after the statement that took or renewed it was sent: a
    /// tenth short of the TTL, for clocks that run at slightly different rates.
    private var trusted: Duration { ttl - ttl / 10 }

    /// True while this agent holds `source`, trusts the lease and is not handing it back.
    func holds(_ source: String) -> Bool {
        let epoch = store.heldLeases[source]
        return local.state.withLock { $0.usable(source, epoch: epoch, now: clock.now) }
    }

    /// Starts a poll of `source` if this agent may poll it (see `holds`); the poll ends with
    /// `endPoll`. Returns the lease's epoch, nil when the source is not this agent's to poll.
    func beginPoll(_ source: String) -> Int64? {
        guard let epoch = store.heldLeases[source] else { return nil }
        return local.state.withLock { state in
            guard state.usable(source, epoch: epoch, now: clock.now) else { return nil }
            state.polling.insert(source)
            return epoch
        }
    }

    /// At a page boundary of a poll: false when the poll must stop there (the source is being
    /// handed back, or its lease was lost or can no longer be trusted).
    func mayContinue(_ source: String) -> Bool { holds(source) }

    func endPoll(_ source: String) {
        _ = local.state.withLock { $0.polling.remove(source) }
    }

    /// One renewal round. Returns how many sources this agent holds after it.
    @discardableResult
    func tick() throws -> Int {
        let before = Set(store.heldLeases.keys)
        let sent = clock.now
        let renewal = try store.renewLeasesCountingAgents(ttl: ttl, among: sources)
        let kept = renewal.kept
        local.state.withLock { $0.renewed(kept, until: sent + trusted) }
        for lost in before.subtracting(kept).sorted() {
            logger.warning("lease lost: another agent holds the source now", metadata: [LogKey.source: "\(lost)", "agent": "\(agent)"])
        }
        let live = max(1, renewal.liveAgents)
        let share = (sources.count + live - 1) / live
        if kept.count > share {
            try handBack(kept.count - share, of: kept, share: share, live: live)
        } else {
            local.state.withLock { $0.handingBack = [] }
            // Only when some source is free or expired: a steady round stays one statement.
            if kept.count < share, kept.count + renewal.heldByOthers < sources.count {
                let wanted = sources.filter { !kept.contains($0) }.shuffled()
                let takenAt = clock.now
                let taken = try store.takeLeases(wanted, agent: agent, ttl: ttl, limit: share - kept.count)
                local.state.withLock { $0.renewed(Set(taken.keys), until: takenAt + trusted) }
                for (source, epoch) in taken.sorted(by: { $0.key < $1.key }) {
                    if epoch > 1 { LeaseMetrics.takeovers.increment() }
                    logger.info("lease taken", metadata: [LogKey.source: "\(source)", LogKey.epoch: "\(epoch)", "agent": "\(agent)"])
                }
            }
        }
        let now = store.heldLeases.count
        LeaseMetrics.held.record(now)
        let rejections = store.staleEpochRejections
        let fresh = reportedRejections.advance(to: rejections)
        if fresh > 0 { LeaseMetrics.staleEpochRejections.increment(by: fresh) }
        return now
    }

    /// Marks `count` held sources to hand back (those not being polled first) and releases the
    /// ones whose poll has stopped; the others stop at their next page boundary and are released
    /// by a later round.
    private func handBack(_ count: Int, of kept: Set<String>, share: Int, live: Int) throws {
        let releasable = local.state.withLock { state -> [String] in
            let marked = state.handingBack.intersection(kept).sorted()
            let idle = kept.subtracting(state.handingBack).filter { !state.polling.contains($0) }.sorted()
            let busy = kept.subtracting(state.handingBack).filter { state.polling.contains($0) }.sorted()
            state.handingBack = Set((marked + idle + busy).prefix(count))
            return state.handingBack.filter { !state.polling.contains($0) }.sorted()
        }
        guard !releasable.isEmpty else { return }
        // Still marked while the release is sent, so that no poll starts in between.
        defer { local.state.withLock { $0.handingBack.subtract(releasable) } }
        try store.releaseLeases(releasable)
        logger.info("handed back sources for a fair share", metadata: ["sources": "\(releasable)", "share": "\(share)", "agents": "\(live)"])
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

/// What this agent knows of its leases beyond the database's rows: until when each is trusted,
/// which are being polled, which are being handed back.
private final class LocalLeases: Sendable {
    struct State {
        var trustedUntil: [String: EngineClock.Instant] = [:]
        var polling: Set<String> = []
        var handingBack: Set<String> = []

        func usable(_ source: String, epoch: Int64?, now: EngineClock.Instant) -> Bool {
            guard epoch != nil, !handingBack.contains(source), let until = trustedUntil[source] else { return false }
            return now < until
        }

        /// `sources` were renewed or taken by a statement sent at `until - trusted`.
        mutating func renewed(_ sources: Set<String>, until: EngineClock.Instant) {
            for source in sources { trustedUntil[source] = until }
        }
    }

    let state = Mutex(State())
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
