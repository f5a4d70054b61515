import Foundation

/// `type: deploys` — the deploys.app audit log.
public struct DeploysConfiguration: Sendable {
    public var name: String
    /// Default: `https://api.deploys.app`.
    public var baseURL: URL
    /// Required: the project whose audit log is read.
    public var project: String
    public var auth: Auth
    /// Items per request (`limit`). Default: 100, the API's maximum.
    public var pageSize: Int
    /// Optional upstream filters, passed as request fields.
    public var resourceType: String?
    public var actor: String?
    public var channel: String?
    public var outcome: String?
    /// RPC method name; clients spell it `auditLog.list` or `auditlog.list`. Default: `auditLog.list`.
    public var method: String

    /// A token (Bearer), or a service account's email and key (Basic).
    public typealias Auth = HTTPAuth

    public static let defaultBaseURL = URL(string: "https://api.deploys.app")!
    public static let maximumPageSize = 100

    public init(
        name: String, baseURL: URL = defaultBaseURL, project: String, auth: Auth, pageSize: Int = 100,
        resourceType: String? = nil, actor: String? = nil, channel: String? = nil, outcome: String? = nil,
        method: String = "auditLog.list"
    ) {
        self.name = name
        self.baseURL = baseURL
        self.project = project
        self.auth = auth
        self.pageSize = pageSize
        self.resourceType = resourceType
        self.actor = actor
        self.channel = channel
        self.outcome = outcome
        self.method = method
    }
}
