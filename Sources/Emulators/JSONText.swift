/// Minimal JSON writing for the emulators' replies: fixed key order, no Foundation
/// round trip, cheap enough to page through a million items.
enum JSONText {
    /// `text` as a quoted JSON string.
    static func quote(_ text: String) -> String {
        // Most strings need no escaping: one scan, then one copy (the benchmark serves millions).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    /// `{"ok": false, "error": {"message": …}}`, with `"items"` for validation errors.
    static func errorEnvelope(_ message: String, items: [String]? = nil) -> String {
        var error = #"{"message":"# + quote(message)
        if let items { error += #","items":["# + items.map(quote).joined(separator: ",") + "]" }
        return #"{"ok":false,"error":"# + error + "}}"
    }
}
