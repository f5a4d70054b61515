import Foundation

/// `type: http_json` — any JSON audit API we have no connector for (GitHub, Okta, 1Password style).
/// Every choice an API makes (how the window is sent, where the items are, how it pages) is a key.
public struct HTTPJSONConfiguration: Sendable {
    public var name: String
    /// `GET` (default) or `POST`.
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var auth: HTTPAuth?
    /// POST body template (JSON); the window and cursor fields are set into it.
    public var body: JSONValue?
    public var window: Window
    /// Dotted path to the items array in the body; empty: the body itself is the array.
    public var itemsPath: String
    /// Dotted path to each item's unique id.
    public var idField: String
    /// Dotted path to each item's time.
    public var timeField: String
    public var timeFormat: TimeFormat
    public var order: Order
    public var pagination: Pagination
    public var mapping: Mapping

    public enum Order: String, Sendable, CaseIterable {
        case oldestFirst = "oldest_first"
        case newestFirst = "newest_first"
    }

    public enum TimeFormat: String, Sendable, CaseIterable {
        /// `2026-05-01T10:30:00Z`
        case rfc3339
        /// `2026-05-01T10:30:00.123Z`
        case rfc3339Milliseconds = "rfc3339_ms"
        case unix
        case unixMilliseconds = "unix_ms"

        public func format(_ date: Date) -> JSONValue {
            switch self {
            case .rfc3339: .string(RFC3339.formatSeconds(date))
            case .rfc3339Milliseconds: .string(RFC3339.format(date))
            case .unix: .integer(Int64(date.timeIntervalSince1970.rounded(.down)))
            case .unixMilliseconds: .integer(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
            }
        }

        public func parse(_ value: JSONValue) -> Date? {
            switch value {
            case .string(let text):
                if let date = RFC3339.parseLenient(text) { return date }
                return Double(text).flatMap(epoch)
            case .integer(let number):
                return epoch(Double(number))
            case .double(let number):
                return epoch(number)
            default:
                return nil
            }
        }

        /// An epoch number as a date within years 0000–9999, the range RFC 3339 can write; NaN,
        /// infinity or 1e300 trapped when the event was encoded (fuzzing found it).
        private func epoch(_ number: Double) -> Date? {
            let seconds = self == .unixMilliseconds ? number / 1000 : number
            guard seconds.isFinite, (-62_167_219_200...253_402_300_799).contains(seconds) else { return nil }
            return Date(timeIntervalSince1970: seconds)
        }
    }

    /// How the poll window reaches the API.
    public struct Window: Sendable {
        /// Parameter for the window start (inclusive); nil: the API takes no window.
        public var startParam: String?
        /// Parameter for the window end (exclusive); nil: the API reads up to now.
        public var endParam: String?
        /// `query` (default) or `body` (top-level fields of the JSON body).
        public var placement: Placement
        public var format: TimeFormat

        public init(startParam: String? = nil, endParam: String? = nil, placement: Placement = .query, format: TimeFormat = .rfc3339) {
            self.startParam = startParam
            self.endParam = endParam
            self.placement = placement
            self.format = format
        }
    }

    public enum Placement: String, Sendable, CaseIterable { case query, body }

    public enum Pagination: Sendable {
        case none
        /// The next page's URL at a dotted path of the body.
        case nextLink(path: String)
        /// `Link: <…>; rel="next"`.
        case linkHeader
        /// `?page=N` from `start`, `size` items per page.
        case page(param: String, start: Int, sizeParam: String?, size: Int)
        /// `?offset=N`, `size` items per page.
        case offset(param: String, sizeParam: String?, size: Int)
        /// An opaque token at `path` of the body, sent back as `param` (query or body); empty or null ends.
        case cursor(param: String, path: String, placement: Placement)
    }

    /// Dotted paths of each item that fill the schema; `value_maps` translate upstream words.
    public struct Mapping: Sendable {
        public var fields: [String: String] = [:]
        public var valueMaps: [String: [String: String]] = [:]
        /// Used when no `event_type` field or map applies. Default: other.
        public var defaultEventType: AuditEvent.EventType = .other
        public static let keys = [
            "action", "event_type", "outcome", "severity", "message", "actor_id", "actor_name", "actor_email", "actor_type",
            "actor_ip", "target_type", "target_id", "target_name", "target_location", "organization", "project",
        ]

        public init() {}
    }

    public init(
        name: String, method: String = "GET", url: URL, headers: [String: String] = [:], auth: HTTPAuth? = nil, body: JSONValue? = nil,
        window: Window = Window(), itemsPath: String = "", idField: String = "id", timeField: String = "created_at",
        timeFormat: TimeFormat = .rfc3339, order: Order = .oldestFirst, pagination: Pagination = .none, mapping: Mapping = Mapping()
    ) {
        self.name = name
        self.method = method
        self.url = url
        self.headers = headers
        self.auth = auth
        self.body = body
        self.window = window
        self.itemsPath = itemsPath
        self.idField = idField
        self.timeField = timeField
        self.timeFormat = timeFormat
        self.order = order
        self.pagination = pagination
        self.mapping = mapping
    }
}

extension JSONValue {
    /// The value at a dotted path (`data.items`, `actor.login`); an empty path is the value itself.
    public func value(at path: String) -> JSONValue? {
        guard !path.isEmpty else { return self }
        var current: JSONValue? = self
        for key in path.split(separator: ".") {
            if let index = Int(key), case .array(let array)? = current {
                current = array.indices.contains(index) ? array[index] : nil
            } else {
                current = current?[String(key)]
            }
        }
        return current
    }

    /// Sets a top-level field of an object (other values are left alone).
    mutating func set(_ key: String, _ value: JSONValue) {
        guard case .object(var object) = self else { return }
        object[key] = value
        self = .object(object)
    }
}
