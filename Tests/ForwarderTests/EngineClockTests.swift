import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Forwarder

/// The engine's one clock: its instants, its calendar time, and the two ways the modes wrap its waits.
@Suite struct EngineClockTests {
    @Test func waitsMoveAVirtualClockAndItsCalendarTimeTogether() async throws {
        let time = VirtualClock()
        let clock = time.engineClock
        let start = clock.now
        let calendar = clock.wallNow
        try await clock.sleep(for: .seconds(90))
        #expect(clock.now - start == .seconds(90))
        #expect(start + .seconds(90) == clock.now)
        #expect(clock.now - .seconds(90) == start)
        #expect(clock.wallNow.timeIntervalSince(calendar) >= 90)
        #expect(time.waits == [.seconds(90)])
        // A deadline already passed is no wait.
        try await clock.sleep(until: start, tolerance: nil)
        #expect(time.waits.last == .zero)
    }

    @Test func aConnectivityCheckSaysWhatItWouldWaitInsteadOfWaiting() async {
        let clock = VirtualClock().engineClock.failingWaits()
        do {
            try await clock.sleep(for: .seconds(42))
            Issue.record("a failing wait returned")
        } catch let error as EngineClock.WouldWait {
            #expect(error.duration == .seconds(42))
            #expect(error.description.contains("42"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func theDaemonsWaitsEndWhenAGracefulShutdownStarts() async throws {
        let clock = EngineClock.system.endingWaitsOnShutdown()
        let ended = WaitEnding()
        var configuration = ServiceGroupConfiguration(
            services: [WaitingService(clock: clock, ended: ended)], gracefulShutdownSignals: [],
            logger: .init(label: "test") { _ in SwiftLogNoOpLogHandler() })
        // Were the wait not ended by the shutdown, the group would cancel it only after this.
        // Far from the bound below: on 2 cores, tests that block the cooperative threads (the
        // PostgreSQL test server starting, synchronous store tests) have stalled it by 10 s.
        configuration.maximumGracefulShutdownDuration = .seconds(120)
        let group = ServiceGroup(configuration: configuration)
        let running = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(100))
        let asked = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await running.value
        // An hour's wait, ended by the shutdown with a CancellationError, well before its end.
        #expect(ended.error is CancellationError)
        #expect(ContinuousClock.now - asked < .seconds(60))
        // A wait that starts once the shutdown is under way ends at once too.
        #expect(ended.laterError is CancellationError)
        // Outside a group the same clock waits in full.
        let started = ContinuousClock.now
        try await clock.sleep(for: .milliseconds(50))
        #expect(ContinuousClock.now - started >= .milliseconds(50))
    }

    /// The daemon's waits on the machine's time make no task of their own (`ShutdownEndedWait`),
    /// so a cancellation must reach them through a handler: it ends an hour's wait at once.
    @Test(.timeLimit(.minutes(1))) func theDaemonsWaitsEndWhenTheirTaskIsCancelled() async throws {
        let clock = EngineClock.system.endingWaitsOnShutdown()
        let waiting = Task { try await clock.sleep(for: .seconds(3600)) }
        try await Task.sleep(for: .milliseconds(50))
        let asked = ContinuousClock.now
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(ContinuousClock.now - asked < .seconds(60))
        // A task cancelled before it waits does not wait at all.
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(for: .seconds(3600))
        }
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        // Waits that end on time: several at once, each after its own duration.
        let started = ContinuousClock.now
        async let short: Void = clock.sleep(for: .milliseconds(20))
        async let long: Void = clock.sleep(for: .milliseconds(120))
        try await short
        let shortEnded = ContinuousClock.now - started
        try await long
        #expect(shortEnded >= .milliseconds(20))
        #expect(ContinuousClock.now - started >= .milliseconds(120))
        // Generous for a loaded machine; a timer that never fired would not get here at all.
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    /// Dispatch's timers stand still while the machine is suspended; the deadline's clock does
    /// not. A wait whose deadline passed during a suspend ends within `longestTimer` of the
    /// resume, not after the rest of its interval.
    @Test(.timeLimit(.minutes(1))) func aWaitEndsSoonAfterASuspendThatOutlastedIt() async throws {
        let origin = ContinuousClock.now
        let suspend = SuspendedTime()
        let elapsed: @Sendable () -> Duration = { (ContinuousClock.now - origin) + suspend.added }
        let started = ContinuousClock.now
        async let waited: Void = ShutdownEndedWait.sleep(
            until: .seconds(1800), elapsed: elapsed, tolerance: nil, longestTimer: .milliseconds(50))
        try await Task.sleep(for: .milliseconds(120))
        suspend.add(.seconds(3600))
        try await waited
        #expect(ContinuousClock.now - started < .seconds(30))
        // A deadline already passed is no wait.
        try await ShutdownEndedWait.sleep(until: .zero, elapsed: elapsed, tolerance: nil)
    }
}

/// Time the test pretends the machine spent suspended.
private final class SuspendedTime: Sendable {
    private let time = Mutex(Duration.zero)
    var added: Duration { time.withLock { $0 } }
    func add(_ duration: Duration) { time.withLock { $0 += duration } }
}

private final class WaitEnding: @unchecked Sendable {
    private let lock = NSLock()
    private var ending: (any Error)?
    private var laterEnding: (any Error)?
    var error: (any Error)? { lock.withLock { ending } }
    var laterError: (any Error)? { lock.withLock { laterEnding } }
    func set(_ error: any Error) { lock.withLock { ending = error } }
    func setLater(_ error: any Error) { lock.withLock { laterEnding = error } }
}

private struct WaitingService: Service {
    let clock: EngineClock
    let ended: WaitEnding

    func run() async throws {
        do {
            try await clock.sleep(for: .seconds(3600))
        } catch {
            ended.set(error)
        }
        do {
            try await clock.sleep(for: .seconds(3600))
        } catch {
            ended.setLater(error)
        }
    }
}
