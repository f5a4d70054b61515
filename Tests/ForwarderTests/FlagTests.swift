import Foundation
import Testing

@testable import Forwarder

/// The switch `once` raises when its sources are done: idle sinks wait on it, not on a timer.
@Suite struct FlagTests {
    @Test func aWaitEndsWhenTheFlagIsSetNotAtItsLimit() async {
        let flag = Flag()
        let clock = ContinuousClock()
        let started = clock.now
        // Limits far apart: on 2 cores, the first test to need the PostgreSQL server blocks the
        // cooperative threads while it starts (once stalled this test by 11 s).
        async let waited: Void = flag.wait(atMost: .seconds(120))
        try? await Task.sleep(for: .milliseconds(50))
        flag.set()
        await waited
        #expect(clock.now - started < .seconds(60), "woken by set(), long before the 120 s limit")
        #expect(flag.value)
    }

    @Test func aWaitOnASetFlagReturnsAtOnceAndAnUnsetOneAtItsLimit() async {
        let flag = Flag()
        let clock = ContinuousClock()
        var started = clock.now
        await flag.wait(atMost: .milliseconds(30))
        #expect(clock.now - started >= .milliseconds(30))
        flag.set()
        started = clock.now
        await flag.wait(atMost: .seconds(120))
        #expect(clock.now - started < .seconds(60))
    }

    @Test func manyWaitersAreAllWoken() async {
        let flag = Flag()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { await flag.wait(atMost: .seconds(120)) } }
            try? await Task.sleep(for: .milliseconds(50))
            let clock = ContinuousClock()
            let started = clock.now
            flag.set()
            await group.waitForAll()
            #expect(clock.now - started < .seconds(60))
        }
    }
}
