import Foundation
import Logging
import ServiceLifecycle

/// `run`: every source polls on its interval and every sink delivers continuously, until
/// SIGTERM/SIGINT. Shutdown runs in reverse of start: sources stop first, then each sink
/// finishes its in-flight batch (or abandons it when the grace period ends; it is resent next time).
public enum DaemonMode {
    public static func run(engine: Engine, gracePeriod: Duration = .seconds(20), notifier: SystemdNotifier = SystemdNotifier()) async throws {
        var services: [any Service] = [MaintenanceService(engine: engine), SystemdService(notifier: notifier)]
        services += engine.workers.map { SinkWorkerService(worker: $0) }
        services += engine.pollers.map { SourcePollerService(poller: $0) }
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: engine.logger)
        configuration.maximumGracefulShutdownDuration = gracePeriod
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        engine.logger.info(
            "forwarder running",
            metadata: ["sources": "\(engine.pollers.map(\.name))", "sinks": "\(engine.workers.map(\.name))"])
        try await group.run()
        engine.maintain()
        engine.logger.info("forwarder stopped")
    }
}

struct SourcePollerService: Service {
    let poller: SourcePoller

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            // Errors are logged and recorded by the poller; the next poll tries again.
            _ = try? await poller.poll()
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: poller.configuration.pollInterval)
            }
        }
    }
}

struct SinkWorkerService: Service {
    let worker: SinkWorker

    func run() async throws {
        var idleWait = Duration.milliseconds(20)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let step: SinkWorker.Step
            do {
                step = try await worker.step(flushNow: false)
            } catch is CancellationError {
                return
            } catch {
                // A state error (e.g. disk full): say so and try again shortly; nothing moved.
                worker.logger.error("sink step failed", metadata: [LogKey.error: "\(error)"])
                step = .idle
                idleWait = .seconds(1)
            }
            switch step {
            case .progressed:
                idleWait = .milliseconds(20)
                continue
            case .stopped:
                // Stay up (other sinks go on) but do nothing more.
                try? await gracefulShutdown()
                return
            case .idle, .waiting:
                try? await cancelWhenGracefulShutdown { [idleWait] in try await Task.sleep(for: idleWait) }
                idleWait = min(idleWait * 2, .milliseconds(250))
            }
        }
        await drainOnShutdown()
    }

    /// The sources have stopped (they shut down first): send what is spooled, partial batches
    /// included, until done or the grace period cancels us. A sink that fails now stops at once
    /// (its retry waits end on shutdown); its events stay spooled for the next start.
    private func drainOnShutdown() async {
        while !Task.isCancelled {
            guard let step = try? await worker.step(flushNow: true), case .progressed = step else { return }
        }
    }
}

/// Tells systemd the daemon is ready, pings its watchdog, and says when it is stopping.
struct SystemdService: Service {
    let notifier: SystemdNotifier

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
        notifier.notify("STOPPING=1")
    }
}

struct MaintenanceService: Service {
    let engine: Engine

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            engine.maintain()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
        }
    }
}
