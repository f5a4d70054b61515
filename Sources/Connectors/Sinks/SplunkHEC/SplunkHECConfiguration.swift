import Crypto
import Foundation

/// `type: splunk` — Splunk HTTP Event Collector, JSON envelopes.
public struct SplunkHECConfiguration: Sendable {
    public var name: String
    /// `hec_endpoint`, e.g. `https://splunk.company.com:8088/services/collector`. A bare
    /// `https://host:8088` gets `/services/collector/event` appended.
    public var endpoint: URL
    /// `hec_token`, sent as `Authorization: Splunk <token>`.
    public var token: Secret
    /// `source_type` (envelope `sourcetype`). Default: none (the token's default).
    public var sourceType: String?
    /// `index`. Default: none (the token's default index).
    public var index: String?
    /// Envelope `host`. Default: none (Splunk uses the sender's address).
    public var host: String?
    /// Envelope `source`. Default: `audit-forwarder`.
    public var source: String
    /// `acknowledgements`: poll `/services/collector/ack` before counting a batch delivered. Default: false.
    public var acknowledgements: Bool
    /// `X-Splunk-Request-Channel`, a GUID. Default: derived from the sink name, so the channel
    /// (and the ackIds pending on it) survives a restart.
    public var channel: String

    public init(
        name: String, endpoint: URL, token: Secret, sourceType: String? = nil, index: String? = nil, host: String? = nil,
        source: String = "audit-forwarder", acknowledgements: Bool = false, channel: String? = nil
    ) {
        self.name = name
        self.endpoint = endpoint
        self.token = token
        self.sourceType = sourceType
        self.index = index
        self.host = host
        self.source = source
        self.acknowledgements = acknowledgements
        self.channel = channel ?? Self.derivedChannel(sinkName: name)
    }

    /// A name-based (version 5, RFC 9562) UUID of the sink name in our own namespace: the same
    /// name always gives the same channel, different sinks get different channels.
    public static func derivedChannel(sinkName: String) -> String {
        var input = Data(channelNamespace)
        input.append(contentsOf: sinkName.utf8)
        var bytes = Array(Insecure.SHA1.hash(data: input).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50  // version 5
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC variant
        let hex = AuditEvent.hex(bytes)
        let cuts = [8, 12, 16, 20]
        var text = ""
        for (offset, character) in hex.enumerated() {
            if cuts.contains(offset) { text.append("-") }
            text.append(character)
        }
        return text
    }

    /// 75f53826-9331-4ef8-ad63-33b00395ab11, chosen once for audit-forwarder's HEC channels.
    static let channelNamespace: [UInt8] = [
        0x75, 0xF5, 0x38, 0x26, 0x93, 0x31, 0x4E, 0xF8, 0xAD, 0x63, 0x33, 0xB0, 0x03, 0x95, 0xAB, 0x11,
    ]
}
