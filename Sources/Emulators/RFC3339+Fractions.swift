import Foundation

/// Sub-second RFC 3339, in integers: DeepIntShield serves milliseconds and Logfire
/// microseconds, and a bound must compare exactly with what was served.
extension RFC3339 {
    /// `2026-05-01T10:30:00.120Z`: always three digits.
    static func format(milliseconds: Int64) -> String {
        let (seconds, fraction) = floorDivide(milliseconds, 1000)
        return withFraction(format(seconds: seconds), fraction, digits: 3)
    }

    /// `2026-05-01T10:30:00.123456Z`, or `2026-05-01T10:30:00Z` when the fraction is zero
    /// (how Pydantic writes a UTC datetime).
    static func format(microseconds: Int64) -> String {
        let (seconds, fraction) = floorDivide(microseconds, 1_000_000)
        let whole = format(seconds: seconds)
        return fraction == 0 ? whole : withFraction(whole, fraction, digits: 6)
    }

    /// Whole seconds since the epoch and the fraction in nanoseconds (digits past the ninth
    /// are dropped), or nil when `text` is not RFC 3339.
    static func parseExact(_ text: String) -> (seconds: Int64, nanoseconds: Int64)? {
        guard parse(text) != nil else { return nil }
        var bytes = Array(text.utf8)
        var nanoseconds: Int64 = 0
        // parse() accepted it, so a fraction can only start at byte 19, right after the seconds.
        if bytes.count > 19, bytes[19] == UInt8(ascii: ".") {
            var end = 20
            var scale: Int64 = 100_000_000
            while end < bytes.count, bytes[end] >= 0x30, bytes[end] <= 0x39 {
                nanoseconds += Int64(bytes[end] - 0x30) * scale
                scale /= 10
                end += 1
            }
            bytes.removeSubrange(19..<end)
        }
        guard let whole = parse(String(decoding: bytes, as: UTF8.self)) else { return nil }
        return (Int64(whole), nanoseconds)
    }

    /// Milliseconds since the epoch, or nil when `text` is not RFC 3339.
    static func parseMilliseconds(_ text: String) -> Int64? {
        parseExact(text).map { $0.seconds * 1000 + $0.nanoseconds / 1_000_000 }
    }

    /// The nearest whole millisecond (a `Date` built from `x.123` is not exactly `.123`).
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func date(microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    private static func withFraction(_ whole: String, _ fraction: Int64, digits: Int) -> String {
        let text = String(fraction)
        return String(whole.dropLast()) + "." + String(repeating: "0", count: digits - text.count) + text + "Z"
    }
}
