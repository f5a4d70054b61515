import Crypto
import Foundation

/// Standard Webhooks v1: `v1,` + base64 HMAC-SHA256 over `{id}.{timestamp}.{body}`,
/// keyed with the base64-decoded part of `whsec_<base64>`.
public enum WebhookSignature {
    public static let secretPrefix = "whsec_"

    /// The HMAC key of a signing secret, or nil when it is not `whsec_` + base64.
    public static func key(fromSecret secret: String) -> SymmetricKey? {
        let encoded = secret.hasPrefix(secretPrefix) ? String(secret.dropFirst(secretPrefix.count)) : secret
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else { return nil }
        return SymmetricKey(data: bytes)
    }

    public static func sign(key: SymmetricKey, id: String, timestamp: Int64, body: Data) -> String {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }
}
