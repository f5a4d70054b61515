import Foundation

/// Writes `JSONValue` as compact JSON with sorted keys, so an event always has the same bytes.
/// Slashes are not escaped; non-finite doubles (which JSON cannot carry) become null.
enum JSONWriter {
    static func write(_ value: JSONValue) -> Data {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        write(value, into: &output)
        return Data(output)
    }

    static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let bool):
            output.append(contentsOf: (bool ? "true" : "false").utf8)
        case .integer(let integer):
            output.append(contentsOf: String(integer).utf8)
        case .double(let double):
            output.append(contentsOf: (double.isFinite ? "\(double)" : "null").utf8)
        case .string(let string):
            writeString(string, into: &output)
        case .array(let array):
            output.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            // Sorted pairs, not sorted keys looked up again: hashing each key twice was most of the cost.
            for (index, field) in object.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(field.key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(field.value, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Copies runs of plain bytes in bulk and escapes only what JSON requires.
    static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var runStart = 0
            while true {
                let special = JSONStringScan.firstSpecial(in: bytes, from: runStart).index
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<special]))
                guard special < bytes.count else { break }
                appendEscape(of: bytes[special], into: &output)
                runStart = special + 1
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(of byte: UInt8, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        case 0x09: output.append(UInt8(ascii: "t"))
        case 0x08: output.append(UInt8(ascii: "b"))
        case 0x0C: output.append(UInt8(ascii: "f"))
        default:
            output.append(UInt8(ascii: "u"))
            output.append(UInt8(ascii: "0"))
            output.append(UInt8(ascii: "0"))
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        }
    }
}
