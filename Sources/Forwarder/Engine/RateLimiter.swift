import Connectors
import Foundation
import Logging

/// A source's request budget, in one place for every connector:
/// - the optional client-side `rate_limit` (N requests per interval), as a sliding window;
/// - `X-RateLimit-Remaining` / `X-RateLimit-Reset` (and Okta's `X-Rate-Limit-*`, `RateLimit-*`): when the upstream says the
///   budget is spent, wait for its reset before asking again, instead of running into 429s.
final class RateLimiter: Sendable {
    struct Limit: Sendable, Equatable {
        var requests: Int
        var per: Duration
    }

    private let limit: Limit?
    private let state = LockedState()

    private final class LockedState: @unchecked Sendable {
        let lock = NSLock()
        var sent: [EngineClock.Instant] = []
        var blockedUntil: Date?
    }

    init(limit: Limit?) {
        self.limit = limit
    }

    /// Waits until one more request fits both budgets.
    func acquire(on clock: EngineClock) async throws {
        if let until = state.lock.withLock({ state.blockedUntil }), until > clock.wallNow {
            try await clock.sleep(for: .milliseconds(Int64((until.timeIntervalSince(clock.wallNow) * 1000).rounded(.up))))
            // Waited out: this reset is behind us (unless a later one replaced it).
            state.lock.withLock { if state.blockedUntil == until { state.blockedUntil = nil } }
        }
        guard let limit else { return }
        // Take a slot now, or reserve the one that frees first and wait for it: no re-check against
        // the clock after the wait, so a wait is exactly as long as the window requires.
        let wait: Duration? = state.lock.withLock {
            let now = clock.now
            state.sent.removeAll { now - $0 >= limit.per }
            if state.sent.count < limit.requests {
                state.sent.append(now)
                return nil
            }
            let freesAt = state.sent.removeFirst().advanced(by: limit.per)
            state.sent.append(freesAt)
            return freesAt - now
        }
        if let wait { try await clock.sleep(for: wait) }
    }

    /// A `Retry-After` one request was given holds the others back too (a window read in slices
    /// has more than one request in flight): none is sent before `delay` has passed.
    /// Returns the time it holds back to, for `endHoldOff`.
    @discardableResult
    func holdOff(for delay: Duration, now: Date) -> Date {
        let until = now.addingTimeInterval(min(delay, .seconds(3600)).seconds)
        state.lock.withLock { state.blockedUntil = max(state.blockedUntil ?? until, until) }
        return until
    }

    /// The request that was told to wait has waited (its own retry delay covers the hold-off), so
    /// the hold-off it set is over, unless a later one replaced it.
    func endHoldOff(_ until: Date) {
        state.lock.withLock { if state.blockedUntil == until { state.blockedUntil = nil } }
    }

    /// Reads the upstream's rate-limit headers; an exhausted budget blocks until its reset.
    func observe(_ response: WireResponse, on clock: EngineClock, logger: Logger) async throws {
        let now = clock.wallNow
        guard
            let remainingText = response.header("X-RateLimit-Remaining") ?? response.header("X-Rate-Limit-Remaining")
                ?? response.header("RateLimit-Remaining"),
            let remaining = Int(remainingText.trimmingCharacters(in: .whitespaces)), remaining <= 0,
            let resetText = response.header("X-RateLimit-Reset") ?? response.header("X-Rate-Limit-Reset") ?? response.header("RateLimit-Reset"),
            let reset = Double(resetText.trimmingCharacters(in: .whitespaces))
        else { return }
        // Epoch seconds (GitHub style) or seconds from now (IETF draft style).
        let until = reset > 1_000_000_000 ? Date(timeIntervalSince1970: reset) : now.addingTimeInterval(reset)
        guard until > now else { return }
        let capped = min(until, now.addingTimeInterval(3600))
        state.lock.withLock { state.blockedUntil = capped }
        logger.info("upstream rate limit reached, waiting for its reset", metadata: ["reset": "\(RFC3339.format(capped))"])
    }
}
