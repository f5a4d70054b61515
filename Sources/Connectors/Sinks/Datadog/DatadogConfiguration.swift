import Foundation

/// `type: datadog` — Datadog Logs intake (HTTP API v2).
public struct DatadogConfiguration: Sendable {
    public var name: String
    /// `site`, e.g. `datadoghq.eu`. Default: `datadoghq.com` (when no `endpoint` is set).
    public var site: String?
    /// `endpoint`: overrides `site`, e.g. `http://127.0.0.1:8282` (tests). `/api/v2/logs` is
    /// appended unless the URL already ends with it.
    public var endpoint: URL?
    /// `api_key`, sent as `DD-API-KEY`.
    public var apiKey: Secret
    /// `service`. Default: none.
    public var service: String?
    /// `ddsource`. Default: `audit-forwarder`.
    public var source: String
    /// `tags`, each `key:value`, sent as `ddtags`. Default: none.
    public var tags: [String]
    /// `hostname`. Default: none (Datadog fills in the intake's view of the sender).
    public var hostname: String?

    public init(
        name: String, site: String? = nil, endpoint: URL? = nil, apiKey: Secret, service: String? = nil,
        source: String = "audit-forwarder", tags: [String] = [], hostname: String? = nil
    ) {
        self.name = name
        self.site = site
        self.endpoint = endpoint
        self.apiKey = apiKey
        self.service = service
        self.source = source
        self.tags = tags
        self.hostname = hostname
    }

    public static let defaultSite = "datadoghq.com"

    /// Every Datadog site (PROTOCOLS.md): the intake host is `http-intake.logs.<site>`.
    public static let sites = [
        "datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu", "ap1.datadoghq.com",
        "ap2.datadoghq.com", "ddog-gov.com", "us2.ddog-gov.com", "uk1.datadoghq.com",
    ]

    /// `https://http-intake.logs.<site>/api/v2/logs`, or nil for a site Datadog does not have
    /// (a typo must fail at load time, not as DNS errors at send time). Tolerates the web UI's
    /// spelling (`https://app.datadoghq.eu`).
    public static func intakeURL(site: String) -> URL? {
        var text = site.trimmingCharacters(in: .whitespaces).lowercased()
        for prefix in ["https://", "http://", "app."] where text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
        while text.hasSuffix("/") { text.removeLast() }
        guard sites.contains(text) else { return nil }
        return URL(string: "https://http-intake.logs.\(text)/api/v2/logs")
    }

    /// Where logs go: `endpoint` when set, else the site's intake.
    public var intakeURL: URL? {
        if let endpoint {
            return endpoint.path.hasSuffix(DatadogSink.logsPath) ? endpoint : endpoint.appendingEndpoint(DatadogSink.logsPath)
        }
        return Self.intakeURL(site: site ?? Self.defaultSite)
    }
}
