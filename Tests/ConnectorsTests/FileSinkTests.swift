import Foundation
import Testing

@testable import Connectors

@Suite struct FileSinkTests {
    @Test func appendsOneLinePerEvent() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fs-\(UUID().uuidString)/out/events.ndjson").path
        let sink = FileSink(name: "f", path: path)
        try sink.write([EncodedEvent(id: "a", time: Date(), body: Data(#"{"id":"a"}"#.utf8))])
        try sink.write([
            EncodedEvent(id: "b", time: Date(), body: Data(#"{"id":"b"}"#.utf8)),
            EncodedEvent(id: "c", time: Date(), body: Data(#"{"id":"c"}"#.utf8)),
        ])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n")
    }

    /// The lines' buffer is kept from batch to batch: a smaller batch after a larger one writes
    /// only its own lines.
    @Test func aSmallBatchAfterALargeOneWritesOnlyItsOwnLines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fs-\(UUID().uuidString).ndjson").path
        let sink = FileSink(name: "f", path: path)
        let long = (0..<300).map { EncodedEvent(id: "l\($0)", time: Date(), body: Data(repeating: UInt8(ascii: "x"), count: 1000)) }
        try sink.write(long)
        try sink.write([EncodedEvent(id: "s", time: Date(), body: Data(#"{"id":"s"}"#.utf8))])
        let expected = String(repeating: String(repeating: "x", count: 1000) + "\n", count: 300) + "{\"id\":\"s\"}\n"
        #expect(try String(contentsOfFile: path, encoding: .utf8) == expected)
    }

    @Test func aTornLastLineFromAKillIsCutBeforeTheNextBatch() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fs-\(UUID().uuidString).ndjson").path
        // What a SIGKILL in the middle of write(2) leaves: whole lines, then part of one.
        try Data("{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c".utf8).write(to: URL(fileURLWithPath: path))
        let sink = FileSink(name: "f", path: path)
        try sink.write([
            EncodedEvent(id: "c", time: Date(), body: Data(#"{"id":"c"}"#.utf8)),
            EncodedEvent(id: "d", time: Date(), body: Data(#"{"id":"d"}"#.utf8)),
        ])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n{\"id\":\"d\"}\n")

        // No newline at all: the whole file is a torn first batch.
        try Data("{\"id\":\"a".utf8).write(to: URL(fileURLWithPath: path))
        try FileSink(name: "f", path: path).write([EncodedEvent(id: "a", time: Date(), body: Data(#"{"id":"a"}"#.utf8))])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"id\":\"a\"}\n")
    }

    @Test func unwritablePathIsAClearError() {
        let sink = FileSink(name: "f", path: "/proc/forbidden/events.ndjson")
        #expect {
            try sink.write([EncodedEvent(id: "a", time: Date(), body: Data("{}".utf8))])
        } throws: { "\($0)".contains("/proc/forbidden/events.ndjson") }
    }

    /// Lines of `path` (empty when the file does not exist).
    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func event(_ index: Int) -> EncodedEvent {
        EncodedEvent(id: "e\(index)", time: Date(), body: Data(#"{"id":"e\#(index)","pad":"0123456789"}"#.utf8))
    }

    @Test func rotationStartsANewFileBeforeABatchWouldPassMaxBytesAndKeepsTheNewestFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fs-\(UUID().uuidString)/events.ndjson").path
        let sink = FileSink(name: "f", path: path, rotation: .init(maxBytes: 100, keep: 2))
        for index in 0..<20 { try sink.write([event(index)]) }  // 33-byte lines: three per file
        let files = [path + ".2", path + ".1", path]
        for file in files {
            let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            #expect(size > 0 && size <= 100, "\(file): \(size) bytes")
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".3"))
        // Oldest kept file first: the newest events, whole lines, in order, none twice.
        let kept = files.flatMap(lines)
        #expect(kept == (20 - kept.count..<20).map { #"{"id":"e\#($0)","pad":"0123456789"}"# })
        #expect(kept.count == 8)
    }

    @Test func aFileAlreadyFullAtStartIsRotatedBeforeTheFirstBatch() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fs-\(UUID().uuidString).ndjson").path
        try Data((String(repeating: "x", count: 99) + "\n").utf8).write(to: URL(fileURLWithPath: path))
        try FileSink(name: "f", path: path, rotation: .init(maxBytes: 100, keep: 1)).write([event(1)])
        #expect(lines(path) == [#"{"id":"e1","pad":"0123456789"}"#])
        #expect(lines(path + ".1").first?.count == 99)
    }
}
