import Foundation

/// The keys of a `type: deepintshield` source entry (see docs/configuration.md), read into its connector.
extension DeepIntShieldSource {
    public static func read(_ reader: any ConfigurationKeys, name: String) -> DeepIntShieldSource? {
        let baseURL = reader.url("base_url", required: true)
        let pageSize = reader.int(
            "page_size", default: DeepIntShieldConfiguration.maximumPageSize, range: 1...DeepIntShieldConfiguration.maximumPageSize)
        let auth = reader.tokenOrBasicAuth()
        var filters = DeepIntShieldConfiguration.Filters()
        if let f = reader.section("filters") {
            filters.eventTypes = f.stringList("event_types") ?? []
            filters.actions = f.stringList("actions") ?? []
            filters.resourceTypes = f.stringList("resource_types") ?? []
            filters.severity = f.stringList("severity") ?? []
            filters.status = f.stringList("status") ?? []
            filters.userIDs = f.stringList("user_ids") ?? []
            filters.emails = f.stringList("emails") ?? []
            filters.ipAddresses = f.stringList("ip_addresses") ?? []
            filters.query = f.string("query")
            f.rejectUnknownKeys()
        }
        guard let baseURL, let auth else { return nil }
        return DeepIntShieldSource(
            configuration: .init(name: name, baseURL: baseURL, auth: auth, pageSize: pageSize, filters: filters))
    }
}
