import Foundation

/// Any JSON value, kept as the upstream sent it (integers stay exact; objects keep every key).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// A string, or an integer rendered as one (upstream ids come both ways).
    public var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        default: return nil
        }
    }

    /// A number (integer or not), or a string of one (epoch times come both ways).
    public var numberValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s)
        default: return nil
        }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Compact JSON, keys sorted (the same value always has the same bytes), slashes not escaped.
    public var compactText: Data { JSONWriter.write(self) }

    /// The JSON type's name, for error messages ("expected array, got string").
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .integer(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .integer(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

extension JSONValue {
    /// Parses bytes as JSON; the error quotes the start of the bytes so an operator sees what came back.
    public static func parse(_ data: Data) throws -> JSONValue {
        try parse(data, elementsAt: nil).value
    }

    /// Parses bytes as JSON and locates the elements of the array under the keys `path` (see `JSONParser`).
    static func parse(_ data: Data, elementsAt path: [String]?) throws -> (value: JSONValue, elements: [JSONParser.Element]) {
        let parsed = try parseCounting(data, elementsAt: path, skippingElements: false)
        return (parsed.value, parsed.elements)
    }

    /// `parse`, optionally only locating the elements (`JSONParser.parseCounting`), and how many
    /// values it counted against the page's limits.
    static func parseCounting(
        _ data: Data, elementsAt path: [String]?, skippingElements: Bool
    ) throws -> (value: JSONValue, elements: [JSONParser.Element], values: Int) {
        do {
            return try JSONParser.parseCounting(data, elementsAt: path, skippingElements: skippingElements)
        } catch  where error.isOverLimit {
            throw MalformedPayload(
                reason: "over the page limits: \(error.reason) (sources[].max_page_items bounds it)", excerpt: "\(data.count) bytes",
                isOverLimit: true)
        } catch {
            throw MalformedPayload(
                reason: "not valid JSON (\(error.reason) at byte \(error.offset))", excerpt: MalformedPayload.excerpt(of: data))
        }
    }
}

/// A page or response that is not what the protocol promises.
public struct MalformedPayload: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var excerpt: String
    /// Over `PageLimits` (`sources[].max_page_items`), not malformed as such.
    public var isOverLimit = false

    public init(reason: String, excerpt: String, isOverLimit: Bool = false) {
        self.reason = reason
        self.excerpt = excerpt
        self.isOverLimit = isOverLimit
    }

    public var description: String { "\(reason): \(excerpt)" }

    /// How much of a remote body an error quotes: enough to tell an HTML error page from JSON
    /// or an error envelope, not so much that a hostile server writes our logs.
    public static let excerptLimit = 64

    /// The first bytes of a body, printable, for error messages. Control characters (a terminal's
    /// escape sequences, line breaks that would forge log lines) are shown as `\u{…}`.
    public static func excerpt(of data: Data, limit: Int = excerptLimit) -> String {
        if data.isEmpty { return "(empty body)" }
        var prefix = ""
        for scalar in String(decoding: data.prefix(limit), as: UTF8.self).unicodeScalars {
            if scalar == "\n" {
                prefix += "\\n"
            } else if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                prefix += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                prefix.unicodeScalars.append(scalar)
            }
        }
        return "\"" + prefix + (data.count > limit ? "…\" (\(data.count) bytes)" : "\"")
    }
}
