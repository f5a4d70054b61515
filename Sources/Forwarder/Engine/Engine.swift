import Checkpoint
import Connectors
import Foundation
import Logging
import Synchronization

/// The assembled forwarder: the state, one poller per source, one worker per sink, and the
/// HTTP clients they share. Modes (`once`, `run`) drive it.
public final class Engine: Sendable {
    public let configuration: ForwarderConfiguration
    public let store: any StateBackend
    let pollers: [SourcePoller]
    let workers: [SinkWorker]
    /// This agent's share of the sources, when the state is shared (PostgreSQL); nil for SQLite,
    /// where one agent holds everything under the run lock.
    let leasing: SourceLeasing?
    private let clients: [WireClient]
    /// The one clock every poller, worker and service waits on and reads.
    let clock: EngineClock
    let logger: Logger
    /// The spool's activity when `maintain` last pruned and counted it: until it changes, there
    /// is nothing new to prune or count (about 3 % of the CPU of 1,000 idle sources, by profile).
    private let maintainedAt = Mutex<SpoolActivity?>(nil)

    /// Opens the state and builds every connector. Does not take the run lock.
    public init(configuration: ForwarderConfiguration, logger: Logger, clock: EngineClock = .system.endingWaitsOnShutdown()) throws {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        store = try configuration.state.open()
        if let shared = store as? PostgresStateStore {
            leasing = SourceLeasing(
                store: shared, agent: AgentName.current(), ttl: configuration.state.leaseTTL, sources: configuration.sources.map(\.name),
                clock: clock, logger: logger)
        } else {
            leasing = nil
        }
        try store.registerSinks(configuration.sinks.map(\.name))
        for warning in configuration.securityWarnings { logger.warning("\(warning)") }
        for warning in store.storageWarnings { logger.warning("\(warning)") }

        // One HTTP client per distinct TLS and proxy setting.
        var clientsBySetting: [(TLSOptions, ProxyServer?, WireClient)] = []
        func client(for tls: TLSOptions, proxy: ProxyServer?) throws -> WireClient {
            if let existing = clientsBySetting.first(where: { $0.0 == tls && $0.1 == proxy }) { return existing.2 }
            let made = try WireClient(tls: tls, proxy: proxy)
            clientsBySetting.append((tls, proxy, made))
            return made
        }
        let store = self.store
        let leasing = self.leasing
        let slots = PollSlots(limit: PollSlots.daemonDefault)
        pollers = try configuration.sources.map { source in
            SourcePoller(
                configuration: source, store: store, client: try client(for: source.tls, proxy: source.proxy),
                spoolMaxEvents: configuration.state.spoolMaxEvents, slots: slots, leasing: leasing, clock: clock, logger: logger)
        }
        workers = try configuration.sinks.map { sink in
            let delivery = try sink.target.makeDelivery(for: sink, clock: clock) { try client(for: sink.tls, proxy: sink.proxy) }
            return SinkWorker(configuration: sink, store: store, delivery: delivery, clock: clock, logger: logger)
        }
        clients = clientsBySetting.map(\.2)
    }

    /// Drops spooled events every sink has passed, and dedupe keys older than `dedupe_window`.
    /// The state's housekeeping while the forwarder runs, until `keepGoing` turns false: a WAL
    /// checkpoint every 250 ms beside the writers (which keeps commits free of inline checkpoints)
    /// and `maintain` every second (a spool that grows to the whole backlog slows every read).
    func runMaintenance(pause: () async -> Void, keepGoing: () -> Bool) async {
        var ticks = 0
        while keepGoing(), !Task.isCancelled {
            await pause()
            do {
                try store.periodicMaintenance()
            } catch {
                logger.warning("WAL checkpoint failed", metadata: [LogKey.error: "\(error)"])
            }
            ticks += 1
            if ticks % 4 == 0 { maintain() }
            // Counting each sink's backlog reads the spool: every 15 s, and only for a scraper.
            if ticks % 60 == 1, configuration.telemetry != nil { refreshSinkGauges() }
        }
    }

    /// Per sink: events pending and dead letters held, for alerts (`/metrics`).
    func refreshSinkGauges() {
        guard let states = try? store.sinkStates() else { return }
        for worker in workers {
            guard let state = states.first(where: { $0.sink == worker.name }) else { continue }
            worker.metrics.pending.record(state.pending)
            worker.metrics.deadLetters.record(state.deadLetters)
        }
    }

    func maintain(now: Date? = nil) {
        let now = now ?? clock.wallNow
        do {
            // Read before the spool is: what changes after the reads below counts after them.
            let activity = store.localSpoolActivity
            if activity == nil || activity != maintainedAt.withLock({ $0 }) {
                try store.prune(activeSinks: configuration.sinks.map(\.name))
                SpoolMetrics.depth.record(try store.spoolDepth())
                if let bytes = try store.spoolFileBytes() { SpoolMetrics.fileBytes.record(bytes) }
                maintainedAt.withLock { $0 = activity }
            }
            try store.pruneDedupe(seenBefore: now.addingTimeInterval(-configuration.state.dedupeWindow.seconds))
        } catch {
            maintainedAt.withLock { $0 = nil }
            logger.error("state maintenance failed", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// `/readyz`: the state accepts a write, and no sink has an error with events pending for
    /// longer than `failingFor`.
    func readiness(failingFor threshold: TimeInterval = 300, now: Date? = nil) -> (ready: Bool, reason: String) {
        let now = now ?? clock.wallNow
        do {
            try store.checkWritable()
            for source in try store.sourceStates() where configuration.sources.contains(where: { $0.name == source.source }) {
                if let cursor = source.position.flatMap(RFC3339.parse), cursor.timeIntervalSince(now) > StatusReport.aheadTolerance {
                    return (false, "source \(source.source)'s cursor is ahead of now (\(source.position!)); it fetches nothing until then")
                }
            }
            for sink in try store.sinkStates() where configuration.sinks.contains(where: { $0.name == sink.sink }) {
                // Named, not quoted: the last error holds part of the sink's answer, and /readyz is
                // not the place to repeat what a remote server said; `status` and the logs have it.
                if sink.lastError != nil, let oldest = sink.oldestPendingSpooledAt, now.timeIntervalSince(oldest) > threshold {
                    return (
                        false,
                        "sink \(sink.sink) failing with events pending for \(Int(now.timeIntervalSince(oldest)))s (its last error: audit-forwarder status)"
                    )
                }
            }
            return (true, "ready")
        } catch {
            return (false, "state not writable (see the logs)")
        }
    }

    /// Whether any sink still has events after its offset.
    func pendingSinks() throws -> [String] {
        try workers.filter { worker in
            let offset = try store.offset(sink: worker.name)
            return !(try store.readBatch(sink: worker.name, after: offset, limit: 1)).isEmpty
        }.map(\.name)
    }

    public func shutdown() async {
        for client in clients { await client.shutdown() }
    }
}
