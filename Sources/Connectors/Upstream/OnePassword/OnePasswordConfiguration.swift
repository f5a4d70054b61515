import Foundation

/// `type: onepassword` — the 1Password Events API (Business; a bearer token from an Events
/// Reporting integration, with the streams it was issued for).
public struct OnePasswordConfiguration: Sendable {
    public var name: String
    /// From `region` (`us` default, `ent`, `ca`, `eu`) or `base_url`.
    public var baseURL: URL
    public var token: Secret
    /// Which streams to read, in order: `auditevents`, `signinattempts`, `itemusages`. Default: auditevents.
    public var streams: [String]
    /// Items per request, 1…1000. Default: 1000.
    public var pageSize: Int

    public static let streamNames = ["auditevents", "signinattempts", "itemusages"]
    public static let maximumPageSize = 1000
    /// Events are kept 120 days.
    public static let retention: TimeInterval = 120 * 86400

    public static func regionURL(_ region: String) -> URL? {
        switch region {
        case "us": URL(string: "https://events.1password.com")
        case "ent": URL(string: "https://events.ent.1password.com")
        case "ca": URL(string: "https://events.1password.ca")
        case "eu": URL(string: "https://events.1password.eu")
        default: nil
        }
    }

    public init(name: String, baseURL: URL, token: Secret, streams: [String] = ["auditevents"], pageSize: Int = maximumPageSize) {
        self.name = name
        self.baseURL = baseURL
        self.token = token
        self.streams = streams
        self.pageSize = pageSize
    }
}
