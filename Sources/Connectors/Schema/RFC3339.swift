import Foundation

/// RFC 3339 timestamps as upstreams send them and as the schema writes them.
public enum RFC3339 {
    nonisolated(unsafe) private static let fractional: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
    nonisolated(unsafe) private static let whole: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }()
    private static let lock = NSLock()

    /// `2026-05-01T10:30:00.123Z`: UTC with milliseconds (the schema's format).
    public static func format(_ date: Date) -> String {
        lock.withLock { fractional.string(from: date) }
    }

    /// `2026-05-01T10:30:00Z`: UTC, whole seconds (for APIs that want no fraction).
    public static func formatSeconds(_ date: Date) -> String {
        lock.withLock { whole.string(from: date) }
    }

    /// Accepts `Z` or an offset, with or without a fraction of a second.
    public static func parse(_ text: String) -> Date? {
        lock.withLock { fractional.date(from: text) ?? whole.date(from: text) }
    }

    /// Also accepts what Python APIs often send: microseconds, or no zone at all (taken as UTC).
    public static func parseLenient(_ text: String) -> Date? {
        if let date = parse(text) { return date }
        var value = text
        let hasZone = value.hasSuffix("Z") || value.range(of: #"[+-]\d{2}:?\d{2}$"#, options: .regularExpression) != nil
        if !hasZone { value += "Z" }
        // Trim a fraction longer than milliseconds.
        if let range = value.range(of: #"\.\d{4,}"#, options: .regularExpression) {
            value.replaceSubrange(range, with: String(value[range].prefix(4)))
        }
        return parse(value)
    }

    static func decode<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> Date {
        let text = try c.decode(String.self, forKey: key)
        guard let date = parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not RFC 3339: \(text)")
        }
        return date
    }
}
