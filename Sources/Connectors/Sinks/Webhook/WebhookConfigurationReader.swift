import Foundation

/// The keys of a `type: webhook` sink entry (see docs/configuration.md), read into its connector.
extension WebhookSink {
    public static func read(_ reader: any ConfigurationKeys, name: String, batchSize: Int) -> WebhookSink? {
        let url = reader.url("url", required: true)
        let auth = reader.authSection()
        let secret = reader.secret("signing_secret").map(Secret.init)
        if let secret, WebhookSignature.key(fromSecret: secret.reveal()) == nil {
            reader.fail("signing_secret", "must be whsec_ followed by base64")
        }
        guard let url else { return nil }
        return try? WebhookSink(
            configuration: WebhookConfiguration(name: name, url: url, auth: auth, signingSecret: secret, batchSize: batchSize))
    }
}
