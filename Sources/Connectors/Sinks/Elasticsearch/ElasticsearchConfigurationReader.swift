import Foundation

/// The keys of a `type: elastic` sink entry (see docs/configuration.md), read into its connector.
extension ElasticsearchSink {
    public static func read(_ reader: any ConfigurationKeys, name: String) -> ElasticsearchSink? {
        let endpoint = reader.url("endpoint", required: true)
        let index = reader.requiredString("index")
        var auth: ElasticsearchConfiguration.Auth?
        let apiKey = reader.secret("api_key")
        let username = reader.string("username")
        let password = reader.secret("password")
        switch (apiKey, username, password) {
        case (let key?, nil, nil): auth = .apiKey(Secret(key))
        case (nil, let user?, let password?): auth = .basic(user: user, password: Secret(password))
        case (nil, nil, nil): auth = nil
        default: reader.fail("api_key", "give api_key, or username and password, not both")
        }
        let pipeline = reader.string("pipeline")
        guard let endpoint, let index else { return nil }
        do {
            return try ElasticsearchSink(
                configuration: .init(name: name, endpoint: endpoint, auth: auth, index: index, pipeline: pipeline))
        } catch {
            reader.fail("index", "\(error)")
            return nil
        }
    }
}
