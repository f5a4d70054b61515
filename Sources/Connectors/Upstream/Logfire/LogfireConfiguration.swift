import Foundation

/// `type: logfire` — Pydantic Logfire organization audit logs.
public struct LogfireConfiguration: Sendable {
    public var name: String
    /// From `region` (`us` default, `eu`) or `base_url`; includes the `/api` prefix.
    public var baseURL: URL
    /// A token with scope `organizations:auditlog`.
    public var token: Secret
    /// Fetch `/v1/audit-logs/{id}/` for UPDATE entries, to put `downgrade_patches` into `changes`. Default: false.
    public var fetchDetails: Bool
    /// Optional `action` filter (LOGIN, LOGOUT, INSERT, UPDATE, DELETE).
    public var action: String?

    /// The API refuses windows longer than this (HTTP 400); longer spans are split.
    public static let maximumWindow: TimeInterval = 90 * 86400

    public static func regionURL(_ region: String) -> URL? {
        switch region {
        case "us": URL(string: "https://api-us.pydantic.dev/api")
        case "eu": URL(string: "https://api-eu.pydantic.dev/api")
        default: nil
        }
    }

    public init(name: String, baseURL: URL, token: Secret, fetchDetails: Bool = false, action: String? = nil) {
        self.name = name
        self.baseURL = baseURL
        self.token = token
        self.fetchDetails = fetchDetails
        self.action = action
    }
}
