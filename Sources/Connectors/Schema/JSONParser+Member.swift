import Foundation

extension JSONParser {
    /// The value of one member of the JSON object `data` (the last, should the key repeat), the
    /// others only checked and stepped over: nil when `data` is valid JSON without it, or not an
    /// object. For answers of which one flag matters and the rest is large (a bulk answer's
    /// `errors` beside one item per event).
    static func member(_ key: String, of data: Data) throws(Failure) -> JSONValue? {
        try reading(data) { parser throws(Failure) in
            var found: JSONValue?
            _ = try parser.members { parser, name throws(Failure) in
                if name == key { found = try parser.value() } else { try parser.skipValue() }
            }
            return found
        }
    }
}
