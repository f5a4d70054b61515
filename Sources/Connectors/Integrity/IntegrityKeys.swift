import Crypto
import Foundation

/// An Ed25519 signing key for a sink's chain (`sinks[].integrity.signing_key`): 32 bytes, base64.
public struct IntegritySigner: Sendable {
    /// The raw key: Crypto's key types are not Sendable, and a signature per batch can afford
    /// making one.
    private let raw: Data
    private var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: raw) }
    /// Names the key in every signature, so `verify` knows which public key to try (rotation).
    public let keyID: String

    /// nil when `base64` is not 32 bytes of base64.
    public init?(base64: String) {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { return nil }
        self.raw = raw
        keyID = IntegrityVerifierKey.keyID(of: key.publicKey.rawRepresentation)
    }

    /// A new key pair, both base64: what `keygen` prints.
    public static func generate() -> (signingKey: String, publicKey: String) {
        let key = Curve25519.Signing.PrivateKey()
        return (key.rawRepresentation.base64EncodedString(), key.publicKey.rawRepresentation.base64EncodedString())
    }

    public var publicKey: String { key.publicKey.rawRepresentation.base64EncodedString() }

    /// Base64 of the Ed25519 signature of `message`.
    public func sign(_ message: Data) -> String {
        ((try? key.signature(for: message)) ?? Data()).base64EncodedString()
    }
}

/// A public key `verify` checks signatures with.
public struct IntegrityVerifierKey: Sendable {
    private let raw: Data
    private var key: Curve25519.Signing.PublicKey { try! Curve25519.Signing.PublicKey(rawRepresentation: raw) }
    public let keyID: String

    public init?(base64: String) {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
            (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil
        else { return nil }
        self.raw = raw
        keyID = Self.keyID(of: raw)
    }

    public func verifies(_ signature: String, for message: Data) -> Bool {
        guard let bytes = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(bytes, for: message)
    }

    /// The first 8 bytes of SHA-256 over the raw public key, hex.
    static func keyID(of publicKey: Data) -> String {
        SHA256.hash(data: publicKey).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
