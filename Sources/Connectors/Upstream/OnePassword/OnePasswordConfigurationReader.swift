import Foundation

/// The keys of a `type: onepassword` source entry (see docs/configuration.md), read into its connector.
extension OnePasswordSource {
    /// `region` (`us`, `ent`, `ca`, `eu`) or `base_url`; `token`; `streams`; `page_size`.
    public static func read(_ reader: any ConfigurationKeys, name: String) -> OnePasswordSource? {
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
}
