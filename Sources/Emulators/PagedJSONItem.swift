import Foundation

/// One item of the generic paginated API:
/// `{"uuid", "ts", "kind", "who": {"login"}, "detail"}`.
public struct PagedJSONItem: Sendable, Equatable {
    public var uuid: String
    /// Served as RFC 3339 in UTC with whole seconds; the emulator drops any fraction.
    public var ts: Date
    public var kind: String
    public var login: String
    public var detail: String

    public init(uuid: String, ts: Date, kind: String = "user.login", login: String = "alice", detail: String = "") {
        self.uuid = uuid
        self.ts = ts
        self.kind = kind
        self.login = login
        self.detail = detail
    }

    var json: String {
        var out = #"{"uuid":"# + JSONText.quote(uuid)
        out += #","ts":"# + JSONText.quote(RFC3339.format(seconds: Int64(ts.timeIntervalSince1970.rounded(.down))))
        out += #","kind":"# + JSONText.quote(kind)
        out += #","who":{"login":"# + JSONText.quote(login)
        out += #"},"detail":"# + JSONText.quote(detail) + "}"
        return out
    }
}

/// A stored item with its sort key worked out once.
struct StoredPagedItem: TimeOrdered {
    var item: PagedJSONItem
    /// Whole seconds since the epoch.
    var orderTime: Int64
    var orderID: String { item.uuid }

    init(_ item: PagedJSONItem) {
        var item = item
        self.orderTime = Int64(item.ts.timeIntervalSince1970.rounded(.down))
        item.ts = Date(timeIntervalSince1970: Double(orderTime))
        self.item = item
    }
}
