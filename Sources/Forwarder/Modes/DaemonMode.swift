import Foundation
import Logging
import ServiceLifecycle

/// `run`: every source polls on its interval and every sink delivers continuously, until
/// SIGTERM/SIGINT. Shutdown runs in reverse of start: sources stop first, then each sink
/// finishes its in-flight batch (or abandons it when the grace period ends; it is resent next time).
public enum DaemonMode {
    /// Why a run of the service group ended.
    public enum Ending: Sendable, Equatable {
        /// SIGTERM or SIGINT: exit.
        case stopped
        /// SIGHUP: load the configuration again and go on.
        case reloadRequested
    }

    /// Runs until SIGTERM/SIGINT (`.stopped`) or SIGHUP (`.reloadRequested`); on either, sources stop
    /// first and sinks flush what is spooled within the grace period.
    public static func run(engine: Engine, gracePeriod: Duration = .seconds(20), notifier: SystemdNotifier = SystemdNotifier()) async throws -> Ending
    {
        // On a shared state, take this agent's share of the sources before the pollers start.
        engine.leasing?.tickLogged()
        let group = serviceGroup(engine: engine, gracePeriod: gracePeriod, notifier: notifier)
        let reload = ReloadSignal.shared
        reload.watch(group)
        // A stop that came while the previous group was being replaced.
        if reload.stopRequested { return .stopped }
        engine.logger.info(
            "forwarder running",
            metadata: ["sources": "\(engine.pollers.map(\.name))", "sinks": "\(engine.workers.map(\.name))"])
        try await group.run()
        engine.maintain()
        if reload.fired, !reload.stopRequested { return .reloadRequested }
        // A SIGTERM that came during a reload: SystemdService said RELOADING, so say STOPPING now.
        if reload.fired { notifier.notify("STOPPING=1") }
        engine.logger.info("forwarder stopped")
        return .stopped
    }
}

extension DaemonMode {
    /// The daemon's parts: maintenance, systemd notifications, telemetry, a worker per sink and a
    /// loop per source. SIGTERM and SIGINT stop it gracefully, unless `stopsOnSignals` is false
    /// (tests run it in process and stop it themselves).
    static func serviceGroup(
        engine: Engine, gracePeriod: Duration = .seconds(20), notifier: SystemdNotifier = SystemdNotifier(),
        stopsOnSignals: Bool = true
    ) -> ServiceGroup {
        let systemd = SystemdService(notifier: notifier) { ReloadSignal.shared.fired && !ReloadSignal.shared.stopRequested }
        var services: [any Service] = [MaintenanceService(engine: engine), systemd]
        // Before the workers and pollers: a group stops in reverse order, so the leases are
        // handed back only once the sinks have flushed.
        if let leasing = engine.leasing { services.append(LeaseService(leasing: leasing)) }
        if let listen = engine.configuration.telemetry?.listen, let telemetry = TelemetryServer.application(listen: listen, engine: engine) {
            services.append(telemetry)
        }
        services += engine.workers.map { SinkWorkerService(worker: $0) }
        services += engine.pollers.map { SourcePollerService(poller: $0) }
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: stopsOnSignals ? [.sigterm, .sigint] : [], logger: engine.logger)
        configuration.maximumGracefulShutdownDuration = gracePeriod
        configuration.maximumCancellationDuration = .seconds(5)
        return ServiceGroup(configuration: configuration)
    }
}

/// SIGHUP ends the current service group gracefully and remembers that a reload, not a stop, was
/// asked. SIGTERM/SIGINT are watched too (the group handles them): one that arrives while a reload
/// is under way must still stop the daemon, not be swallowed by the group being replaced.
///
/// The signal sources are made once per process: re-creating libdispatch signal sources for each
/// group lost the second SIGHUP.
final class ReloadSignal: @unchecked Sendable {
    static let shared = ReloadSignal()

    private let lock = NSLock()
    private var group: ServiceGroup?
    private var reload = false
    private var stop = false
    private var sources: [DispatchSourceSignal] = []

    private init() {
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangup.setEventHandler { [unowned self] in
            let group = lock.withLock { () -> ServiceGroup? in
                reload = true
                return self.group
            }
            if let group { Task { await group.triggerGracefulShutdown() } }
        }
        sources.append(hangup)
        for number in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [unowned self] in
                let group = lock.withLock { () -> ServiceGroup? in
                    stop = true
                    return self.group
                }
                if let group { Task { await group.triggerGracefulShutdown() } }
            }
            sources.append(source)
        }
        for source in sources { source.resume() }
    }

    /// Starts watching for `group`; the flags start clear, except a stop already asked for.
    func watch(_ group: ServiceGroup) {
        lock.withLock {
            self.group = group
            reload = false
        }
    }

    var fired: Bool { lock.withLock { reload } }
    var stopRequested: Bool { lock.withLock { stop } }
}

struct SourcePollerService: Service {
    let poller: SourcePoller

    func run() async throws {
        // The engine's clock already ends its waits on a stop; this says so for any clock. On
        // the machine's clock such a wait makes no task group (`ShutdownEndedWait`).
        let clock = poller.clock.endingWaitsOnShutdown()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            // Errors are logged and recorded by the poller; the next poll tries again. A stop
            // abandons the poll: pages already spooled stay, the cursor is where they left it.
            _ = try? await cancelWhenGracefulShutdown { try await poller.poll() }
            try? await clock.sleep(for: poller.configuration.pollInterval)
        }
    }
}

struct SinkWorkerService: Service {
    let worker: SinkWorker

    func run() async throws {
        let clock = worker.clock.endingWaitsOnShutdown()
        let ending = await worker.drive(
            fetchingDone: { false }, keepGoing: { !Task.isShuttingDownGracefully }, longestIdle: .milliseconds(250),
            waitForMore: { wait in try? await clock.sleep(for: wait) },
            onError: { error in
                // A state error (e.g. disk full): say so and try again shortly; nothing moved.
                worker.logger.error("sink step failed", metadata: [LogKey.error: "\(error)"])
                return .seconds(1)
            })
        if ending == .stopped {
            // Stay up (other sinks go on) but do nothing more.
            try? await gracefulShutdown()
            return
        }
        // The sources have stopped (they shut down first): send what is spooled, partial batches
        // included, until done or the grace period cancels us. A sink that fails now stops at
        // once (its retry waits end on shutdown); its events stay spooled for the next start.
        _ = await worker.drive(fetchingDone: { true }, longestIdle: .milliseconds(250), waitForMore: { _ in }, onError: { _ in nil })
    }
}

/// Tells systemd the daemon is ready, pings its watchdog, and says when it is stopping or
/// reloading. A reload must not say STOPPING: systemd takes that as the service going down, arms
/// `TimeoutStopSec` and ignores the READY that follows, then kills the daemon. It says RELOADING
/// (with the monotonic time systemd asks for) and the next group's READY ends the reload.
struct SystemdService: Service {
    let notifier: SystemdNotifier
    /// Whether this group is ending for a reload (asked only under systemd).
    let isReloading: @Sendable () -> Bool

    func run() async throws {
        // A service that returns ends the whole group: when not under systemd, just wait for the stop.
        guard notifier.isActive else {
            try? await gracefulShutdown()
            return
        }
        notifier.notify("READY=1\nSTATUS=forwarding")
        let interval = notifier.watchdogInterval ?? .seconds(3600)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            if notifier.watchdogInterval != nil, !Task.isShuttingDownGracefully { notifier.notify("WATCHDOG=1") }
        }
        if isReloading() {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000)")
        } else {
            notifier.notify("STOPPING=1")
        }
    }
}

/// Renews this agent's leases and rebalances them every third of the TTL; hands them back on a
/// graceful stop.
struct LeaseService: Service {
    let leasing: SourceLeasing

    func run() async throws {
        let clock = leasing.clock.endingWaitsOnShutdown()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await clock.sleep(for: leasing.renewalPeriod)
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            leasing.tickLogged()
        }
        leasing.releaseAll()
    }
}

struct MaintenanceService: Service {
    let engine: Engine

    func run() async throws {
        engine.maintain()
        let clock = engine.clock.endingWaitsOnShutdown()
        await engine.runMaintenance(
            pause: { try? await clock.sleep(for: .milliseconds(250)) },
            keepGoing: { !Task.isShuttingDownGracefully })
    }
}
