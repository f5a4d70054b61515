import Crypto
import Foundation

/// Standard Webhooks v1 signing, as the receiver verifies it.
public enum StandardWebhooks {
    /// `v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.{body}` over the exact body bytes,
    /// keyed with the base64-decoded part of `whsec_<base64>`. Nil when the secret is malformed.
    public static func signature(secret: String, id: String, timestamp: String, body: Data) -> String? {
        guard let key = key(fromSecret: secret) else { return nil }
        return "v1," + Data(mac(key: key, id: id, timestamp: timestamp, body: body)).base64EncodedString()
    }

    /// True when any `v1,…` entry of the space-separated `webhook-signature` header matches.
    /// Other versions are ignored, as the specification asks.
    public static func verify(secret: String, id: String, timestamp: String, body: Data, signatureHeader: String) -> Bool {
        guard let key = key(fromSecret: secret) else { return false }
        let expected = Array(mac(key: key, id: id, timestamp: timestamp, body: body))
        return signatureHeader.split(separator: " ").contains { entry in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let given = Data(base64Encoded: String(parts[1])) else { return false }
            return constantTimeEqual(Array(given), expected)
        }
    }

    /// The HMAC key: base64 after the `whsec_` prefix (the prefix is optional, as in the reference libraries).
    static func key(fromSecret secret: String) -> SymmetricKey? {
        var encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard !encoded.isEmpty else { return nil }
        if encoded.count % 4 != 0 { encoded += String(repeating: "=", count: 4 - encoded.count % 4) }
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else { return nil }
        return SymmetricKey(data: bytes)
    }

    private static func mac(key: SymmetricKey, id: String, timestamp: String, body: Data) -> HashedAuthenticationCode<SHA256> {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: Data("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return hmac.finalize()
    }

    /// No early exit, so timing does not reveal how much of a guess was right.
    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
