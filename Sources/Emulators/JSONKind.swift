import Foundation

/// Tells JSON booleans from numbers in `JSONSerialization` output: on Linux `1 is Bool` is
/// true, so only the boxed type says whether the text was `true` or `1`.
enum JSONKind {
    static func isBool(_ value: Any) -> Bool {
        if type(of: value) == Bool.self { return true }
        guard let number = value as? NSNumber, !(type(of: value) == Int.self || type(of: value) == Double.self) else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// A JSON number (never a boolean).
    static func number(_ value: Any) -> Double? {
        guard !(value is String), !isBool(value), let number = value as? NSNumber else { return nil }
        return number.doubleValue
    }
}
