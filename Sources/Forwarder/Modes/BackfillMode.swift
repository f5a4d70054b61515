import Checkpoint
import Connectors
import Foundation
import Logging

/// `backfill`: bring in a historical range for one source without touching its live cursor.
/// The range is cut into windows (`BackfillPlan`); up to `concurrency` of them are fetched at
/// once, through the source's one page walker, so its `rate_limit` and the upstream's rate-limit
/// headers bound them all together. Each page is spooled for the job's sinks through the same
/// dedupe index as the live tail, and delivered like `once`. The job's position only covers
/// a contiguous prefix; windows finished ahead of it are recorded apart, so a resumed job
/// re-fetches exactly the windows that had not finished.
public enum BackfillMode {
    public struct Progress: Sendable {
        public var job: BackfillJob
        public var eventsPerSecond: Double
        public var eta: Duration?
    }

    /// `--concurrency` range: enough to hide latency, few enough not to hammer an upstream.
    public static let concurrencyRange = 1...16
    /// Two windows hide most of the latency and at most double the live tail's request rate.
    public static let defaultConcurrency = 2

    public static func run(
        engine: Engine, job: BackfillJob, concurrency: Int = defaultConcurrency, deadline: Duration,
        progress: @escaping @Sendable (Progress) -> Void
    ) async -> OnceMode.Outcome {
        guard let poller = engine.pollers.first(where: { $0.name == job.source }) else {
            return .failed(["no source named \(job.source) in the configuration"])
        }
        let failures = Failures()
        let fetchDone = Flag()
        let width = min(max(concurrency, concurrencyRange.lowerBound), concurrencyRange.upperBound)
        // On a shared state the job is leased, so one agent at a time runs it (and any can resume
        // it); its pages are delivered by the agents holding the source.
        var renew: (@Sendable () -> Void)?
        if let leasing = engine.leasing {
            do {
                guard try leasing.takeJob(job.id) else {
                    return .failed([
                        "backfill job \(job.id) is running on another agent (its lease is held); wait for it, or resume it once that agent is gone"
                    ])
                }
            } catch {
                return .failed(["backfill job \(job.id): \(error)"])
            }
            renew = { leasing.renewJob() }
        }
        defer { engine.leasing?.releaseJob(job.id) }
        let outcome = await OnceMode.deliver(engine: engine, deadline: deadline, sourcesDone: fetchDone, failures: failures, renew: renew) {
            do {
                try await fetch(job: job, poller: poller, store: engine.store, concurrency: width, progress: progress)
                try engine.store.finishBackfillJob(id: job.id)
            } catch is CancellationError {
            } catch {
                failures.add("backfill \(job.id) (\(job.source)): \(error)")
            }
            fetchDone.set()
        }
        return outcome
    }

    /// Runs the pending windows oldest first, at most `concurrency` at a time. The first failure
    /// cancels the others; what they finished stays recorded.
    private static func fetch(
        job: BackfillJob, poller: SourcePoller, store: any StateBackend, concurrency: Int, progress: @Sendable (Progress) -> Void
    ) async throws {
        var queue = BackfillPlan.pendingWindows(of: job, length: BackfillPlan.windowLength(for: poller.configuration.connector))[...]
        let meter = ProgressMeter(start: job, clock: poller.clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            while true {
                while running < concurrency, let window = queue.popFirst() {
                    group.addTask { try await fetch(window: window, job: job, poller: poller, store: store) }
                    running += 1
                }
                guard running > 0, try await group.next() != nil else { break }
                running -= 1
                if let current = try store.backfillJob(id: job.id) { progress(meter.progress(current)) }
            }
        }
    }

    private static func fetch(window: PollWindow, job: BackfillJob, poller: SourcePoller, store: any StateBackend) async throws {
        let range = window.start..<window.end
        try await poller.walker.walk(poller.configuration.connector.makePoll(window: window), prepare: SourcePoller.spoolEntries) { pages in
            try await poller.waitForSpoolSpace()
            // The pages waiting go in together, in one transaction; the job's position only ever
            // moves forward (`max`), so the last page's checkpoint says what each would have.
            let checkpoint = pages.last(where: { $0.checkpoint != nil })?.checkpoint
            try store.appendBackfillPage(job: job, window: range, entries: SpoolEntry.all(in: pages), checkpoint: checkpoint)
            return true
        }
        try store.finishBackfillWindow(job: job, window: range)
    }

    /// Rate and ETA since this run started.
    private struct ProgressMeter {
        let start: BackfillJob
        let clock: EngineClock
        let started: EngineClock.Instant

        init(start: BackfillJob, clock: EngineClock) {
            self.start = start
            self.clock = clock
            started = clock.now
        }

        func progress(_ current: BackfillJob) -> Progress {
            let elapsed = (clock.now - started).seconds
            let rate = elapsed > 0 ? Double(current.events - start.events) / elapsed : 0
            let doneShare = current.progress - start.progress
            let eta: Duration? =
                doneShare > 0 && elapsed > 0
                ? .milliseconds(Int64(elapsed * (1 - current.progress) / doneShare * 1000)) : nil
            return Progress(job: current, eventsPerSecond: rate, eta: eta)
        }
    }
}
