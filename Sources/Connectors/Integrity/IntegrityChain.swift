import Crypto
import Foundation

/// The tamper-evident chain a sink's events carry (`sinks[].integrity`): per sink and source, a
/// sequence number without gaps, the previous event's hash and this event's hash over the
/// previous hash and the event's canonical bytes; the last event of each chain in a batch also
/// carries an Ed25519 signature over the chain head.
///
/// What a hash covers: the event's bytes as encoded for the sink, before the link was added.
/// ECS and OCSF events are written compact with sorted keys, so those bytes are also their
/// canonical form (parsed, the `integrity` member removed, written again compact and sorted): a
/// verifier recomputes them from a SIEM that re-serializes. A native event's `raw` keeps the
/// upstream's own text, so its bytes are taken as they are: the link is appended to them, and a
/// verifier that has the line (a file, a webhook body, Splunk's `_raw`) cuts it off again.
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

        /// `json` as compact JSON with sorted keys, written directly: what is appended to every
        /// event (the general writer's sorted dictionary cost more than the hash). Names are
        /// restricted to letters, digits, `_`, `-` and `.`, hashes are hex and signatures
        /// base64, so nothing needs escaping.
        public var jsonBytes: Data {
            var bytes: [UInt8] = []
            write(into: &bytes)
            return Data(bytes)
        }

        /// `jsonBytes`, appended to `bytes` (one buffer per sealed event, sized once).
        func write(into bytes: inout [UInt8]) {
            func member(_ name: StaticString, _ value: String, first: Bool = false) {
                bytes.append(contentsOf: (first ? "{\"" : ",\"").utf8)
                bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
                bytes.append(contentsOf: "\":\"".utf8)
                bytes.append(contentsOf: value.utf8)
                bytes.append(UInt8(ascii: "\""))
            }
            member("hash", hash, first: true)
            if let keyID { member("kid", keyID) }
            member("prev", previous)
            bytes.append(contentsOf: ",\"seq\":".utf8)
            bytes.append(contentsOf: String(seq).utf8)
            if let signature { member("sig", signature) }
            member("sink", sink)
            member("source", source)
            bytes.append(contentsOf: ",\"v\":".utf8)
            bytes.append(contentsOf: String(IntegrityChain.version).utf8)
            bytes.append(UInt8(ascii: "}"))
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

    /// The event's bytes as hashed, recovered from a delivered text that holds it whole (a file
    /// line, a webhook body, Splunk's `_raw`): the text without the appended link. nil when the
    /// text does not end with that link (an OCSF event, or a SIEM that re-serialized it).
    public static func unsealed(_ text: Substring, link: Link) -> Data? {
        var suffix = Data(",\"integrity\":".utf8)
        suffix.append(link.jsonBytes)
        suffix.append(UInt8(ascii: "}"))
        let bytes = Data(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard bytes.count > suffix.count, bytes.suffix(suffix.count) == suffix else { return nil }
        var original = Data(bytes.prefix(bytes.count - suffix.count))
        original.append(UInt8(ascii: "}"))
        return original
    }

    /// SHA-256 over the previous hash (hex), a newline and the canonical bytes; lower-case hex.
    public static func hash(previous: String, canonical: Data) -> String {
        var hasher = SHA256()
        var head = Array(previous.utf8)
        head.append(0x0A)
        hasher.update(data: head)
        hasher.update(data: canonical)
        return hex(hasher.finalize())
    }

    /// Lower-case hex, from a table: `String(format:)` per byte cost more than the hash itself.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(64)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// What a signature covers: the chain head.
    public static func signedMessage(sink: String, source: String, seq: Int64, hash: String) -> Data {
        Data("audit-forwarder-chain-v\(version)\n\(sink)\n\(source)\n\(seq)\n\(hash)".utf8)
    }

    /// `body` with the link attached: a top-level `integrity` member, or `unmapped.integrity` for
    /// OCSF (whose schema allows no other place; `parsed` is then the body's value, without a link).
    public static func attach(_ link: Link, to body: Data, parsed: JSONValue, ocsf: Bool) -> Data {
        if ocsf {
            guard case .object(var object) = parsed else { return body }
            var unmapped = object["unmapped"]?.objectValue ?? [:]
            unmapped["integrity"] = link.json
            object["unmapped"] = .object(unmapped)
            return JSONWriter.write(.object(object))
        }
        // Appended, not written again: the native `raw` keeps the upstream's own text.
        guard let close = body.lastIndex(of: UInt8(ascii: "}")) else { return body }
        var sealed: [UInt8] = []
        sealed.reserveCapacity(body.count + 320)
        sealed.append(contentsOf: body[body.startIndex..<close])
        // An empty object is `{` and whitespace only: look back from the end, not through it all.
        let hasMembers = sealed.last { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) } != UInt8(ascii: "{")
        sealed.append(contentsOf: (hasMembers ? ",\"integrity\":" : "\"integrity\":").utf8)
        link.write(into: &sealed)
        sealed.append(UInt8(ascii: "}"))
        return Data(sealed)
    }
}
