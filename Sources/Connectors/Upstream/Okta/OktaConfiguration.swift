import Foundation

/// `type: okta` — the Okta System Log.
public struct OktaConfiguration: Sendable {
    public var name: String
    /// `https://{domain}`, or `base_url`.
    public var baseURL: URL
    /// An API token (`Authorization: SSWS …`) or an OAuth access token (`Bearer …`).
    public var auth: HTTPAuth
    /// Events per page, 1…1000. Default: 1000 (fewest requests against Okta's rate limit).
    public var pageSize: Int
    /// Okta's own `filter` (SCIM expression, e.g. `eventType eq "user.session.start"`) and `q`.
    public var filter: String?
    public var query: String?

    public static let maximumPageSize = 1000
    /// The System Log keeps 90 days.
    public static let retention: TimeInterval = 90 * 86400

    public init(name: String, baseURL: URL, auth: HTTPAuth, pageSize: Int = maximumPageSize, filter: String? = nil, query: String? = nil) {
        self.name = name
        self.baseURL = baseURL
        self.auth = auth
        self.pageSize = pageSize
        self.filter = filter
        self.query = query
    }

    /// An SSWS API token's header.
    public static func apiToken(_ token: Secret) -> HTTPAuth {
        .scheme("SSWS", token)
    }
}
