import Foundation

/// The keys of a `type: slack` source entry (see docs/configuration.md), read into its connector.
extension SlackSource {
    /// `token`; `base_url`; `actions`; `page_size`.
    public static func read(_ reader: any ConfigurationKeys, name: String) -> SlackSource? {
        let baseURL = reader.url("base_url", required: false) ?? SlackConfiguration.defaultBaseURL
        let token = reader.requiredSecret("token")
        let actions = reader.stringList("actions") ?? []
        let pageSize = reader.int("page_size", default: 1000, range: 1...SlackConfiguration.maximumPageSize)
        guard let token else { return nil }
        return SlackSource(configuration: .init(name: name, baseURL: baseURL, token: Secret(token), pageSize: pageSize, actions: actions))
    }
}
