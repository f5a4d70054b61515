import Foundation

/// The keys of a `type: okta` source entry (see docs/configuration.md), read into its connector.
extension OktaSource {
    /// `domain: acme.okta.com` or `base_url`; `token` (an API token, sent as `SSWS`) or
    /// `oauth_token` (sent as `Bearer`); `filter`, `q`, `page_size`.
    public static func read(_ reader: any ConfigurationKeys, name: String) -> OktaSource? {
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
}
