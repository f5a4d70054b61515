import Foundation
import Logging

extension SinkWorker {
    /// How a `drive` ended.
    enum DriveEnding: Equatable {
        /// Fetching is over and nothing is left to send.
        case finished
        /// The sink is gone (webhook 410): it sends nothing more until restarted.
        case stopped
        /// A step failed and `onError` gave up.
        case failed
        /// `keepGoing` turned false, or the task was cancelled.
        case interrupted
    }

    /// The one loop that drives a sink worker, for every mode: the daemon's service (until a
    /// graceful shutdown, then a drain) and `once`/`backfill` (until the sources are done and
    /// nothing is left).
    /// - `fetchingDone`: read before each step; once true, partial batches go out at once, and
    ///   the drive finishes when nothing is left (acks still awaited are waited for).
    /// - `waitForMore`: an idle wait for new events (it may end early, e.g. when fetching ends).
    /// - `onError`: a failed step; the pause before the next one, or nil to end the drive.
    func drive(
        fetchingDone: () -> Bool, keepGoing: () -> Bool = { true }, longestIdle: Duration,
        waitForMore: (Duration) async -> Void, onError: (any Error) -> Duration?
    ) async -> DriveEnding {
        let shortestIdle = Duration.milliseconds(20)
        var idle = shortestIdle
        while keepGoing(), !Task.isCancelled {
            // Read before stepping: events spooled after an idle step are not missed.
            let done = fetchingDone()
            let step: Step
            do {
                step = try await self.step(flushNow: done)
            } catch is CancellationError {
                return .interrupted
            } catch {
                guard let pause = onError(error) else { return .failed }
                await waitForMore(pause)
                continue
            }
            switch step {
            case .progressed:
                idle = shortestIdle
            case .stopped:
                return .stopped
            case .idle where done:
                return .finished
            case .waiting(let due) where done:
                // Only acks are awaited now (partial batches went out): until the next query. A
                // graceful shutdown does not cut this short; its grace period does.
                try? await clock.sleepThroughShutdown(for: min(due, .milliseconds(250)))
            case .idle:
                await waitForMore(idle)
                idle = min(idle * 2, longestIdle)
            case .waiting(let due):
                // Not past what is due (a flush, an ack query): new events may fill the batch first.
                await waitForMore(min(due, idle))
                idle = min(idle * 2, longestIdle)
            }
        }
        return .interrupted
    }
}
