import Foundation

/// The keys of a `type: datadog` sink entry (see docs/configuration.md), read into its connector.
extension DatadogSink {
    public static func read(_ reader: any ConfigurationKeys, name: String) -> DatadogSink? {
        let apiKey = reader.requiredSecret("api_key")
        let site = reader.string("site")
        let endpoint = reader.url("endpoint", required: false)
        if site != nil, endpoint != nil { reader.fail("endpoint", "give site or endpoint, not both") }
        if let site, DatadogConfiguration.intakeURL(site: site) == nil {
            reader.fail("site", "unknown Datadog site \"\(site)\" (known: \(DatadogConfiguration.sites.joined(separator: ", ")))")
        }
        let (service, source, hostname) = (reader.string("service"), reader.string("source") ?? "audit-forwarder", reader.string("hostname"))
        let tags = reader.stringList("tags") ?? []
        guard let apiKey else { return nil }
        let configuration = DatadogConfiguration(
            name: name, site: site, endpoint: endpoint, apiKey: Secret(apiKey), service: service, source: source, tags: tags,
            hostname: hostname)
        return try? DatadogSink(configuration: configuration)
    }
}
