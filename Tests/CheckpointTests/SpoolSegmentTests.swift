import Foundation
import GRDB
import Testing

@testable import Checkpoint

/// The spool's payloads live in segment files beside the state file; its rows point into them.
@Suite struct SpoolSegmentTests {
    static func payload(_ id: Int, bytes: Int = 100) -> Data {
        Data("{\"id\":\(id)}".utf8) + Data(repeating: UInt8(ascii: "a") + UInt8(id % 26), count: bytes)
    }

    static func entries(_ ids: ClosedRange<Int>, bytes: Int = 100) -> [SpoolEntry] {
        ids.map { id in
            var made = entry(id)
            made.payload = payload(id, bytes: bytes)
            return made
        }
    }

    static func segmentFiles(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: StateStore.segmentDirectory(of: path)).sorted()
    }

    @Test func payloadsAreWrittenOnceToASegmentAndReadBackFromIt() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        try store.appendPage(source: "s", entries: Self.entries(1...10), cursor: "c1")
        try store.appendPage(source: "s", entries: Self.entries(11...20), cursor: "c2")
        // The rows hold no payload bytes; the one segment holds them all, in order.
        let inRows = try store.pool.read { try Int.fetchOne($0, sql: "SELECT sum(length(payload)) FROM spool") }
        #expect(inRows == 0)
        #expect(try Self.segmentFiles(path) == ["1.seg"])
        let segment = try Data(contentsOf: URL(fileURLWithPath: StateStore.segmentDirectory(of: path) + "/1.seg"))
        #expect(segment == (1...20).reduce(Data()) { $0 + Self.payload($1) })
        let batch = try store.readBatch(sink: "x", after: 0, limit: 100)
        #expect(batch.map(\.payload) == (1...20).map { Self.payload($0) })
        // The byte limit is applied from the rows, before any payload is read.
        #expect(try store.readBatch(sink: "x", after: 0, limit: 100, maxBytes: 2 * Self.payload(1).count).count == 2)
    }

    /// A long page: every row in page order, numbered contiguously, each with its own payload;
    /// a duplicate inside the page is skipped.
    @Test func aLongPageKeepsItsOrder() throws {
        let store = try StateStore(path: temporaryStatePath())
        let count = 70
        var page = Self.entries(1...count)
        page.insert(page[40], at: 41)
        let result = try store.appendPage(source: "s", entries: page, cursor: "c1")
        #expect(result == AppendResult(inserted: count, duplicates: 1))
        let batch = try store.readBatch(sink: "x", after: 0, limit: 1000)
        #expect(batch.map(\.eventID) == (1...count).map { "e\($0)" })
        #expect(batch.map(\.seq) == (1...count).map(Int64.init))
        #expect(batch.map(\.payload) == (1...count).map { Self.payload($0) })
    }

    /// The append buffer is kept from page to page: a short page after a long one writes only its
    /// own payloads, where the long one's ended.
    @Test func aShortPageAfterALongOneWritesOnlyItsOwnPayloads() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        try store.appendPage(source: "s", entries: Self.entries(1...600, bytes: 1000), cursor: "c1")
        try store.appendPage(source: "s", entries: Self.entries(601...602), cursor: "c2")
        let expected = (1...600).map { Self.payload($0, bytes: 1000) } + (601...602).map { Self.payload($0) }
        let segment = try Data(contentsOf: URL(fileURLWithPath: StateStore.segmentDirectory(of: path) + "/1.seg"))
        #expect(segment == expected.reduce(Data(), +))
        #expect(try store.readBatch(sink: "x", after: 0, limit: 1000).map(\.payload) == expected)
    }

    /// Neighbouring payloads are read with scattered reads, up to 1,024 buffers a call: more than
    /// that, empty ones among them, each comes back whole and in order.
    @Test func scatteredReadsReturnEveryPayloadWhole() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seg-\(UUID().uuidString)").path
        let lengths = (0..<2500).map { $0 % 7 == 0 ? 0 : ($0 * 37) % 301 }
        var bytes = Data()
        for (index, length) in lengths.enumerated() {
            bytes += Data((0..<length).map { UInt8(truncatingIfNeeded: index &+ $0) })
        }
        try (Data("head".utf8) + bytes).write(to: URL(fileURLWithPath: path))
        let read = try SegmentFile(path: path).read(at: 4, lengths: lengths)
        var offset = 0
        for (index, length) in lengths.enumerated() {
            #expect(read[index] == bytes.subdata(in: offset..<(offset + length)))
            offset += length
        }
        #expect(read.count == lengths.count)
    }

    @Test func aSegmentThatEndsTooSoonIsAClearError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seg-\(UUID().uuidString)").path
        try Data(repeating: 1, count: 100).write(to: URL(fileURLWithPath: path))
        #expect {
            try SegmentFile(path: path).read(at: 50, lengths: [30, 30])
        } throws: { error in
            "\(error)".contains("ends before byte 110")
        }
        #expect {
            try SegmentFile(path: path).read(at: 0, lengths: [-1])
        } throws: { error in
            "\(error)".contains("impossible offset or length")
        }
        #expect {
            try SegmentFile(path: path).read(at: .max - 10, lengths: [5, 100])
        } throws: { error in
            "\(error)".contains("impossible offset or length")
        }
    }

    /// A damaged state file can name any offset: reading it, or appending after it, is a clear
    /// error, never an overflow trap.
    @Test func aRowNamingAnOffsetNoFileCanHaveIsAClearError() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        try store.appendPage(source: "s", entries: Self.entries(1...3), cursor: "c1")
        try store.appendPage(source: "s", entries: Self.entries(4...4), cursor: "c2")
        try store.pool.write { try $0.execute(sql: "UPDATE spool SET payload_offset = 9223372036854775800 WHERE seq = 1") }
        #expect {
            try store.readBatch(sink: "x", after: 0, limit: 100)
        } throws: { error in
            "\(error)".contains("impossible place")
        }
        try store.pool.write { try $0.execute(sql: "UPDATE spool SET payload_offset = 9223372036854775800 WHERE seq = 4") }
        let reopened = try StateStore(path: path)
        #expect {
            try reopened.appendPage(source: "s", entries: Self.entries(5...5), cursor: "c3")
        } throws: { error in
            "\(error)".contains("impossible place")
        }
    }

    /// A page whose transaction fails leaves bytes no row points at; the next page writes over
    /// them, and a new process goes on after the last committed payload.
    @Test func bytesOfAFailedPageAreWrittenOverAndANewProcessGoesOnAfterTheLastCommit() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        try store.appendPage(source: "s", entries: Self.entries(1...3), cursor: "c1")
        // The payloads are written, then the transaction fails: its rows and cursor are not there.
        #expect(throws: (any Error).self) {
            try store.writeSpooling { db, payloads in
                _ = try StateStore.insert(db, source: "s", entries: Self.entries(4...6), onlySinks: nil, now: Date(), payloads: &payloads)
                try db.execute(sql: "SELECT * FROM no_such_table")
            }
        }
        #expect(try store.readBatch(sink: "x", after: 0, limit: 100).map(\.eventID) == ["e1", "e2", "e3"])
        try store.appendPage(source: "s", entries: Self.entries(7...8, bytes: 10), cursor: "c2")
        // Written where the failed page's bytes began.
        let committed = [1, 2, 3].reduce(0) { $0 + Self.payload($1).count }
        let segment = try Data(contentsOf: URL(fileURLWithPath: StateStore.segmentDirectory(of: path) + "/1.seg"))
        let page = Self.payload(7, bytes: 10) + Self.payload(8, bytes: 10)
        #expect(segment.subdata(in: committed..<(committed + page.count)) == page)
        let reopened = try StateStore(path: path)
        try reopened.appendPage(source: "s", entries: Self.entries(9...9), cursor: "c3")
        let all = try reopened.readBatch(sink: "x", after: 0, limit: 100)
        #expect(all.map(\.eventID) == ["e1", "e2", "e3", "e7", "e8", "e9"])
        #expect(all.map(\.payload) == [1, 2, 3].map { Self.payload($0) } + [7, 8].map { Self.payload($0, bytes: 10) } + [Self.payload(9)])
        #expect(try reopened.cursor(source: "s") == "c3")
    }

    /// Segments roll over at their size, and a prune deletes whole files once every sink has
    /// passed them, never the one being appended to.
    @Test func segmentsRollOverAndPruningDeletesWholeFiles() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path, segmentBytes: 1000)
        try store.registerSinks(["a", "b"])
        for page in 0..<5 {
            try store.appendPage(source: "s", entries: Self.entries((page * 10 + 1)...(page * 10 + 10)), cursor: "c\(page)")
        }
        #expect(try Self.segmentFiles(path) == ["1.seg", "2.seg", "3.seg", "4.seg", "5.seg"])
        let written = (1...50).reduce(0) { $0 + Self.payload($1).count }
        #expect(try store.spoolFileBytes() == Int64(written))
        try store.commitDelivery(sink: "a", through: 50)
        try store.commitDelivery(sink: "b", through: 25)
        try store.prune(activeSinks: ["a", "b"])
        // Events 26–30 are still in segment 3.
        #expect(try Self.segmentFiles(path) == ["3.seg", "4.seg", "5.seg"])
        #expect(try store.readBatch(sink: "b", after: 25, limit: 100).map(\.payload) == (26...50).map { Self.payload($0) })
        try store.commitDelivery(sink: "b", through: 50)
        try store.prune(activeSinks: ["a", "b"])
        #expect(try Self.segmentFiles(path) == ["5.seg"])
        #expect(try store.spoolFileBytes() == Int64((41...50).reduce(0) { $0 + Self.payload($1).count }))
        try store.appendPage(source: "s", entries: Self.entries(51...52), cursor: "c5")
        #expect(try Self.segmentFiles(path) == ["5.seg", "6.seg"])
        #expect(try store.readBatch(sink: "a", after: 50, limit: 100).map(\.payload) == [51, 52].map { Self.payload($0) })
        #expect(try store.integrityCheck() == "ok")

        // A missing file is named by the integrity check, and reading from it fails clearly.
        try FileManager.default.removeItem(atPath: StateStore.segmentDirectory(of: path) + "/6.seg")
        #expect(try store.integrityCheck().contains("spool segment file(s) missing: \(path)-spool/6.seg"))
        let fresh = try StateStore(path: path)
        #expect(throws: StateError.self) { try fresh.readBatch(sink: "a", after: 50, limit: 100) }
    }

    /// A command run beside the daemon (it never appended) keeps the newest segment when it
    /// prunes: the daemon may be appending to it.
    @Test func aPruneByAnotherProcessKeepsTheNewestSegment() throws {
        let path = temporaryStatePath()
        let daemon = try StateStore(path: path)
        try daemon.registerSinks(["a"])
        try daemon.appendPage(source: "s", entries: Self.entries(1...3), cursor: "c1")
        try daemon.commitDelivery(sink: "a", through: 3)
        let command = try StateStore(path: path)
        try command.prune(activeSinks: ["a"])
        #expect(try Self.segmentFiles(path) == ["1.seg"])
        try daemon.appendPage(source: "s", entries: Self.entries(4...5), cursor: "c2")
        #expect(try daemon.readBatch(sink: "a", after: 3, limit: 100).map(\.payload) == [4, 5].map { Self.payload($0) })
    }

    /// Rows spooled before segments existed (and replayed dead letters) keep their payload in
    /// the row; they are read beside segment rows.
    @Test func rowsWithTheirPayloadInsideAreReadBesideSegmentRows() throws {
        let path = temporaryStatePath()
        let store = try StateStore(path: path)
        try store.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO spool (source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at)
                    VALUES ('s', 'e0', 0, 'configuration', 'info', 'a', 'success', ?, 0)
                    """, arguments: [Self.payload(0)])
        }
        try store.appendPage(source: "s", entries: Self.entries(1...2), cursor: "c1")
        let batch = try store.readBatch(sink: "x", after: 0, limit: 100)
        #expect(batch.map(\.payload) == [0, 1, 2].map { Self.payload($0) })
        #expect(try store.readBatch(sink: "x", after: 0, limit: 100, maxBytes: 1).count == 1)
    }
}
