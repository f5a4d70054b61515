/// Finds the top-level JSON values of a body that writes them one after another (HEC's batch
/// format: no array, no commas, optional whitespace between). Only brackets and strings are
/// tracked here; each slice is then parsed for real, so a bad value is caught by index.
enum ConcatenatedJSON {
    enum Next: Equatable {
        case end
        case value(Range<Int>)
        /// Unbalanced brackets or an unterminated string: nothing after it can be delimited.
        case malformed
    }

    static func next(in bytes: [UInt8], from index: inout Int) -> Next {
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        guard index < bytes.count else { return .end }
        let start = index
        var depth = 0
        var inString = false
        var escaped = false
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 { return .value(start..<index) }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return .value(start..<index) }
                if depth < 0 { return .malformed }
            default:
                // A bare scalar at the top: it runs to the next delimiter.
                if depth == 0 {
                    while index < bytes.count, !isSpace(bytes[index]), !"{[\"".utf8.contains(bytes[index]) { index += 1 }
                    return .value(start..<index)
                }
            }
        }
        return .malformed
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
