import Foundation
import Testing

@testable import Checkpoint

/// Back-pressure reads the spool's depth only when what was added since the last read could have
/// filled it (`SpoolDepthBound`); it must never answer "not full" for a spool that is.
@Suite struct SpoolDepthBoundTests {
    /// Counts the reads it answers, with a depth the test sets.
    final class Depth: @unchecked Sendable {
        var value: Int64 = 0
        var reads = 0
        func read() -> Int64 {
            reads += 1
            return value
        }
    }

    @Test func readsOnlyWhenWhatWasAddedCouldHaveFilledIt() {
        let bound = SpoolDepthBound()
        let depth = Depth()
        let start = ContinuousClock.now
        depth.value = 3
        #expect(!bound.isFull(limit: 10, now: start, readDepth: depth.read))
        #expect(depth.reads == 1, "the first ask reads")
        bound.add(6)
        depth.value = 9
        #expect(!bound.isFull(limit: 10, now: start, readDepth: depth.read))
        #expect(depth.reads == 1, "3 read and 6 added: under 10 without a read")
        bound.add(1)
        depth.value = 10
        #expect(bound.isFull(limit: 10, now: start, readDepth: depth.read))
        #expect(depth.reads == 2, "3 + 7 may be 10: read")
        // A prune lowers the depth behind the bound's back: the next ask reads again, since the
        // last reading was at the limit.
        depth.value = 2
        #expect(!bound.isFull(limit: 10, now: start, readDepth: depth.read))
        #expect(depth.reads == 3)
        #expect(!bound.isFull(limit: 10, now: start, readDepth: depth.read))
        #expect(depth.reads == 3, "2 read, nothing added")
    }

    /// What another process adds is not counted: a reading older than `recheck` is not trusted.
    @Test func readsAgainAfterTheRecheck() {
        let bound = SpoolDepthBound()
        let depth = Depth()
        let start = ContinuousClock.now
        #expect(!bound.isFull(limit: 10, now: start, readDepth: depth.read))
        depth.value = 12
        #expect(!bound.isFull(limit: 10, now: start + .milliseconds(900), readDepth: depth.read))
        #expect(bound.isFull(limit: 10, now: start + SpoolDepthBound.recheck, readDepth: depth.read))
        #expect(depth.reads == 2)
    }

    @Test func forgettingReadsAgain() {
        let bound = SpoolDepthBound()
        let depth = Depth()
        let start = ContinuousClock.now
        #expect(!bound.isFull(limit: 10, now: start, readDepth: depth.read))
        bound.forget()
        depth.value = 10
        #expect(bound.isFull(limit: 10, now: start, readDepth: depth.read))
        #expect(depth.reads == 2)
    }

    /// A forget that lands while an ask reads the depth voids that ask's reading too: the count
    /// of events it did not see is not known.
    @Test func aForgetDuringAReadVoidsThatReading() {
        let bound = SpoolDepthBound()
        let depth = Depth()
        let start = ContinuousClock.now
        #expect(
            !bound.isFull(
                limit: 10, now: start,
                readDepth: {
                    bound.forget(); return depth.read()
                }))
        #expect(!bound.isFull(limit: 10, now: start, readDepth: depth.read))
        #expect(depth.reads == 2)
        #expect(!bound.isFull(limit: 10, now: start, readDepth: depth.read))
        #expect(depth.reads == 2, "that second reading stands")
    }

    /// Through a real store: every way events enter the spool counts, so a full spool is seen at once.
    @Test func aStoreSeesItsSpoolFillWithoutWaiting() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        try store.registerSinks(["a"])
        #expect(try !store.spoolIsFull(limit: 10))
        try store.appendPage(source: "s", entries: (1...6).map { entry($0) }, cursor: "c")
        #expect(try !store.spoolIsFull(limit: 10))
        // Duplicates add nothing: 6 read or counted, under 7 without a read.
        try store.appendPage(source: "s", entries: (1...6).map { entry($0) }, cursor: "c")
        var reads = 0
        #expect(
            try !store.depthBound.isFull(
                limit: 7,
                readDepth: {
                    reads += 1; return try store.spoolDepth()
                }))
        #expect(reads == 0)
        let (start, end) = (Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 2_000_000_000))
        let job = try store.createBackfillJob(source: "s", from: start, to: end, onlySinks: nil)
        try store.appendBackfillPage(job: job, window: start..<end, entries: [entry(7)], checkpoint: nil)
        #expect(try store.spoolIsFull(limit: 7))
        // A dead letter replayed is an event added.
        try store.commitDelivery(
            sink: "a", through: 7,
            deadLetters: [DeadLetterEntry(record: try store.readBatch(sink: "a", after: 0, limit: 1)[0], status: 400, reason: "no")])
        #expect(try store.prune(activeSinks: ["a"]) == 7)
        #expect(try !store.spoolIsFull(limit: 1))
        #expect(try store.replayDeadLetters() == 1)
        #expect(try store.spoolIsFull(limit: 1))
        // A page that fails may have added all its events before it threw: counted so.
        try store.commitDelivery(sink: "a", through: 8)
        #expect(try store.prune(activeSinks: ["a"]) == 1)
        #expect(try !store.spoolIsFull(limit: 100))
        try store.simulateFullDisk(true)
        #expect(throws: (any Error).self) {
            try store.appendPage(source: "s", entries: (100..<300).map { entry($0, bytes: 4000) }, cursor: "c2")
        }
        try store.simulateFullDisk(false)
        reads = 0
        #expect(
            try !store.depthBound.isFull(
                limit: 100,
                readDepth: {
                    reads += 1; return try store.spoolDepth()
                }))
        #expect(reads == 1, "200 events may have been added: the depth is read")
    }
}
