/// One HEC token's settings, as a Splunk admin would configure it.
public struct SplunkToken: Sendable {
    /// Indexes this token may write to; empty means any. An envelope naming another is code 7.
    public var indexes: [String]
    /// A disabled token is answered 403 code 1.
    public var disabled: Bool
    /// Indexer acknowledgement: requests need `X-Splunk-Request-Channel` and get an `ackId`.
    public var acknowledgements: Bool

    public init(indexes: [String] = [], disabled: Bool = false, acknowledgements: Bool = false) {
        self.indexes = indexes
        self.disabled = disabled
        self.acknowledgements = acknowledgements
    }
}

/// An event as HEC indexed it. JSON values are kept as JSON text (re-serialized with sorted
/// keys) so the record is `Sendable` and comparable.
public struct SplunkIndexedEvent: Sendable, Equatable {
    /// Epoch seconds with the fraction, as sent; nil when the envelope had no `time`.
    public var time: Double?
    public var host: String?
    public var source: String?
    public var sourcetype: String?
    public var index: String?
    /// The `event` value as JSON text: an object, or a quoted string (always so for `/raw` lines).
    public var event: String
    /// The `fields` object as JSON text, nil when absent.
    public var fields: String?
    /// The `X-Splunk-Request-Channel` (or `?channel=`) the request carried.
    public var channel: String?
    /// The token that sent it.
    public var token: String
}
