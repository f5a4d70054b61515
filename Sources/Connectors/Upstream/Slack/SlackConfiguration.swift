import Foundation

/// `type: slack` — Slack Audit Logs (Enterprise Grid; a user token with `auditlogs:read`).
public struct SlackConfiguration: Sendable {
    public var name: String
    /// Default `https://api.slack.com`.
    public var baseURL: URL
    public var token: Secret
    /// Entries per page, 1…9999. Default: 1000.
    public var pageSize: Int
    /// Only these actions (`action`, comma-separated upstream). Default: all.
    public var actions: [String]

    public static let defaultBaseURL = URL(string: "https://api.slack.com")!
    public static let maximumPageSize = 9999

    public init(name: String, baseURL: URL = defaultBaseURL, token: Secret, pageSize: Int = 1000, actions: [String] = []) {
        self.name = name
        self.baseURL = baseURL
        self.token = token
        self.pageSize = pageSize
        self.actions = actions
    }
}
