import Foundation

/// The keys of a `type: github` source entry (see docs/configuration.md), read into its connector.
extension GitHubSource {
    /// `enterprise` or `organization`; `base_url` (GitHub Enterprise Server); `token`; `include`; `page_size`.
    public static func read(_ reader: any ConfigurationKeys, name: String) -> GitHubSource? {
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
}
