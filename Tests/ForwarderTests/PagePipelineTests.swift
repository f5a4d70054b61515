import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// The walk's pipeline: pages fetched ahead while earlier ones are stored, handed on in groups.
@Suite(.awaitedTeardown) struct PagePipelineTests {
    @Test func pagesFetchedWhileStoringIsSlowAreHandedOnTogetherInOrder() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(2_000)
        let engine = try harness.engine(try harness.configuration(source: "    page_size: 100"))
        let walker = engine.pollers[0].walker
        let window = walker.window(cursor: nil, now: Date())
        var groups: [Int] = []
        var ids: [String] = []
        try await walker.walk(walker.configuration.connector.makePoll(window: window), prepare: { try $0.make() }) { pages in
            // A slow store: the fetching side runs ahead meanwhile, until the queue is full and
            // one more page waits to go in (the first page, four queued, one held).
            if groups.isEmpty {
                let clock = ContinuousClock()
                let giveUp = clock.now + .seconds(20)
                while await harness.deploys.requests().count < 2 + PageWalker.pagesAhead, clock.now < giveUp {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            groups.append(pages.count)
            ids += pages.flatMap { $0.content.map(\.upstreamID) }
            return true
        }
        await engine.shutdown()
        #expect(groups.first == 1)
        #expect(
            groups.dropFirst().first == PageWalker.pagesAhead, "the pages fetched during the slow store come together, no more than the queue holds")
        #expect(groups.allSatisfy { $0 <= PageWalker.pagesAhead })
        #expect(ids.count == 2_000)
        #expect(ids == items.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map { String($0.id) }, "newest first, page order kept")
        #expect(await harness.deploys.requests().count == groups.reduce(0, +), "one request per page handed on (the last, empty, ends the walk)")
    }

    @Test func aWalkStoppedEarlyFetchesNoFurther() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(2_000)
        let engine = try harness.engine(try harness.configuration(source: "    page_size: 50"))
        let walker = engine.pollers[0].walker
        let window = walker.window(cursor: nil, now: Date())
        var calls = 0
        try await walker.walk(walker.configuration.connector.makePoll(window: window), prepare: { try $0.make() }) { _ in
            calls += 1
            try await Task.sleep(for: .milliseconds(200))
            return false
        }
        await engine.shutdown()
        let afterReturn = await harness.deploys.requests().count
        try await Task.sleep(for: .milliseconds(300))
        #expect(calls == 1)
        #expect(afterReturn <= 1 + PageWalker.pagesAhead + 1, "fetching ahead is bounded by the queue")
        #expect(await harness.deploys.requests().count == afterReturn, "nothing is fetched once the walk has returned")
    }

    @Test func aWalkPageByPageFetchesOnlyOnePageAhead() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(2_000)
        let engine = try harness.engine(try harness.configuration(source: "    page_size: 50"))
        let walker = engine.pollers[0].walker
        // As `dry-run` and `check --connect` walk: one page, then stop.
        try await walker.walk(walker.window(cursor: nil, now: Date())) { _, _ in
            try await Task.sleep(for: .milliseconds(300))
            return false
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(await harness.deploys.requests().count <= 3, "the page handed on, one queued, one waiting to go in")
        await engine.shutdown()
    }

    @Test func aFailedPageSurfacesAfterThePagesBeforeItAreHandedOn() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(500)
        let engine = try harness.engine(try harness.configuration(source: "    page_size: 100"))
        var walker = engine.pollers[0].walker
        walker.pageRetry = RetryPolicy(maxAttempts: 1, initialBackoff: .milliseconds(1), maxBackoff: .milliseconds(1))
        let window = walker.window(cursor: nil, now: Date())
        var handed = 0
        await harness.deploys.faults.enqueue(.delay(.zero), times: 3)
        await harness.deploys.faults.enqueue(.status(500))
        await #expect(throws: SourceError.self) {
            try await walker.walk(walker.configuration.connector.makePoll(window: window), prepare: { try $0.make() }) { pages in
                handed += pages.count
                return true
            }
        }
        await engine.shutdown()
        #expect(handed == 3, "the three good pages are stored before the fourth's failure ends the walk")
    }
}

@Suite(.awaitedTeardown) struct PageQueueTests {
    @Test func aTakerGetsEverythingWaitingThenTheEnd() async throws {
        let queue = PageQueue<Int>(capacity: 3)
        #expect(await queue.put(1))
        #expect(await queue.put(2))
        #expect(try await queue.takeAll() == [1, 2])
        #expect(await queue.put(3))
        await queue.finish()
        #expect(try await queue.takeAll() == [3])
        #expect(try await queue.takeAll() == nil)
    }

    @Test func aFullQueueHoldsThePutterUntilTaken() async throws {
        let queue = PageQueue<Int>(capacity: 2)
        let putter = Task {
            for page in 1...5 { _ = await queue.put(page) }
            await queue.finish()
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await queue.takeAll() == [1, 2], "the third put waits for room")
        var rest: [Int] = []
        while let pages = try await queue.takeAll() { rest += pages }
        #expect(rest == [3, 4, 5])
        await putter.value
    }

    /// Large pages (Okta's 1,000 events are about 2 MB) wait on bytes, not on their count; an
    /// empty queue still takes a page larger than the bound, or fetching would stall.
    @Test func pagesPastTheByteBoundWaitButAnEmptyQueueTakesAnyPage() async throws {
        let queue = PageQueue<Int>(capacity: 8, maxBytes: 100)
        let sizes = [1: 500, 2: 10, 3: 60, 4: 50]
        let putter = Task {
            for page in 1...4 { _ = await queue.put(page, bytes: sizes[page]!) }
            await queue.finish()
        }
        // Time for the putter to run ahead: the checks hold however far it got, but without the
        // bound it would have put every page by now.
        try await Task.sleep(for: .milliseconds(50))
        #expect(try await queue.takeAll() == [1], "the second page waits while the first is over the bound")
        var groups: [[Int]] = []
        while let pages = try await queue.takeAll() { groups.append(pages) }
        #expect(groups.flatMap { $0 } == [2, 3, 4])
        for group in groups where group.count > 1 {
            #expect(group.reduce(0) { $0 + sizes[$1]! } <= 100, "taken together: \(group)")
        }
        await putter.value
    }

    @Test func anErrorComesAfterThePagesPutBeforeIt() async throws {
        struct Broken: Error {}
        let queue = PageQueue<Int>(capacity: 4)
        _ = await queue.put(1)
        await queue.finish(throwing: Broken())
        #expect(try await queue.takeAll() == [1])
        await #expect(throws: Broken.self) { try await queue.takeAll() }
    }

    @Test func aClosedQueueTurnsAWaitingPutterAway() async throws {
        let queue = PageQueue<Int>(capacity: 1)
        _ = await queue.put(1)
        let waiting = Task { await queue.put(2) }
        try await Task.sleep(for: .milliseconds(50))
        await queue.close()
        #expect(await waiting.value == false)
        #expect(await queue.put(3) == false)
    }
}

@Suite(.awaitedTeardown) struct WalkLedgerTests {
    typealias Page = PageWalker.FetchedPage<Int>
    let window = PollWindow(start: Date(timeIntervalSince1970: 1_000), end: Date(timeIntervalSince1970: 2_000))

    @Test func aGroupMovesTheCursorToItsLastCheckpoint() {
        var ledger = WalkLedger(window: window, cursor: nil, resumed: false)
        let entry = ledger.record([
            Page(content: 1, checkpoint: Date(timeIntervalSince1970: 1_200)),
            Page(content: 2, checkpoint: nil),
            Page(content: 3, checkpoint: Date(timeIntervalSince1970: 1_500)),
            Page(content: 4, checkpoint: nil),
        ])
        #expect(entry.cursor == Date(timeIntervalSince1970: 1_500))
        #expect(entry.walk == .unchanged)
    }

    @Test func theCursorStopsAtTheWindowEndAndNeverMovesBack() {
        var ledger = WalkLedger(window: window, cursor: Date(timeIntervalSince1970: 1_800), resumed: false)
        let back = ledger.record([Page(content: 1, checkpoint: Date(timeIntervalSince1970: 1_100))])
        #expect(back.cursor == Date(timeIntervalSince1970: 1_800))
        let ahead = ledger.record([Page(content: 1, checkpoint: Date(timeIntervalSince1970: 9_000))])
        #expect(ahead.cursor == window.end)
        #expect(ahead.aheadOfWindow == Date(timeIntervalSince1970: 9_000))
    }

    @Test func aNewestFirstWalkSavesItsLastPositionAndClearsItWhenAGroupEndsIt() {
        var ledger = WalkLedger(window: window, cursor: nil, resumed: false)
        let middle = ledger.record([Page(content: 1, resumeAt: "a"), Page(content: 2, resumeAt: "b")])
        #expect(middle.walk == .save(WalkProgress(windowStart: window.start, windowEnd: window.end, position: "b")))
        let last = ledger.record([Page(content: 3, resumeAt: "c"), Page(content: 4, checkpoint: window.end)])
        #expect(last.walk == .clear, "the walk ended inside the group: nothing is left to resume")
        #expect(last.cursor == window.end)
        let after = ledger.record([Page(content: 5)])
        #expect(after.walk == .unchanged)
    }

    @Test func aResumedWalkThatEndsAtOnceClearsItsSavedPosition() {
        var ledger = WalkLedger(window: window, cursor: nil, resumed: true)
        #expect(ledger.record([Page(content: 1, checkpoint: window.end)]).walk == .clear)
    }
}
