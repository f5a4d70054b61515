import Crypto
import Foundation

/// The tamper-evident chain a sink's events carry (`sinks[].integrity`): per sink and source, a
/// sequence number without gaps, the previous event's hash and this event's hash over the
/// previous hash and the event's canonical bytes; the last event of each chain in a batch also
/// carries an Ed25519 signature over the chain head.
///
/// Canonical bytes: the event as delivered, parsed, without its `integrity` member (top level;
/// `unmapped.integrity` for OCSF), written as compact JSON with sorted keys. A verifier recomputes
/// them from what the SIEM stores, whatever key order or spacing the SIEM gives it back in.
public enum IntegrityChain {
    /// The `prev` of a chain's first event.
    public static let genesis = String(repeating: "0", count: 64)
    public static let version: Int64 = 1

    /// Where one event stands in its chain.
    public struct Link: Sendable, Equatable {
        public var sink: String
        public var source: String
        public var seq: Int64
        public var previous: String
        public var hash: String
        /// On the last event of its chain in a batch.
        public var signature: String?
        public var keyID: String?

        public init(sink: String, source: String, seq: Int64, previous: String, hash: String, signature: String? = nil, keyID: String? = nil) {
            self.sink = sink
            self.source = source
            self.seq = seq
            self.previous = previous
            self.hash = hash
            self.signature = signature
            self.keyID = keyID
        }

        /// The `integrity` object as delivered.
        public var json: JSONValue {
            var object: [String: JSONValue] = [
                "v": .integer(IntegrityChain.version), "sink": .string(sink), "source": .string(source), "seq": .integer(seq),
                "prev": .string(previous), "hash": .string(hash),
            ]
            if let signature { object["sig"] = .string(signature) }
            if let keyID { object["kid"] = .string(keyID) }
            return .object(object)
        }

        /// Read back from a delivered event's `integrity` object; nil when it is not one.
        public init?(json: JSONValue) {
            guard case .object(let object) = json, let sink = object["sink"]?.stringValue, let source = object["source"]?.stringValue,
                case .integer(let seq)? = object["seq"], let previous = object["prev"]?.stringValue, let hash = object["hash"]?.stringValue
            else { return nil }
            self.init(
                sink: sink, source: source, seq: seq, previous: previous, hash: hash, signature: object["sig"]?.stringValue,
                keyID: object["kid"]?.stringValue)
        }

        /// `seq=12; hash=…; sig=…`: the webhook header's form.
        public var headerValue: String {
            var parts = ["v=\(IntegrityChain.version)", "sink=\(sink)", "source=\(source)", "seq=\(seq)", "hash=\(hash)"]
            if let signature, let keyID { parts += ["kid=\(keyID)", "sig=\(signature)"] }
            return parts.joined(separator: "; ")
        }
    }

    /// The event's canonical bytes and its parsed value. `ocsf`: the integrity member sits in `unmapped`.
    public static func canonical(_ body: Data) throws -> (bytes: Data, value: JSONValue) {
        try canonical(JSONValue.parse(body))
    }

    /// The same, for an event already parsed.
    public static func canonical(_ parsed: JSONValue) throws -> (bytes: Data, value: JSONValue) {
        var value = parsed
        guard case .object(var object) = value else { throw MalformedPayload(reason: "an event must be a JSON object", excerpt: "") }
        object["integrity"] = nil
        if case .object(var unmapped)? = object["unmapped"], unmapped["integrity"] != nil {
            unmapped["integrity"] = nil
            object["unmapped"] = .object(unmapped)
        }
        value = .object(object)
        return (JSONWriter.write(value), value)
    }

    /// SHA-256 over the previous hash (hex), a newline and the canonical bytes; lower-case hex.
    public static func hash(previous: String, canonical: Data) -> String {
        var hasher = SHA256()
        hasher.update(data: Data(previous.utf8))
        hasher.update(data: Data([0x0A]))
        hasher.update(data: canonical)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// What a signature covers: the chain head.
    public static func signedMessage(sink: String, source: String, seq: Int64, hash: String) -> Data {
        Data("audit-forwarder-chain-v\(version)\n\(sink)\n\(source)\n\(seq)\n\(hash)".utf8)
    }

    /// `body` with the link attached: a top-level `integrity` member, or `unmapped.integrity` for
    /// OCSF (whose schema allows no other place). `parsed` is the body's value without a link.
    public static func attach(_ link: Link, to body: Data, parsed: JSONValue, ocsf: Bool) -> Data {
        guard case .object(var object) = parsed else { return body }
        if ocsf {
            var unmapped = object["unmapped"]?.objectValue ?? [:]
            unmapped["integrity"] = link.json
            object["unmapped"] = .object(unmapped)
            return JSONWriter.write(.object(object))
        }
        // Appended, not written again: the native `raw` keeps the upstream's own text.
        guard let close = body.lastIndex(of: UInt8(ascii: "}")) else { return body }
        var sealed = Data(body[body.startIndex..<close])
        let hasMembers = sealed.contains { !($0 == UInt8(ascii: "{") || $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        sealed.append(contentsOf: (hasMembers ? ",\"integrity\":" : "\"integrity\":").utf8)
        sealed.append(JSONWriter.write(link.json))
        sealed.append(UInt8(ascii: "}"))
        return sealed
    }
}
