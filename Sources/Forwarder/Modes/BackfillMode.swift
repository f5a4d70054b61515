import Checkpoint
import Connectors
import Foundation
import Logging

/// `backfill`: bring in a historical range for one source without touching its live cursor.
/// The range is read in slices (at most a day each, so an interrupted job resumes close to where
/// it stopped); each page is spooled for the job's sinks with the job's position in one
/// transaction, through the same dedupe index as the live tail, and delivered like `once`.
public enum BackfillMode {
    public struct Progress: Sendable {
        public var job: BackfillJob
        public var eventsPerSecond: Double
        public var eta: Duration?
    }

    /// One slice of at most this long; the API's own limits (Logfire's 90 days) are the connector's.
    static let sliceLength: TimeInterval = 86400

    public static func run(
        engine: Engine, job: BackfillJob, deadline: Duration, progress: @escaping @Sendable (Progress) -> Void
    ) async -> OnceMode.Outcome {
        guard let poller = engine.pollers.first(where: { $0.name == job.source }) else {
            return .failed(["no source named \(job.source) in the configuration"])
        }
        let failures = Failures()
        let fetchDone = Flag()
        let outcome = await OnceMode.deliver(engine: engine, deadline: deadline, sourcesDone: fetchDone, failures: failures) {
            do {
                try await fetch(job: job, poller: poller, store: engine.store, progress: progress)
                try engine.store.finishBackfillJob(id: job.id)
            } catch is CancellationError {
            } catch {
                failures.add("backfill \(job.id) (\(job.source)): \(error)")
            }
            fetchDone.set()
        }
        return outcome
    }

    private static func fetch(job: BackfillJob, poller: SourcePoller, store: StateStore, progress: @Sendable (Progress) -> Void) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let startEvents = job.events
        var start = job.position
        while start < job.rangeEnd {
            try Task.checkCancellation()
            let end = min(job.rangeEnd, start.addingTimeInterval(sliceLength))
            try await poller.walker.walk(PollWindow(start: start, end: end)) { entries, checkpoint in
                try store.appendBackfillPage(
                    job: job, entries: try entries.map(SourcePoller.spoolEntry), position: checkpoint.map { min($0, end) })
                return true
            }
            start = end
            guard let current = try store.backfillJob(id: job.id) else { return }
            let elapsed = (clock.now - started).seconds
            let rate = elapsed > 0 ? Double(current.events - startEvents) / elapsed : 0
            let doneShare = current.progress - job.progress
            let eta: Duration? = doneShare > 0 && elapsed > 0
                ? .milliseconds(Int64(elapsed * (1 - current.progress) / doneShare * 1000)) : nil
            progress(Progress(job: current, eventsPerSecond: rate, eta: eta))
        }
    }
}
