import Foundation
import ServiceLifecycle

/// The engine's time, injected in one place so tests can run it on virtual time:
/// - `now` is monotonic (a step of the wall clock neither stalls nor rushes a wait, a timeout or
///   a lease), and `sleep` waits on it: retries, backoff, rate limits, poll intervals, flushes;
/// - `wallNow` is the calendar time that poll windows, cursors and timestamps are made of.
///
/// It is a `Clock`, so `sleep(for:)`, `measure` and the arithmetic of instants work as usual.
public struct EngineClock: Clock {
    /// A reading of the monotonic clock: the time since the clock was made.
    public struct Instant: InstantProtocol {
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public static func + (lhs: Instant, rhs: Duration) -> Instant { lhs.advanced(by: rhs) }
        public static func - (lhs: Instant, rhs: Duration) -> Instant { lhs.advanced(by: .zero - rhs) }
        public static func - (lhs: Instant, rhs: Instant) -> Duration { rhs.duration(to: lhs) }
    }

    private let elapsed: @Sendable () -> Duration
    private let waitUntil: @Sendable (_ deadline: Duration, _ tolerance: Duration?) async throws -> Void
    private let wall: @Sendable () -> Date
    /// `waitUntil` before `endingWaitsOnShutdown` wrapped it.
    private let waitThroughShutdown: @Sendable (_ deadline: Duration, _ tolerance: Duration?) async throws -> Void
    /// Waits are the machine's own monotonic time (`system`), not a test's virtual time.
    private let isMachineTime: Bool

    public var now: Instant { Instant(offset: elapsed()) }
    public var minimumResolution: Duration { .nanoseconds(1) }
    /// The calendar time.
    public var wallNow: Date { wall() }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await waitUntil(deadline.offset, tolerance)
    }

    /// A wait that a graceful shutdown does not end (the shutdown's own drain waits for acks).
    public func sleepThroughShutdown(for duration: Duration) async throws {
        try await waitThroughShutdown((now + duration).offset, nil)
    }

    /// Monotonic time and waits from `clock`, calendar time from `wall`.
    public init<C: Clock>(_ clock: C, wall: @escaping @Sendable () -> Date) where C.Duration == Duration {
        let origin = clock.now
        self.init(
            elapsed: { origin.duration(to: clock.now) },
            waitUntil: { deadline, tolerance in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: tolerance) },
            wall: wall)
    }

    private init(
        elapsed: @escaping @Sendable () -> Duration, waitUntil: @escaping @Sendable (Duration, Duration?) async throws -> Void,
        wall: @escaping @Sendable () -> Date, waitThroughShutdown: (@Sendable (Duration, Duration?) async throws -> Void)? = nil,
        isMachineTime: Bool = false
    ) {
        self.elapsed = elapsed
        self.waitUntil = waitUntil
        self.wall = wall
        self.waitThroughShutdown = waitThroughShutdown ?? waitUntil
        self.isMachineTime = isMachineTime
    }

    /// The machine's clocks: `ContinuousClock` and `Date()`.
    public static let system: EngineClock = {
        let clock = EngineClock(ContinuousClock(), wall: Date.init)
        return EngineClock(
            elapsed: clock.elapsed, waitUntil: clock.waitUntil, wall: clock.wall, waitThroughShutdown: nil, isMachineTime: true)
    }()

    /// The daemon's: a wait ends with `CancellationError` as soon as a graceful shutdown (SIGTERM)
    /// starts, so a retry wait or a poll interval never holds up a stop. Outside a ServiceGroup
    /// waits run in full.
    public func endingWaitsOnShutdown() -> EngineClock {
        let wait = waitUntil
        let elapsed = elapsed
        let machineTime = isMachineTime
        return EngineClock(
            elapsed: elapsed,
            waitUntil: { deadline, tolerance in
                if machineTime {
                    // No task group per wait (`ShutdownEndedWait` says why).
                    try await ShutdownEndedWait.sleep(until: deadline, elapsed: elapsed, tolerance: tolerance)
                } else {
                    try await cancelWhenGracefulShutdown { try await wait(deadline, tolerance) }
                }
                if Task.isShuttingDownGracefully { throw CancellationError() }
            }, wall: wall, waitThroughShutdown: waitThroughShutdown, isMachineTime: machineTime)
    }

    /// Every wait fails at once with `WouldWait` (a connectivity check says what it would wait
    /// for, e.g. an upstream's rate limit, instead of waiting).
    func failingWaits() -> EngineClock {
        let elapsed = elapsed
        return EngineClock(
            elapsed: elapsed,
            waitUntil: { deadline, _ in throw WouldWait(duration: max(.zero, deadline - elapsed())) },
            wall: wall, waitThroughShutdown: waitThroughShutdown)
    }

    struct WouldWait: Error, CustomStringConvertible {
        var duration: Duration
        var description: String { "the upstream asks to wait \(DurationText.format(duration)) (rate limit); try again later" }
    }
}
