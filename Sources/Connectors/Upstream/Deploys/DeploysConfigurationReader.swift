import Foundation

/// The keys of a `type: deploys` source entry (see docs/configuration.md), read into its connector.
extension DeploysSource {
    public static func read(_ reader: any ConfigurationKeys, name: String) -> DeploysSource? {
        let baseURL = reader.url("base_url", required: false) ?? DeploysConfiguration.defaultBaseURL
        let project = reader.requiredString("project")
        let pageSize = reader.int("page_size", default: DeploysConfiguration.maximumPageSize, range: 1...DeploysConfiguration.maximumPageSize)
        let auth = reader.tokenOrBasicAuth()
        let filters = reader.section("filters")
        let resourceType = filters?.string("resource_type")
        let actor = filters?.string("actor")
        let channel = filters?.string("channel")
        let outcome = filters?.string("outcome")
        filters?.rejectUnknownKeys()
        guard let project, let auth else { return nil }
        return DeploysSource(
            configuration: DeploysConfiguration(
                name: name, baseURL: baseURL, project: project, auth: auth, pageSize: pageSize,
                resourceType: resourceType, actor: actor, channel: channel, outcome: outcome))
    }
}
