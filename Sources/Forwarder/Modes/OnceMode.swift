import Checkpoint
import Foundation
import Logging

/// `once`: poll every source up to now, deliver everything, exit. For cron and systemd timers.
public enum OnceMode {
    public enum Outcome: Equatable, Sendable {
        /// Everything fetched was delivered (exit 0).
        case complete
        /// The deadline passed with events still spooled; they are safe and go out next time (exit 75).
        case deadlineExceeded(pendingSinks: [String])
        /// A source or sink failed; what was fetched is spooled (exit 1).
        case failed([String])

        public var exitCode: Int32 {
            switch self {
            case .complete: 0
            case .deadlineExceeded: 75
            case .failed: 1
            }
        }
    }

    public static func run(engine: Engine, deadline: Duration) async -> Outcome {
        let failures = Failures()
        let sourcesDone = Flag()
        return await deliver(engine: engine, deadline: deadline, sourcesDone: sourcesDone, failures: failures) {
            await withTaskGroup(of: Void.self) { sources in
                for poller in engine.pollers {
                    sources.addTask {
                        do {
                            try await poller.poll()
                        } catch is CancellationError {
                            // The deadline: what was fetched is spooled; the outcome says 75.
                        } catch {
                            failures.add("source \(poller.name): \(error)")
                        }
                    }
                }
            }
            sourcesDone.set()
        }
    }

    /// Runs `fetch` (which sets `sourcesDone` when it is finished) while every sink delivers, until
    /// both are done or the deadline passes; then says how it went.
    static func deliver(
        engine: Engine, deadline: Duration, sourcesDone: Flag, failures: Failures, fetch: @escaping @Sendable () async -> Void
    ) async -> Outcome {
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await work(engine: engine, sourcesDone: sourcesDone, failures: failures, fetch: fetch)
                return true
            }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        engine.maintain()
        let pending = (try? engine.pendingSinks()) ?? engine.workers.map(\.name)
        let problems = failures.all
        if !finished {
            engine.logger.warning("deadline passed before everything was delivered; the rest stays spooled", metadata: ["pending": "\(pending)"])
        }
        // A failure outranks the deadline: 75 tells a timer "fine, the rest next time", which
        // would hide a source that fetched nothing (a revoked token) behind a slow sink.
        if !problems.isEmpty { return .failed(problems) }
        if !finished { return .deadlineExceeded(pendingSinks: pending) }
        if !pending.isEmpty { return .failed(["sinks still pending: \(pending.joined(separator: ", "))"]) }
        return .complete
    }

    private static func work(engine: Engine, sourcesDone: Flag, failures: Failures, fetch: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { housekeeping in
            housekeeping.addTask {
                await engine.runMaintenance(pause: { try? await Task.sleep(for: .milliseconds(250)) }, keepGoing: { true })
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await fetch() }
                for worker in engine.workers {
                    group.addTask { await drain(worker, sourcesDone: sourcesDone, failures: failures) }
                }
            }
            // Wake the housekeeping from its pause rather than wait out the rest of it: every
            // `once` ended up to 250 ms after its work was done.
            housekeeping.cancelAll()
        }
    }

    /// Sends until the sources are done and nothing is left for this sink.
    private static func drain(_ worker: SinkWorker, sourcesDone: Flag, failures: Failures) async {
        while !Task.isCancelled {
            // Read the flag before stepping: events spooled after an idle step are not missed.
            let done = sourcesDone.value
            do {
                switch try await worker.step(flushNow: done) {
                case .progressed:
                    continue
                case .stopped:
                    failures.add("sink \(worker.name) stopped: its endpoint is gone")
                    return
                case .idle where done:
                    return
                case .waiting where done:
                    try await Task.sleep(for: .milliseconds(10))
                case .idle, .waiting:
                    // Woken when the sources finish: the last partial batch goes out at once, not
                    // up to 50 ms later (a quarter of a small `once`).
                    await sourcesDone.wait(atMost: .milliseconds(50))
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failures.add("sink \(worker.name): \(error)")
                worker.logger.error("sink step failed", metadata: [LogKey.error: "\(error)"])
                return
            }
        }
    }
}

/// Problems collected from concurrent tasks.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
