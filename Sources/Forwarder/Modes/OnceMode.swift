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
        let spooled = Tally()
        // On a shared state: the sources this agent can lease now; the others are another
        // agent's this time. Handed back at the end.
        engine.leasing?.tickLogged()
        defer { engine.leasing?.releaseAll() }
        var renew: (@Sendable () -> Void)?
        if let leasing = engine.leasing { renew = { leasing.tickLogged() } }
        let outcome = await deliver(engine: engine, deadline: deadline, sourcesDone: sourcesDone, failures: failures, renew: renew) {
            await withTaskGroup(of: Void.self) { sources in
                for poller in engine.pollers {
                    sources.addTask {
                        do {
                            let summary = try await poller.poll()
                            spooled.add(summary.spooled)
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
        let delivered = engine.workers.map { "\($0.name)=\($0.deliveredCount.withLock { $0 })" }.joined(separator: " ")
        engine.logger.info(
            "once finished", metadata: [LogKey.spooled: "\(spooled.total)", "delivered": "\(delivered)", "exit": "\(outcome.exitCode)"])
        return outcome
    }

    /// Runs `fetch` (which sets `sourcesDone` when it is finished) while every sink delivers, until
    /// both are done or the deadline passes; then says how it went.
    /// `renew`: on a shared state, what keeps this run's leases (every third of the TTL).
    static func deliver(
        engine: Engine, deadline: Duration, sourcesDone: Flag, failures: Failures,
        renew: (@Sendable () -> Void)? = nil, fetch: @escaping @Sendable () async -> Void
    ) async -> Outcome {
        let before = (try? engine.store.sinkStates()) ?? []
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await work(engine: engine, sourcesDone: sourcesDone, failures: failures, renew: renew, fetch: fetch)
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
        let problems = failures.all + sinkProblems(engine: engine, before: before, after: (try? engine.store.sinkStates()) ?? [], pending: pending)
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

    /// What a sink did wrong during the run, though nothing threw: events dead-lettered (exit 1,
    /// or a timer would report success while the SIEM refused them), or events waiting the whole
    /// run without one delivered while the sink failed (a sink down throughout: not "the rest
    /// next time", 75, but 1). A healthy sink that only ran out of time stays 75.
    static func sinkProblems(engine: Engine, before: [SinkState], after: [SinkState], pending: [String]) -> [String] {
        var problems: [String] = []
        for worker in engine.workers {
            guard let now = after.first(where: { $0.sink == worker.name }) else { continue }
            let then = before.first { $0.sink == worker.name }
            let lettered = now.deadLetters - (then?.deadLetters ?? 0)
            if lettered > 0 {
                problems.append("sink \(worker.name) dead-lettered \(lettered) event(s) (audit-forwarder deadletters list)")
            }
            if pending.contains(worker.name), now.deliveredSeq == (then?.deliveredSeq ?? 0), let error = now.lastError {
                problems.append("sink \(worker.name) delivered nothing this run: \(error)")
            }
        }
        return problems
    }

    private static func work(
        engine: Engine, sourcesDone: Flag, failures: Failures, renew: (@Sendable () -> Void)?, fetch: @escaping @Sendable () async -> Void
    ) async {
        await withTaskGroup(of: Void.self) { housekeeping in
            housekeeping.addTask {
                await engine.runMaintenance(pause: { try? await Task.sleep(for: .milliseconds(250)) }, keepGoing: { true })
            }
            if let leasing = engine.leasing, let renew {
                housekeeping.addTask {
                    while !Task.isCancelled {
                        try? await engine.clock.sleep(for: leasing.renewalPeriod)
                        if !Task.isCancelled { renew() }
                    }
                }
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
        let ending = await worker.drive(
            fetchingDone: { sourcesDone.value }, longestIdle: .milliseconds(50),
            // Woken when the sources finish: the last partial batch goes out at once.
            waitForMore: { wait in await sourcesDone.wait(atMost: wait) },
            onError: { error in
                if Task.isCancelled { return nil }
                failures.add("sink \(worker.name): \(error)")
                worker.logger.error("sink step failed", metadata: [LogKey.error: "\(error)"])
                return nil
            })
        if ending == .stopped { failures.add("sink \(worker.name) stopped: its endpoint is gone") }
    }
}

/// A count added to from concurrent tasks.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add(_ amount: Int) { lock.withLock { value += amount } }
    var total: Int { lock.withLock { value } }
}

/// Problems collected from concurrent tasks.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
