import Foundation

/// RFC 3339 timestamps as upstreams send them and as the schema writes them.
///
/// Hand-written rather than Foundation's ISO8601DateFormatter: every event parses one or two
/// timestamps and writes two, and the formatter (ICU underneath) cost a quarter of the
/// forwarder's CPU in the benchmark. This is plain calendar arithmetic on UTF-8 bytes.
public enum RFC3339 {
    /// `2026-05-01T10:30:00.123Z`: UTC with milliseconds (the schema's format).
    public static func format(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (seconds, milliseconds) = floorDivide(totalMilliseconds, 1000)
        return text(epochSeconds: seconds, milliseconds: Int(milliseconds))
    }

    /// `2026-05-01T10:30:00Z`: UTC, whole seconds (for APIs that want no fraction). Rounds down.
    public static func formatSeconds(_ date: Date) -> String {
        text(epochSeconds: Int64(date.timeIntervalSince1970.rounded(.down)), milliseconds: nil)
    }

    /// Written byte by byte into one buffer: every event formats two timestamps, and building
    /// them from padded pieces was a dozen small strings each (4% of the forwarder's CPU).
    private static func text(epochSeconds: Int64, milliseconds: Int?) -> String {
        let (days, secondOfDay) = floorDivide(epochSeconds, 86400)
        let (year, month, day) = civil(fromDays: days)
        guard (0...9999).contains(year) else {
            // Outside four-digit years (never from a real upstream): the plain, slower spelling.
            let base =
                "\(year)-\(pad(month))-\(pad(day))T\(pad(Int(secondOfDay / 3600))):\(pad(Int(secondOfDay % 3600 / 60))):\(pad(Int(secondOfDay % 60)))"
            return base + (milliseconds.map { "." + String(String($0 + 1000).dropFirst()) } ?? "") + "Z"
        }
        let length = milliseconds == nil ? 20 : 24
        return String(unsafeUninitializedCapacity: length) { buffer in
            var index = 0
            func put(_ value: Int, _ width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                while divisor > 0 {
                    buffer[index] = UInt8(48 + value / divisor % 10)
                    index += 1
                    divisor /= 10
                }
            }
            func put(_ byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            put(Int(year), 4)
            put(45)
            put(month, 2)
            put(45)
            put(day, 2)
            put(84)
            put(Int(secondOfDay / 3600), 2)
            put(58)
            put(Int(secondOfDay % 3600 / 60), 2)
            put(58)
            put(Int(secondOfDay % 60), 2)
            if let milliseconds {
                put(46)
                put(milliseconds, 3)
            }
            put(90)
            return index
        }
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Accepts `Z` or an offset, with or without a fraction of a second; `T`, `t` or a space between date and time.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// Also accepts what Python APIs often send: a time with no zone at all (taken as UTC).
    public static func parseLenient(_ text: String) -> Date? {
        if let date = parse(text) { return date }
        return parse(text + "Z")
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ allowed: UInt8...) -> Bool {
            guard index < bytes.count, allowed.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
            expect(84, 116, 32), let hour = number(2), expect(58), let minute = number(2), expect(58), let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        switch bytes[index] {
        case 90, 122:  // Z z
            index += 1
        case 43, 45:  // + -
            let sign = bytes[index] == 45 ? -1 : 1
            index += 1
            guard let hours = number(2) else { return nil }
            _ = expect(58)
            guard let minutes = number(2), hours <= 23, minutes <= 59 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = Self.days(fromCivil: Int64(year), month, day)
        let seconds = days * 86400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offset)
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
    static func days(fromCivil year: Int64, _ month: Int, _ day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    static func decode<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> Date {
        let text = try c.decode(String.self, forKey: key)
        guard let date = parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not RFC 3339: \(text)")
        }
        return date
    }
}
