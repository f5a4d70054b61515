import Foundation

/// Keeps Datadog from silently dropping backfilled events.
///
/// Datadog dates a log by any reserved date attribute it finds, at the entry's top level or at
/// the top level of a JSON `message`, and an entry dated more than 18 h ago is answered 202 and
/// then discarded: no error, nothing in the dead letters, the event is simply gone. An encoding
/// that carries one (ECS `@timestamp`) would lose every event of a backfill. So a stale reserved
/// date inside the message is renamed to a plain attribute (`event_time`), and the entry gets a
/// top-level `timestamp` only while the event is fresh.
enum DatadogReservedDates {
    /// In renaming order: the first stale one becomes `event_time`.
    static let attributes = ["@timestamp", "timestamp", "date", "_timestamp", "Timestamp", "eventTime", "published_date"]
    /// Datadog's limit is 18 h; an hour of margin covers clock skew and the time between
    /// building a request and the intake reading it.
    static let maxAge: TimeInterval = 17 * 3600

    private static let quotedNames = attributes.map { Data(("\"" + $0 + "\"").utf8) }

    static func isFresh(_ date: Date, now: Date) -> Bool {
        date.timeIntervalSince(now) > -maxAge
    }

    /// `body` with every stale reserved date at its top level renamed; the same bytes when it
    /// has none (a byte search first, so most bodies are not parsed).
    static func withoutStaleDates(_ body: Data, now: Date) -> Data {
        guard quotedNames.contains(where: { body.range(of: $0) != nil }),
            case .object(var object)? = try? JSONValue.parse(body)
        else { return body }
        var renamed = false
        for name in attributes {
            guard let value = object[name], let date = date(value), !isFresh(date, now: now) else { continue }
            object.removeValue(forKey: name)
            object[freeName(for: name, in: object)] = value
            renamed = true
        }
        return renamed ? JSONWriter.write(.object(object)) : body
    }

    /// `event_time`, else `event_<name>` (without `@`/`_`), else `original_<name>`.
    static func freeName(for name: String, in object: [String: JSONValue]) -> String {
        let bare = String(name.drop { $0 == "@" || $0 == "_" })
        return ["event_time", "event_" + bare, "original_" + bare].first { object[$0] == nil } ?? "original_" + bare + "_1"
    }

    /// Datadog reads numbers and all-digit strings as epoch milliseconds, other strings as
    /// ISO 8601; nil for what it cannot read (it then uses the intake time: harmless).
    static func date(_ value: JSONValue) -> Date? {
        switch value {
        case .integer(let millis): return Date(timeIntervalSince1970: Double(millis) / 1000)
        case .double(let millis): return Date(timeIntervalSince1970: millis / 1000)
        case .string(let text) where !text.isEmpty && text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }):
            return Double(text).map { Date(timeIntervalSince1970: $0 / 1000) }
        case .string(let text): return RFC3339.parseLenient(text)
        default: return nil
        }
    }
}
