import Dispatch
import ServiceLifecycle
import Synchronization

/// A wait on the machine's time that a graceful shutdown or the task's cancellation ends at once
/// (with `CancellationError`), and that makes no task of its own.
///
/// ServiceLifecycle's `cancelWhenGracefulShutdown` runs the wait in a task group with a second task
/// that watches for the shutdown. The daemon waits between every two polls of every source and
/// whenever a sink or the maintenance is idle, and with 1,000 sources those groups and their tasks
/// were about a tenth of an idle agent's CPU. Here a timer, the shutdown handler and the
/// cancellation handler race to resume one continuation; the first wins.
enum ShutdownEndedWait {
    /// The longest a timer is armed for. Dispatch's timers run on a clock that stops while the
    /// machine is suspended, where the deadline is on one that does not (`ContinuousClock`): the
    /// timer re-reads `elapsed` at least this often, so a wait ends at most this late after a
    /// suspend (a lease's renewal, a poll interval), not a whole interval late. Not shorter: each
    /// re-arm wakes two of Dispatch's threads, and at 10 s the many-sources benchmark (polls every
    /// 30 s) spent about a tenth more CPU per poll.
    static let longestTimer: Duration = .seconds(60)

    /// Waits until `elapsed()` reaches `deadline`.
    static func sleep(
        until deadline: Duration, elapsed: @escaping @Sendable () -> Duration, tolerance: Duration?,
        longestTimer: Duration = Self.longestTimer
    ) async throws {
        let race = Race()
        let leeway = (tolerance ?? .milliseconds(1)).dispatchInterval
        let timer = DispatchSource.makeTimerSource(queue: .global())
        /// Arms the timer for what is left (at most `longestTimer`); false once the deadline passed.
        func arm() -> Bool {
            let remaining = deadline - elapsed()
            guard remaining > .zero else { return false }
            timer.schedule(deadline: .now() + min(remaining, longestTimer).dispatchInterval, leeway: leeway)
            return true
        }
        timer.setEventHandler {
            if !arm() { race.finish(.success(())) }
        }
        if !arm() { timer.schedule(deadline: .now()) }
        timer.resume()
        defer {
            // The handler holds the timer: cleared, neither outlives the wait.
            timer.setEventHandler(handler: nil)
            timer.cancel()
        }
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await race.wait()
        } onCancelOrGracefulShutdown: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// One continuation, resumed once by whichever ending comes first; an ending that comes before
    /// the wait starts (a shutdown already under way) is kept for it.
    private final class Race: Sendable {
        private struct State {
            var waiting: CheckedContinuation<Void, any Error>?
            var outcome: Result<Void, any Error>?
        }

        private let state = Mutex(State())

        func finish(_ outcome: Result<Void, any Error>) {
            let waiting = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard state.outcome == nil else { return nil }
                state.outcome = outcome
                defer { state.waiting = nil }
                return state.waiting
            }
            waiting?.resume(with: outcome)
        }

        func wait() async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ended = state.withLock { state -> Result<Void, any Error>? in
                    if let outcome = state.outcome { return outcome }
                    state.waiting = continuation
                    return nil
                }
                if let ended { continuation.resume(with: ended) }
            }
        }
    }
}

extension Duration {
    /// At least zero, in nanoseconds, as Dispatch takes it.
    fileprivate var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = max(self, .zero).components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow, nanoseconds.partialValue < Int64(Int.max) - 1_000_000_000 else { return .never }
        return .nanoseconds(Int(nanoseconds.partialValue + attoseconds / 1_000_000_000))
    }
}
