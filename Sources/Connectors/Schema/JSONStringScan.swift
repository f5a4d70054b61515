/// Finds, eight bytes at a time, where a run of plain string bytes ends: at the first byte that
/// JSON treats specially inside a string (a quote, a backslash, a control character below 0x20).
///
/// The string loops of the parser and the writer looked at one byte per iteration; event
/// payloads are mostly such runs (an `event.original` is a whole escaped JSON text).
enum JSONStringScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The index of the first special byte in `bytes[start...]` (`bytes.count` when none), and
    /// whether a byte at or above 0x80 lies before it.
    @inline(__always)
    static func firstSpecial(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (index: Int, sawNonASCII: Bool) {
        var index = start
        var sawNonASCII = false
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + 8 <= bytes.count {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                let special = specialBytes(in: word)
                if special != 0 {
                    // The lowest flagged byte is exact (the tricks only misflag bytes above a true one).
                    let offset = special.trailingZeroBitCount / 8
                    let before: UInt64 = offset == 0 ? 0 : word & (UInt64.max >> UInt64(64 - 8 * offset))
                    return (index + offset, sawNonASCII || before & highBits != 0)
                }
                if word & highBits != 0 { sawNonASCII = true }
                index += 8
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { break }
            if byte >= 0x80 { sawNonASCII = true }
            index += 1
        }
        return (index, sawNonASCII)
    }

    /// The high bit of each byte of `word` that is a quote, a backslash or below 0x20 (exact for
    /// the lowest such byte).
    @inline(__always)
    private static func specialBytes(in word: UInt64) -> UInt64 {
        let quote = zeroBytes(word ^ (ones &* 0x22))
        let backslash = zeroBytes(word ^ (ones &* 0x5C))
        let control = (word &- ones &* 0x20) & ~word & highBits
        return quote | backslash | control
    }

    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highBits
    }
}
