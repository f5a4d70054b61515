import Foundation
import Testing

@testable import Checkpoint

/// A poll's start position comes from memory once read (`PollPositionCache`): it must always be
/// what the database holds, whatever wrote it through the store.
@Suite struct PollPositionCacheTests {
    struct Refused: Error {}

    let progress = WalkProgress(windowStart: Date(timeIntervalSince1970: 1000), windowEnd: Date(timeIntervalSince1970: 2000), position: "p1")

    /// After every kind of write, the store's answer equals a fresh store's, which reads the file.
    @Test func everyWriteKeepsThePositionTheDatabaseHolds() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        func check(_ expected: PollPosition, _ comment: Comment) throws {
            #expect(try store.pollPosition(source: "s") == expected, comment)
            #expect(try StateStore(path: path).pollPosition(source: "s") == expected, comment)
        }
        try check(PollPosition(cursor: nil, walk: nil), "before any write")
        try store.appendPage(source: "s", entries: [entry(1)], cursor: "c1")
        try check(PollPosition(cursor: "c1", walk: nil), "a page moved the cursor")
        try store.appendPage(source: "s", entries: [entry(2)], cursor: nil, walk: .save(progress))
        try check(PollPosition(cursor: "c1", walk: progress), "a page saved a walk, cursor unchanged")
        try store.appendPage(source: "s", entries: [], cursor: nil)
        try check(PollPosition(cursor: "c1", walk: progress), "an empty page changed nothing")
        try store.clearWalkProgress(source: "s")
        try check(PollPosition(cursor: "c1", walk: nil), "the walk was forgotten")
        try store.appendPage(source: "s", entries: [], cursor: "c2", walk: .save(progress))
        try store.setCursor(source: "s", position: "by hand")
        try check(PollPosition(cursor: "by hand", walk: nil), "set by hand: the walk goes too")
        try store.resetCursor(source: "s")
        try check(PollPosition(cursor: nil, walk: nil), "reset")
        try store.appendPage(source: "s", entries: [entry(3)], cursor: "c3", walk: .clear)
        try check(PollPosition(cursor: "c3", walk: nil), "a page after the reset")
        #expect(try store.pollPosition(source: "other") == PollPosition(cursor: nil, walk: nil))
        // A store that has not read a position yet cannot know it after a page that leaves part
        // of it unchanged: it reads the database.
        let fresh = try StateStore(path: path)
        try fresh.appendPage(source: "s", entries: [], cursor: nil, walk: .save(progress))
        #expect(try fresh.pollPosition(source: "s") == PollPosition(cursor: "c3", walk: progress))
    }

    /// A page that fails (here: the disk is full) leaves the cursor where the database has it.
    @Test func aFailedAppendLeavesThePositionTheDatabaseHolds() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        try store.appendPage(source: "s", entries: [entry(1)], cursor: "c1")
        #expect(try store.pollPosition(source: "s").cursor == "c1")
        try store.simulateFullDisk(true)
        #expect(throws: (any Error).self) {
            try store.appendPage(source: "s", entries: (2..<200).map { entry($0, bytes: 4000) }, cursor: "c2")
        }
        try store.simulateFullDisk(false)
        #expect(try store.pollPosition(source: "s").cursor == "c1")
        #expect(try StateStore(path: path).pollPosition(source: "s").cursor == "c1")
    }

    /// Once read, a position is not read again: a change made behind the store's back (which the
    /// run lock rules out while a forwarder runs) is not seen until the store writes it itself.
    @Test func aReadPositionIsServedFromMemory() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        try store.appendPage(source: "s", entries: [], cursor: "mine")
        #expect(try store.pollPosition(source: "s").cursor == "mine")
        try StateStore(path: path).setCursor(source: "s", position: "elsewhere")
        #expect(try store.pollPosition(source: "s").cursor == "mine")
        try store.appendPage(source: "s", entries: [], cursor: nil, walk: .save(progress))
        #expect(try store.pollPosition(source: "s") == PollPosition(cursor: "mine", walk: progress))
        try store.appendPage(source: "s", entries: [], cursor: "next")
        #expect(try store.pollPosition(source: "s").cursor == "next")
    }

    /// A write that fails leaves nothing cached, and a read that overlapped it is not kept (the
    /// write may have committed before it threw): the next read goes to the database.
    @Test func aFailedWriteForgetsThePosition() throws {
        let cache = PollPositionCache()
        cache.remember(PollPosition(cursor: "c1", walk: nil), of: "s", readAt: 0)
        #expect(cache.position(of: "s").known?.cursor == "c1")
        var readInside: UInt64 = 0
        #expect(throws: Refused.self) {
            try cache.writing("s", change: { _ in PollPosition(cursor: "c2", walk: nil) }) {
                readInside = cache.position(of: "s").generation
                throw Refused()
            }
        }
        #expect(cache.position(of: "s").known == nil)
        cache.remember(PollPosition(cursor: "c1", walk: nil), of: "s", readAt: readInside)
        #expect(cache.position(of: "s").known == nil)
    }

    /// A read that began before a write, or while one was under way, may have seen the old
    /// position: it is not kept. One begun after the write ended is.
    @Test func aReadOverlappingAWriteIsNotKept() {
        let cache = PollPositionCache()
        let before = cache.position(of: "s").generation
        var inside: UInt64 = 0
        cache.writing("s", change: { _ in PollPosition(cursor: "new", walk: nil) }) {
            inside = cache.position(of: "s").generation
            cache.remember(PollPosition(cursor: "old", walk: nil), of: "s", readAt: inside)
            #expect(cache.position(of: "s").known == nil)
        }
        #expect(cache.position(of: "s").known?.cursor == "new")
        for stale in [before, inside] {
            cache.remember(PollPosition(cursor: "old", walk: nil), of: "s", readAt: stale)
            #expect(cache.position(of: "s").known?.cursor == "new")
        }
        let after = cache.position(of: "s").generation
        cache.remember(PollPosition(cursor: "read", walk: nil), of: "s", readAt: after)
        #expect(cache.position(of: "s").known?.cursor == "read")
    }

    /// Two writes of one source at once: either may have committed last, so neither is kept, not
    /// even for a moment between their ends.
    @Test func overlappingWritesLeaveNothingCached() {
        let cache = PollPositionCache()
        cache.remember(PollPosition(cursor: "c0", walk: nil), of: "s", readAt: 0)
        cache.writing("s", change: { _ in PollPosition(cursor: "first", walk: nil) }) {
            cache.writing("s", change: { _ in PollPosition(cursor: "second", walk: nil) }) {}
            // The first is still under way: the second's position may be older than the database's soon.
            #expect(cache.position(of: "s").known == nil)
        }
        #expect(cache.position(of: "s").known == nil)
        // With both ended, a write alone is kept again.
        cache.writing("s", change: { _ in PollPosition(cursor: "third", walk: nil) }) {}
        #expect(cache.position(of: "s").known?.cursor == "third")
        // Other sources are untouched.
        cache.remember(PollPosition(cursor: "t1", walk: nil), of: "t", readAt: cache.position(of: "t").generation)
        #expect(cache.position(of: "t").known?.cursor == "t1")
    }
}
