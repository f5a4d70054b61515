import Foundation
import Testing

@testable import Connectors

/// The eight-bytes-at-a-time scan against a byte-by-byte reading, and the parser and writer
/// built on it against plain expectations, at every offset of a word.
@Suite struct JSONStringScanTests {
    static let specials: [UInt8] = [UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x00, 0x0A, 0x1F]
    static let plain: [UInt8] = [UInt8(ascii: "a"), 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xC3, 0xFF]

    static func reference(_ bytes: [UInt8], from start: Int) -> (index: Int, sawNonASCII: Bool) {
        var sawNonASCII = false
        for index in start..<bytes.count {
            let byte = bytes[index]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C { return (index, sawNonASCII) }
            if byte >= 0x80 { sawNonASCII = true }
        }
        return (bytes.count, sawNonASCII)
    }

    @Test func findsTheFirstSpecialByteWhereverItLies() {
        var generator = SystemRandomNumberGenerator()
        var checked = 0
        for length in 0...40 {
            for _ in 0..<40 {
                var bytes = (0..<length).map { _ in Self.plain.randomElement(using: &generator)! }
                // Up to three specials, so a flagged byte above the first is exercised too.
                for _ in 0..<Int.random(in: 0...3, using: &generator) where length > 0 {
                    bytes[Int.random(in: 0..<length, using: &generator)] = Self.specials.randomElement(using: &generator)!
                }
                for start in 0...length {
                    let found = bytes.withUnsafeBufferPointer { JSONStringScan.firstSpecial(in: $0, from: start) }
                    let expected = Self.reference(bytes, from: start)
                    #expect(found.index == expected.index, "\(bytes) from \(start)")
                    #expect(found.sawNonASCII == expected.sawNonASCII, "\(bytes) from \(start)")
                    checked += 1
                }
            }
        }
        #expect(checked > 10_000)
    }

    /// Each special byte at each offset of a 20-byte string: written, escaped as JSON says, and
    /// read back the same; skipped over in an object the same.
    @Test func writerAndParserKeepEveryStringAtEveryOffset() throws {
        for special in ["\"", "\\", "\n", "\u{01}", "\u{1F}", "é", "😀"] {
            for offset in 0...20 {
                let text = String(repeating: "x", count: offset) + special + String(repeating: "y", count: 20 - offset)
                let written = JSONWriter.write(.string(text))
                let escaped: String
                switch special {
                case "\"": escaped = "\\\""
                case "\\": escaped = "\\\\"
                case "\n": escaped = "\\n"
                case "\u{01}": escaped = "\\u0001"
                case "\u{1F}": escaped = "\\u001f"
                default: escaped = special
                }
                let expected = "\"" + String(repeating: "x", count: offset) + escaped + String(repeating: "y", count: 20 - offset) + "\""
                #expect(String(decoding: written, as: UTF8.self) == expected)
                #expect(try JSONParser.parse(Data(written)) == .string(text))
                let object = Data("{\"a\":".utf8) + Data(written) + Data(",\"b\":1}".utf8)
                #expect(try JSONParser.parse(object) == .object(["a": .string(text), "b": .integer(1)]))
                // `member` skips the string it does not want.
                #expect(try JSONParser.member("b", of: object) == .integer(1))
            }
        }
    }

    @Test func aControlCharacterOrAMissingQuoteIsStillRefusedAtEveryOffset() {
        for offset in 0...20 {
            let prefix = String(repeating: "x", count: offset)
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Data("\"\(prefix)\u{01}yy\"".utf8)) }
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Data("\"\(prefix)".utf8)) }
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Data("{\"a\":\"\(prefix)\\\"".utf8)) }
            #expect(throws: JSONParser.Failure.self) { try JSONParser.member("b", of: Data("{\"a\":\"\(prefix)\u{01}\",\"b\":1}".utf8)) }
            #expect(throws: JSONParser.Failure.self) { try JSONParser.member("b", of: Data("{\"a\":\"\(prefix)\\\"".utf8)) }
        }
    }
}
