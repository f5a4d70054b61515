import Foundation
import Testing

@testable import Checkpoint

/// A backfill's position with windows finishing out of order: it must only ever cover a
/// contiguous prefix, so a killed job never skips a window that was still being fetched.
@Suite struct BackfillWindowTests {
    let start = Date(timeIntervalSince1970: 1_700_000_000)
    func day(_ n: Double) -> Date { start.addingTimeInterval(n * 86400) }

    @Test(arguments: BackendUnderTest.allCases)
    func windowsFinishedAheadDoNotMoveThePositionUntilThePrefixJoinsThem(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        let job = try store.createBackfillJob(source: "s", from: day(0), to: day(10), onlySinks: ["a"])

        // Window 2 finishes first, its pages carrying their own checkpoints: the position stays.
        try store.appendBackfillPage(job: job, window: day(2)..<day(3), entries: [entry(1)], checkpoint: day(3))
        try store.finishBackfillWindow(job: job, window: day(2)..<day(3))
        var current = try #require(try store.backfillJob(id: job.id))
        #expect(current.position == day(0))
        #expect(current.finishedAhead == [day(2)..<day(3)])
        #expect(abs(current.progress - 0.1) < 1e-9)
        #expect(current.events == 1)

        // A page of the first window moves the position within that window.
        try store.appendBackfillPage(job: job, window: day(0)..<day(1), entries: [entry(2)], checkpoint: day(0.5))
        #expect(try store.backfillJob(id: job.id)?.position == day(0.5))
        try store.finishBackfillWindow(job: job, window: day(0)..<day(1))
        current = try #require(try store.backfillJob(id: job.id))
        #expect(current.position == day(1))
        #expect(current.finishedAhead == [day(2)..<day(3)])

        // Window 1 closes the gap: the position runs over window 2 as well, whose record goes.
        try store.finishBackfillWindow(job: job, window: day(1)..<day(2))
        current = try #require(try store.backfillJob(id: job.id))
        #expect(current.position == day(3))
        #expect(current.finishedAhead.isEmpty)
        #expect(abs(current.progress - 0.3) < 1e-9)

        // Finishing the job clears whatever was recorded ahead.
        try store.finishBackfillWindow(job: job, window: day(5)..<day(6))
        try store.finishBackfillJob(id: job.id)
        current = try #require(try store.backfillJob(id: job.id))
        #expect(current.position == day(10) && current.finishedAhead.isEmpty && current.progress == 1)
    }

    @Test(arguments: BackendUnderTest.allCases)
    func aCheckpointNeverMovesThePositionPastItsWindow(_ backend: BackendUnderTest) throws {
        let store = try backend.make()
        let job = try store.createBackfillJob(source: "s", from: day(0), to: day(10), onlySinks: nil)
        try store.appendBackfillPage(job: job, window: day(0)..<day(1), entries: [], checkpoint: day(4))
        #expect(try store.backfillJob(id: job.id)?.position == day(1))
    }
}
