import Foundation

/// One accepted (2xx) webhook request.
public struct WebhookDelivery: Sendable {
    /// `webhook-id`: the same on every retry of one message ("" when absent).
    public var webhookID: String
    /// `webhook-timestamp`, unix seconds as sent ("" when absent).
    public var timestamp: String
    /// Nil when the receiver has no signing secret; otherwise always true (bad signatures are refused).
    public var signatureValid: Bool?
    /// The exact body bytes.
    public var body: Data
    /// The `"id"` of each event in the body (one JSON object, or an array of them), in order.
    public var eventIDs: [String]

    public init(webhookID: String, timestamp: String, signatureValid: Bool?, body: Data, eventIDs: [String]) {
        self.webhookID = webhookID
        self.timestamp = timestamp
        self.signatureValid = signatureValid
        self.body = body
        self.eventIDs = eventIDs
    }
}
