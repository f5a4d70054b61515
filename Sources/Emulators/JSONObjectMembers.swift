import Foundation

/// The top-level members of one JSON object as byte ranges of their values, so an emulator can
/// keep a value exactly as the client sent it instead of serializing it again (which, with
/// sorted keys, cost more than everything else the Splunk emulator does). Syntax is checked by
/// the caller's full parse; this only delimits.
enum JSONObjectMembers {
    /// `key → value range` of the object spanning `range` (which must start with `{`); nil when
    /// it cannot be delimited.
    static func scan(_ bytes: [UInt8], _ range: Range<Int>) -> [String: Range<Int>]? {
        var index = range.lowerBound
        let end = range.upperBound
        guard index < end, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var members: [String: Range<Int>] = [:]
        while true {
            skipSpace(bytes, &index, end)
            guard index < end else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return members }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "\""), let keyRange = value(bytes, &index, end) else { return nil }
            skipSpace(bytes, &index, end)
            guard index < end, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpace(bytes, &index, end)
            guard let valueRange = value(bytes, &index, end) else { return nil }
            members[key(bytes, keyRange)] = valueRange
        }
    }

    /// The bytes of one value starting at `index`: a string, object or array as
    /// `ConcatenatedJSON` delimits them (brackets balanced, strings skipped), or a bare scalar up
    /// to the next `,`, `}`, `]` or space (where `ConcatenatedJSON`, made for values written one
    /// after another, would run on past a comma).
    private static func value(_ bytes: [UInt8], _ index: inout Int, _ end: Int) -> Range<Int>? {
        let start = index
        let first = bytes[index]
        if first != UInt8(ascii: "\""), first != UInt8(ascii: "{"), first != UInt8(ascii: "[") {
            while index < end, !",}] \t\r\n".utf8.contains(bytes[index]) { index += 1 }
            return index > start ? start..<index : nil
        }
        guard case .value(let range) = ConcatenatedJSON.next(in: bytes, from: &index), range.upperBound <= end else { return nil }
        return range
    }

    /// A key's text; one with escapes is decoded by Foundation.
    private static func key(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        let inner = bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        return (try? JSONSerialization.jsonObject(with: Data(bytes[range]), options: .fragmentsAllowed)) as? String ?? ""
    }

    private static func skipSpace(_ bytes: [UInt8], _ index: inout Int, _ end: Int) {
        while index < end, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
    }
}
