import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// A long newest-first window read in slices, two requests in flight, stored as one walk.
@Suite(.awaitedTeardown) struct SlicePlannerTests {
    let start = Date(timeIntervalSince1970: 1_780_000_000)

    func slices(of planner: inout SlicePlanner, reading events: (PollWindow) -> Int = { _ in 0 }) -> [SlicePlanner.Slice] {
        var all: [SlicePlanner.Slice] = []
        while let slice = planner.next() {
            all.append(slice)
            planner.read(slice.window, events: events(slice.window))
        }
        return all
    }

    @Test func aWindowNoLongerThanTheFirstSliceIsOneSlice() {
        var planner = SlicePlanner(window: PollWindow(start: start, end: start.addingTimeInterval(17 * 60)), targetEvents: 1600)
        #expect(slices(of: &planner) == [.init(window: planner.window, isLast: true)])
    }

    @Test func slicesCoverTheWindowNewestFirstMeetingAtWholeSeconds() {
        let window = PollWindow(start: start.addingTimeInterval(0.25), end: start.addingTimeInterval(30 * 86400 + 0.5))
        var planner = SlicePlanner(window: window, targetEvents: 1600)
        // Ten events a minute throughout.
        let all = slices(of: &planner) { Int($0.end.timeIntervalSince($0.start) / 6) }
        #expect(all.count > 3)
        #expect(all.first?.window.end == window.end)
        #expect(all.last?.window.start == window.start)
        #expect(all.last?.isLast == true && all.dropLast().allSatisfy { !$0.isLast })
        for (newer, older) in zip(all, all.dropFirst()) {
            #expect(older.window.end == newer.window.start, "no gap, no overlap")
            #expect(newer.window.start.timeIntervalSince1970.rounded(.down) == newer.window.start.timeIntervalSince1970)
            #expect(newer.window.end.timeIntervalSince(newer.window.start) >= planner.minimumLength)
        }
        // After the first two (an hour each, 600 events), slices hold about the target: 1600 events, 160 minutes.
        #expect(all[0].window.end.timeIntervalSince(all[0].window.start) == 3600 + 0.5)
        #expect(abs(all[3].window.end.timeIntervalSince(all[3].window.start) - 9600) <= 60)
    }

    @Test func anEmptyStretchIsCrossedInGrowingStepsAndADenseOneInShortOnes() {
        let window = PollWindow(start: start, end: start.addingTimeInterval(365 * 86400))
        var planner = SlicePlanner(window: window, targetEvents: 1600)
        let quiet = slices(of: &planner)
        #expect(quiet.count <= 6, "1h, 1h, 8h, 64h, 512h, the rest: \(quiet.count)")

        var busy = SlicePlanner(window: window, targetEvents: 1600)
        _ = busy.next()
        _ = busy.next()
        busy.read(PollWindow(start: start, end: start.addingTimeInterval(3600)), events: 36_000)  // ten a second
        let next = busy.next()
        #expect(next.map { $0.window.end.timeIntervalSince($0.window.start) } == busy.minimumLength, "160 s wanted; never below the minimum")
    }

    @Test func aRestShorterThanTheMinimumJoinsTheSliceBeforeIt() {
        let window = PollWindow(start: start, end: start.addingTimeInterval(3600 + 120))
        var planner = SlicePlanner(window: window, targetEvents: 1600)
        #expect(slices(of: &planner) == [.init(window: window, isLast: true)])
    }
}

@Suite(.awaitedTeardown) struct SlicedWalkTests {
    @Test func aSliceStandsInTheWholeWalk() {
        let window = PollWindow(start: Date(timeIntervalSince1970: 1000), end: Date(timeIntervalSince1970: 9000))
        let slice = PollWindow(start: Date(timeIntervalSince1970: 5000), end: window.end)
        let poll = DeploysSource(
            configuration: DeploysConfiguration(
                name: "d", baseURL: URL(string: "http://127.0.0.1:9")!, project: "p", auth: .bearer(Secret("t")))
        ).makePoll(window: slice)
        let newer = PageWalker.Piece(poll: poll, seam: .init(window: slice, walkEnd: window.end, resumeOlder: "older"))
        let oldest = PageWalker.Piece(poll: poll, seam: .init(window: window, walkEnd: window.end, resumeOlder: nil))
        let whole = PageWalker.Piece(poll: poll, seam: nil)
        let inside = PageWalker.FetchedPage(content: 0, checkpoint: nil, resumeAt: "inside")
        let ended = PageWalker.FetchedPage(content: 0, checkpoint: slice.end, resumeAt: nil)

        // A newer slice: no checkpoint until the oldest is stored; once read, the walk goes on below it.
        #expect(newer.placed(inside).resumeAt == "inside" && newer.placed(inside).checkpoint == nil)
        #expect(newer.placed(ended).resumeAt == "older" && newer.placed(ended).checkpoint == nil)
        // The oldest slice ends the walk: the window end, not its own.
        #expect(oldest.placed(ended).checkpoint == window.end && oldest.placed(ended).resumeAt == nil)
        #expect(oldest.placed(inside).resumeAt == "inside" && oldest.placed(inside).checkpoint == nil)
        #expect(whole.placed(ended).checkpoint == slice.end)
        // A page inside a slice without a position of its own never takes the seam's: that would
        // skip the rest of the slice; without one the walk starts over if cut short there.
        let unplaced = PageWalker.FetchedPage(content: 0, checkpoint: nil, resumeAt: nil)
        #expect(newer.placed(unplaced).resumeAt == nil && newer.placed(unplaced).checkpoint == nil)
    }

    @Test func aRetryAfterHoldsBackEveryRequestOfTheSource() async throws {
        let limiter = RateLimiter(limit: nil)
        let time = VirtualClock()
        let clock = time.engineClock
        try await limiter.acquire(on: clock)
        #expect(time.waits.isEmpty)
        var now = clock.wallNow
        limiter.holdOff(for: .seconds(2), now: now)
        limiter.holdOff(for: .seconds(1), now: now)  // a shorter one does not cut the longer short
        try await limiter.acquire(on: clock)
        #expect(time.waits == [.seconds(2)])
        time.advance(by: .seconds(1))
        try await limiter.acquire(on: clock)
        #expect(time.waits.count == 1, "past the hold-off, no wait")
        // The request that was told to wait ends its own hold-off once it has waited; a later,
        // longer one from another request stays.
        now = clock.wallNow
        let mine = limiter.holdOff(for: .seconds(5), now: now)
        limiter.endHoldOff(mine)
        try await limiter.acquire(on: clock)
        #expect(time.waits.count == 1)
        let first = limiter.holdOff(for: .seconds(5), now: now)
        limiter.holdOff(for: .seconds(8), now: now)
        limiter.endHoldOff(first)
        try await limiter.acquire(on: clock)
        #expect(time.waits.last == .seconds(8))
    }

    @Test func aLongWindowIsReadTwoRequestsAtATimeAndEveryEventArrivesOnce() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(3_000, span: 3 * 86400)
        await harness.deploys.faults.enqueue(.delay(.milliseconds(20)), times: 100_000)
        let engine = try harness.engine(try harness.configuration(source: "    page_size: 100", webhook: "    batch_size: 500"))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(120)) == .complete)
        await engine.shutdown()
        let ids = try harness.fileEventIDs()
        #expect(ids.count == items.count && Set(ids) == harness.expectedIDs(items), "each event once")
        #expect(await harness.deploys.peakConcurrentRequests() == 2)
        let afters = Set(
            try await harness.deploys.requests().map { try JSONSerialization.jsonObject(with: $0.body) as! [String: Any] }.compactMap {
                $0["after"] as? String
            })
        #expect(afters.count > 2, "several slices: \(afters.count)")
        #expect(try engine.store.cursor(source: "deploys") != nil)
        #expect(try engine.store.walkProgress(source: "deploys") == nil)
    }

    @Test func concurrencyOneReadsTheWindowInOnePiece() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(1_000, span: 3 * 86400)
        await harness.deploys.faults.enqueue(.delay(.milliseconds(20)), times: 100_000)
        let engine = try harness.engine(try harness.configuration(source: "    page_size: 100\n    concurrency: 1", webhook: "    batch_size: 500"))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(120)) == .complete)
        await engine.shutdown()
        #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
        #expect(await harness.deploys.peakConcurrentRequests() == 1)
        #expect(await harness.deploys.requests().count == 11, "ten full pages and the short one that ends the walk")
    }

    /// Whichever request fails, the walk stores only what one walk would have by then: everything
    /// newer than its saved position, the cursor unmoved; the next run resumes and loses nothing.
    @Test(arguments: [3, 8, 17])
    func aFailedRequestInAnySliceKeepsEverythingNewerThanTheSavedPosition(failing: Int) async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(2_500, span: 3 * 86400)
        await harness.deploys.faults.enqueue(.delay(.milliseconds(5)), times: failing - 1)
        await harness.deploys.faults.enqueue(.status(400))
        let engine = try harness.engine(try harness.configuration(source: "    page_size: 100", webhook: "    batch_size: 500"))
        let first = await OnceMode.run(engine: engine, deadline: .seconds(120))
        guard case .failed = first else { Issue.record("expected a failure, got \(first)"); return }
        #expect(try engine.store.cursor(source: "deploys") == nil)
        let progress = try #require(try engine.store.walkProgress(source: "deploys"), "a walk cut short saves where it stands")
        let position = try #require(RFC3339.parse(progress.position))
        let stored = Set(try harness.fileEventIDs())
        let newer = items.filter { $0.createdAt >= position }
        #expect(!newer.isEmpty)
        #expect(harness.expectedIDs(newer).isSubset(of: stored), "nothing newer than the saved position is missing")

        #expect(await OnceMode.run(engine: engine, deadline: .seconds(120)) == .complete)
        await engine.shutdown()
        let ids = try harness.fileEventIDs()
        #expect(ids.count == items.count && Set(ids) == harness.expectedIDs(items), "each event once after the resumed walk")
        #expect(try engine.store.walkProgress(source: "deploys") == nil)
    }
}
