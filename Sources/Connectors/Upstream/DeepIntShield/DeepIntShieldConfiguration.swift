import Foundation

/// `type: deepintshield` — DeepIntShield audit logs through `POST /api/audit-logs/query`.
public struct DeepIntShieldConfiguration: Sendable {
    public var name: String
    /// Required, e.g. `https://shield.company.com`.
    public var baseURL: URL
    public var auth: HTTPAuth
    /// `limit` per page. Default: 100, the API's maximum.
    public var pageSize: Int
    /// Passed upstream; empty lists are omitted.
    public var filters: Filters

    public struct Filters: Sendable, Equatable {
        public var eventTypes: [String] = []
        public var actions: [String] = []
        public var resourceTypes: [String] = []
        public var severity: [String] = []
        public var status: [String] = []
        public var userIDs: [String] = []
        public var emails: [String] = []
        public var ipAddresses: [String] = []
        public var query: String?

        public init() {}
    }

    public static let maximumPageSize = 100

    public init(name: String, baseURL: URL, auth: HTTPAuth, pageSize: Int = 100, filters: Filters = Filters()) {
        self.name = name
        self.baseURL = baseURL
        self.auth = auth
        self.pageSize = pageSize
        self.filters = filters
    }
}
