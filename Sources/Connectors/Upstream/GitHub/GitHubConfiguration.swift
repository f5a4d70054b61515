import Foundation

/// `type: github` — the audit log of a GitHub enterprise or organization.
public struct GitHubConfiguration: Sendable {
    public enum Scope: Sendable, Equatable {
        case enterprise(String)
        case organization(String)
    }

    public var name: String
    /// Default `https://api.github.com`; `https://HOST/api/v3` for GitHub Enterprise Server.
    public var baseURL: URL
    public var scope: Scope
    /// A token with `read:audit_log` (enterprise) or an organization owner's `read:org`.
    public var token: Secret
    /// `web` (the API's default: no `git.*` events), `git`, or `all`.
    public var include: String
    /// Events per page, 1…100. Default: 100.
    public var pageSize: Int

    public static let defaultBaseURL = URL(string: "https://api.github.com")!
    public static let includes = ["web", "git", "all"]

    public init(name: String, baseURL: URL = defaultBaseURL, scope: Scope, token: Secret, include: String = "web", pageSize: Int = 100) {
        self.name = name
        self.baseURL = baseURL
        self.scope = scope
        self.token = token
        self.include = include
        self.pageSize = pageSize
    }

    var path: String {
        switch scope {
        case .enterprise(let slug): "/enterprises/\(slug)/audit-log"
        case .organization(let login): "/orgs/\(login)/audit-log"
        }
    }
}
