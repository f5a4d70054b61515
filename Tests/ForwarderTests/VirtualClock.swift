import Foundation

@testable import Forwarder

/// Virtual time for an engine under test: a wait returns at once, moves the clock to its end and
/// is recorded, so retries, backoff, rate limits and lease trust run in full without the test
/// sleeping. Calendar time is the real time plus the time waited, so emulators that read the real
/// clock still agree with the engine.
final class VirtualClock: Clock, @unchecked Sendable {
    typealias Instant = EngineClock.Instant

    /// One wait, and how many requests the upstream had received when it began (with `requestCount`).
    struct Wait: Equatable {
        var duration: Duration
        var afterRequests: Int
    }

    private let lock = NSLock()
    private var elapsed = Duration.zero
    private var recorded: [Wait] = []
    private let requestCount: (@Sendable () async -> Int)?

    /// `requestCount`: read at each wait, so a test can say *which* request waited.
    init(requestCount: (@Sendable () async -> Int)? = nil) {
        self.requestCount = requestCount
    }

    var now: Instant { lock.withLock { Instant(offset: elapsed) } }
    var minimumResolution: Duration { .nanoseconds(1) }
    var wallNow: Date { Date().addingTimeInterval(lock.withLock { elapsed.seconds }) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let seen = await requestCount?() ?? 0
        lock.withLock {
            recorded.append(Wait(duration: max(.zero, deadline.offset - elapsed), afterRequests: seen))
            elapsed = max(elapsed, deadline.offset)
        }
        try Task.checkCancellation()
        await Task.yield()
    }

    /// Moves time on without a wait (a test's "later").
    func advance(by duration: Duration) {
        lock.withLock { elapsed += duration }
    }

    var waits: [Duration] { lock.withLock { recorded.map(\.duration) } }
    var countedWaits: [Wait] { lock.withLock { recorded } }

    /// The engine's clock, running on this one.
    var engineClock: EngineClock { EngineClock(self, wall: { [self] in wallNow }) }
}
