import Foundation

/// The keys of a `type: splunk` sink entry (see docs/configuration.md), read into its connector.
extension SplunkHECSink {
    public static func read(_ reader: any ConfigurationKeys, name: String) -> SplunkHECSink? {
        // Every key is read before any is judged: a missing endpoint or token is one error, not
        // also "unknown key" for each optional key after it.
        let endpoint = reader.url("hec_endpoint", required: true)
        let token = reader.requiredSecret("hec_token")
        let (sourceType, index, host) = (reader.string("source_type"), reader.string("index"), reader.string("host"))
        let (source, channel) = (reader.string("source") ?? "audit-forwarder", reader.string("channel"))
        let acknowledgements = reader.bool("acknowledgements", default: false)
        guard let endpoint, let token else { return nil }
        let configuration = SplunkHECConfiguration(
            name: name, endpoint: endpoint, token: Secret(token), sourceType: sourceType, index: index, host: host, source: source,
            acknowledgements: acknowledgements, channel: channel)
        do {
            return try SplunkHECSink(configuration: configuration)
        } catch {
            reader.fail(nil, "\(error)")
            return nil
        }
    }
}
