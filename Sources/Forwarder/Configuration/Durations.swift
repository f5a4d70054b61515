import Connectors
import Foundation

/// Durations (`500ms`, `10s`, `5m`, `2h`, `365d`) and times (RFC 3339, a date, or an age like `90d`).
public enum DurationText {
    private static let units: [(suffix: String, seconds: Double)] = [
        ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800),
    ]

    /// No duration of this program means more than 100 years (36500d).
    static let maximumSeconds: Double = 36500 * 86400

    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for unit in units.sorted(by: { $0.suffix.count > $1.suffix.count }) where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count)
            guard let value = Double(number), value >= 0, value.isFinite, !number.hasPrefix("+") else { return nil }
            // `1e300s` must be refused, not trap converting to Int64 (fuzzing found it).
            guard value * unit.seconds <= maximumSeconds else { return nil }
            return .milliseconds(Int64((value * unit.seconds * 1000).rounded()))
        }
        // A bare 0 needs no unit.
        return trimmed == "0" ? .zero : nil
    }

    public static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        for unit in units.reversed() where unit.seconds >= 1 {
            let unitMS = Int64(unit.seconds * 1000)
            if ms >= unitMS, ms % unitMS == 0 { return "\(ms / unitMS)\(unit.suffix)" }
        }
        return "\(ms)ms"
    }
}

public enum TimeText {
    /// RFC 3339, `YYYY-MM-DD` (midnight UTC), or an age before `now` (`90d`, `6h`).
    public static func parse(_ text: String, now: Date = Date()) -> Date? {
        if let date = RFC3339.parse(text) { return date }
        if text.count == 10, let date = RFC3339.parse(text + "T00:00:00Z") { return date }
        if let age = DurationText.parse(text) { return now.addingTimeInterval(-age.seconds) }
        return nil
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    var seconds: Double { Double(milliseconds) / 1000 }
}
