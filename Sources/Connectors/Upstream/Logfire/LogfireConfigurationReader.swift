import Foundation

/// The keys of a `type: logfire` source entry (see docs/configuration.md), read into its connector.
extension LogfireSource {
    public static func read(_ reader: any ConfigurationKeys, name: String) -> LogfireSource? {
        let baseURL = reader.baseURL(regions: ["us", "eu"], LogfireConfiguration.regionURL)
        let token = reader.requiredSecret("token")
        let fetchDetails = reader.bool("fetch_details", default: false)
        let action = reader.string("action")
        if let action, !["LOGIN", "LOGOUT", "INSERT", "UPDATE", "DELETE"].contains(action) {
            reader.fail("action", "must be one of LOGIN, LOGOUT, INSERT, UPDATE, DELETE")
        }
        guard let token else { return nil }
        return LogfireSource(
            configuration: .init(
                name: name, baseURL: baseURL ?? LogfireConfiguration.regionURL("us")!, token: Secret(token),
                fetchDetails: fetchDetails, action: action))
    }
}
