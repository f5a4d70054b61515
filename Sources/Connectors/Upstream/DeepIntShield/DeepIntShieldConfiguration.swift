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

/// Credentials most upstreams take.
public enum HTTPAuth: Sendable {
    case bearer(Secret)
    case basic(user: String, password: Secret)
    /// A named header, e.g. `X-API-Key`.
    case header(name: String, value: Secret)

    /// The header carrying the credential, marked secret so it is redacted in dry runs.
    public var header: WireRequest.Header {
        switch self {
        case .bearer(let token):
            return .init("Authorization", "Bearer " + token.reveal(), isSecret: true)
        case .basic(let user, let password):
            return .init("Authorization", "Basic " + Data((user + ":" + password.reveal()).utf8).base64EncodedString(), isSecret: true)
        case .header(let name, let value):
            return .init(name, value.reveal(), isSecret: true)
        }
    }
}
