import Foundation

/// Datadog's reserved date attributes: whichever of them an entry carries may become the
/// log's date, so any one older than the intake window gets the entry dropped.
enum DatadogReservedDates {
    static let attributes = ["timestamp", "date", "@timestamp", "_timestamp", "Timestamp", "eventTime", "published_date"]

    /// The oldest reserved date of `entry`, in epoch seconds, looking at the top level and, when
    /// `message` is a string holding a JSON object, at that object's top level too.
    static func oldest(in entry: [String: Any]) -> Double? {
        var dates = attributes.compactMap { entry[$0].flatMap(seconds) }
        if let message = entry["message"] as? String, message.first == "{",
            let inner = (try? JSONSerialization.jsonObject(with: Data(message.utf8))) as? [String: Any]
        {
            dates += attributes.compactMap { inner[$0].flatMap(seconds) }
        }
        return dates.min()
    }

    /// Datadog reads numbers (and all-digit strings) as epoch MILLISECONDS and strings as
    /// ISO 8601. So epoch seconds land in January 1970 and are stale: a real client bug this
    /// catches. Anything unreadable is ignored (Datadog then uses the intake time).
    static func seconds(_ value: Any) -> Double? {
        if let millis = JSONKind.number(value) { return millis / 1000 }
        guard let text = value as? String else { return nil }
        if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let millis = Double(text) { return millis / 1000 }
        return RFC3339.parse(text)
    }
}
