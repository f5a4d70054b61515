import Crypto
import Foundation

/// Posts events to a Standard Webhooks receiver.
///
/// `webhook-id` is the receiver's idempotency key, so it must be the same on every retry:
/// the event id for a single event, and a hash of the batch's event ids for an array.
public struct WebhookSink: HTTPSinkConnector {
    public static let type = "webhook"
    public let configuration: WebhookConfiguration
    /// The HMAC key's bytes (SymmetricKey itself is not Sendable).
    private let signingKey: Data?
    public var name: String { configuration.name }
    public var origin: URL { configuration.url }

    /// Throws when `signing_secret` is not `whsec_` + base64 (validated at load time).
    public init(configuration: WebhookConfiguration) throws {
        self.configuration = configuration
        if let secret = configuration.signingSecret {
            guard let key = WebhookSignature.key(fromSecret: secret.reveal()) else {
                throw WebhookSinkError.badSigningSecret
            }
            signingKey = key.withUnsafeBytes { Data($0) }
        } else {
            signingKey = nil
        }
    }

    public func makeRequest(batch: [EncodedEvent], now: Date) throws -> WireRequest {
        let body: Data
        if configuration.batchSize == 1, batch.count == 1 {
            body = batch[0].body
        } else {
            body = Self.jsonArray(batch.map(\.body))
        }
        let id = Self.webhookID(for: batch)
        let timestamp = Int64(now.timeIntervalSince1970)
        var headers: [WireRequest.Header] = [
            .init("Content-Type", "application/json"),
            .init("webhook-id", id),
            .init("webhook-timestamp", String(timestamp)),
        ]
        if let signingKey {
            headers.append(
                .init("webhook-signature", WebhookSignature.sign(key: SymmetricKey(data: signingKey), id: id, timestamp: timestamp, body: body)))
        }
        if let auth = configuration.auth { headers.append(auth.header) }
        // The chain head this request ends with (`integrity`): a receiver can check it without
        // parsing the body.
        if let link = batch.last?.integrity { headers.append(.init("audit-forwarder-integrity", link.headerValue)) }
        return WireRequest(method: "POST", url: configuration.url, headers: headers, body: body)
    }

    /// The event id for one event; `msg_` + sha256 of the ids for a batch, so a retried batch keeps its id.
    public static func webhookID(for batch: [EncodedEvent]) -> String {
        if batch.count == 1 { return batch[0].id }
        let digest = SHA256.hash(data: Data(batch.map(\.id).joined(separator: ",").utf8))
        return "msg_" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    static func jsonArray(_ objects: [Data]) -> Data {
        var body = Data("[".utf8)
        body.reserveCapacity(objects.reduce(2) { $0 + $1.count + 1 })
        for (index, object) in objects.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(object)
        }
        body.append(UInt8(ascii: "]"))
        return body
    }
}

public enum WebhookSinkError: Error, CustomStringConvertible {
    case badSigningSecret
    public var description: String { "signing_secret must be whsec_ followed by base64" }
}
