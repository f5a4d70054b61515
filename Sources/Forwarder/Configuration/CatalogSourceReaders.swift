import Connectors
import Foundation

/// Reads the type-specific keys of the catalog sources: Okta, 1Password, GitHub, Slack.
enum CatalogSourceReaders {
    /// `domain: acme.okta.com` or `base_url`; `token` (an API token, sent as `SSWS`) or
    /// `oauth_token` (sent as `Bearer`); `filter`, `q`, `page_size`.
    static func okta(_ reader: ConfigReader, name: String) -> OktaSource? {
        var baseURL = reader.url("base_url", required: false)
        if let domain = reader.string("domain") {
            if baseURL != nil {
                reader.fail("domain", "give domain or base_url, not both")
            } else if let url = URL(string: "https://\(domain)"), url.host == domain, !domain.contains("/") {
                baseURL = url
            } else {
                reader.fail("domain", "must be a host name like acme.okta.com")
            }
        } else if baseURL == nil {
            reader.fail("domain", "is required (or base_url)")
        }
        let token = reader.secret("token")
        let oauthToken = reader.secret("oauth_token")
        let pageSize = reader.int("page_size", default: OktaConfiguration.maximumPageSize, range: 1...OktaConfiguration.maximumPageSize)
        let (filter, query) = (reader.string("filter"), reader.string("q"))
        let auth: HTTPAuth?
        switch (token, oauthToken) {
        case (let token?, nil): auth = OktaConfiguration.apiToken(Secret(token))
        case (nil, let oauth?): auth = .bearer(Secret(oauth))
        case (nil, nil):
            if !reader.has("token"), !reader.has("token_file"), !reader.has("oauth_token"), !reader.has("oauth_token_file") {
                reader.fail("token", "is required (an API token), or oauth_token")
            }
            auth = nil
        default:
            reader.fail("oauth_token", "give token or oauth_token, not both")
            auth = nil
        }
        guard let baseURL, let auth else { return nil }
        return OktaSource(configuration: .init(name: name, baseURL: baseURL, auth: auth, pageSize: pageSize, filter: filter, query: query))
    }

    /// `region` (`us`, `ent`, `ca`, `eu`) or `base_url`; `token`; `streams`; `page_size`.
    static func onePassword(_ reader: ConfigReader, name: String) -> OnePasswordSource? {
        let baseURL = reader.baseURL(regions: ["us", "ent", "ca", "eu"], OnePasswordConfiguration.regionURL)
        let token = reader.requiredSecret("token")
        let streams = reader.stringList("streams") ?? ["auditevents"]
        for (index, stream) in streams.enumerated() where !OnePasswordConfiguration.streamNames.contains(stream) {
            reader.fail("streams[\(index)]", "must be one of \(OnePasswordConfiguration.streamNames.joined(separator: ", "))")
        }
        if streams.isEmpty { reader.fail("streams", "must name at least one stream") }
        let pageSize = reader.int(
            "page_size", default: OnePasswordConfiguration.maximumPageSize, range: 1...OnePasswordConfiguration.maximumPageSize)
        guard let token else { return nil }
        return OnePasswordSource(
            configuration: .init(
                name: name, baseURL: baseURL ?? OnePasswordConfiguration.regionURL("us")!, token: Secret(token), streams: streams,
                pageSize: pageSize))
    }

    /// `enterprise` or `organization`; `base_url` (GitHub Enterprise Server); `token`; `include`; `page_size`.
    static func github(_ reader: ConfigReader, name: String) -> GitHubSource? {
        let baseURL = reader.url("base_url", required: false) ?? GitHubConfiguration.defaultBaseURL
        let enterprise = reader.string("enterprise")
        let organization = reader.string("organization")
        let token = reader.requiredSecret("token")
        let include = reader.string("include") ?? "web"
        if !GitHubConfiguration.includes.contains(include) { reader.fail("include", "must be web, git or all") }
        let pageSize = reader.int("page_size", default: 100, range: 1...100)
        let scope: GitHubConfiguration.Scope?
        switch (enterprise, organization) {
        case (let slug?, nil): scope = .enterprise(slug)
        case (nil, let login?): scope = .organization(login)
        case (nil, nil):
            reader.fail("enterprise", "is required (or organization)")
            scope = nil
        default:
            reader.fail("organization", "give enterprise or organization, not both")
            scope = nil
        }
        guard let scope, let token else { return nil }
        return GitHubSource(
            configuration: .init(name: name, baseURL: baseURL, scope: scope, token: Secret(token), include: include, pageSize: pageSize))
    }

    /// `token`; `base_url`; `actions`; `page_size`.
    static func slack(_ reader: ConfigReader, name: String) -> SlackSource? {
        let baseURL = reader.url("base_url", required: false) ?? SlackConfiguration.defaultBaseURL
        let token = reader.requiredSecret("token")
        let actions = reader.stringList("actions") ?? []
        let pageSize = reader.int("page_size", default: 1000, range: 1...SlackConfiguration.maximumPageSize)
        guard let token else { return nil }
        return SlackSource(configuration: .init(name: name, baseURL: baseURL, token: Secret(token), pageSize: pageSize, actions: actions))
    }
}

extension ConfigReader {
    /// `base_url`, or `region` looked up in `regionURL`; not both. nil when neither is given (the
    /// caller's default region), or on an error already reported.
    func baseURL(regions: [String], _ regionURL: (String) -> URL?) -> URL? {
        let baseURL = url("base_url", required: false)
        guard let region = string("region") else { return baseURL }
        if baseURL != nil {
            fail("region", "give region or base_url, not both")
            return baseURL
        }
        guard let url = regionURL(region) else {
            fail("region", "must be one of \(regions.joined(separator: ", ")), got \"\(region)\"")
            return nil
        }
        return url
    }
}
