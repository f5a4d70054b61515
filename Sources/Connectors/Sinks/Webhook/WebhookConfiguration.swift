import Foundation

/// `type: webhook` — Standard Webhooks v1 delivery.
public struct WebhookConfiguration: Sendable {
    public var name: String
    public var url: URL
    public var auth: Auth?
    /// `whsec_<base64>`; when set, every request carries `webhook-signature`.
    public var signingSecret: Secret?
    /// 1 (default): one event object per request, `webhook-id` = the event id. More: a JSON array.
    public var batchSize: Int

    /// Bearer, Basic, or any header (e.g. `X-API-Key`): the same credentials sources take.
    public typealias Auth = HTTPAuth

    public init(name: String, url: URL, auth: Auth? = nil, signingSecret: Secret? = nil, batchSize: Int = 1) {
        self.name = name
        self.url = url
        self.auth = auth
        self.signingSecret = signingSecret
        self.batchSize = batchSize
    }
}
