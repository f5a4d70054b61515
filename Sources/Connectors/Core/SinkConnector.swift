import Foundation

/// One event of a batch, already encoded for its sink.
public struct EncodedEvent: Sendable, Equatable {
    /// The stable event id.
    public var id: String
    public var time: Date
    /// The event in the sink's encoding (a JSON object).
    public var body: Data
    /// The source's name, the event type and the severity (`AuditEvent` raw values), when known:
    /// sinks that index metadata beside the body (Splunk `fields`, Datadog `status`) read them
    /// here instead of parsing the body.
    public var source: String?
    public var eventType: String?
    public var severity: String?
    /// Where the event stands in the sink's integrity chain, when `integrity` is on (the body
    /// carries it too; a webhook also sends the last one as a header).
    public var integrity: IntegrityChain.Link?

    public init(id: String, time: Date, body: Data, source: String? = nil, eventType: String? = nil, severity: String? = nil) {
        self.id = id
        self.time = time
        self.body = body
        self.source = source
        self.eventType = eventType
        self.severity = severity
    }
}

/// What a sink's answer means for a batch. The engine's one retry loop acts on it.
public enum SinkOutcome: Sendable, Equatable {
    /// Every event arrived.
    case delivered
    /// Nothing is known to have arrived; send again, after `after` when the sink said so (Retry-After).
    case retry(after: Duration?, reason: String)
    /// Some events arrived; the events at `retry` indexes should be sent again, the ones in `rejected` never.
    case partial(retry: [Int], rejected: [Rejection], retryAfter: Duration?)
    /// The whole batch is refused for good (dead letters).
    case rejected(status: Int, reason: String)
    /// The endpoint is gone (webhook 410): dead-letter the batch and stop this sink.
    case gone(status: Int, reason: String)
    /// The request is over the sink's size limit (HTTP 413): split the batch and send the halves;
    /// a single event that is still too large is dead-lettered.
    case tooLarge(reason: String)

    public struct Rejection: Sendable, Equatable {
        public var index: Int
        public var status: Int
        public var reason: String

        public init(index: Int, status: Int, reason: String) {
            self.index = index
            self.status = status
            self.reason = reason
        }
    }
}

/// An HTTP sink turns a batch into one request and a response into an outcome.
public protocol HTTPSinkConnector: Sendable {
    var name: String { get }
    /// The configured endpoint. The sink's credentials go only to its origin (scheme, host, port).
    var origin: URL { get }
    /// The request for `batch`, as attempt time `now` (signatures carry a timestamp).
    func makeRequest(batch: [EncodedEvent], now: Date) throws -> WireRequest
    /// Classifies the sink's answer.
    func classify(_ response: WireResponse, batch: [EncodedEvent]) -> SinkOutcome
    /// A request that proves the sink is reachable and the credentials work without indexing
    /// anything (Splunk's health endpoint, Elasticsearch's `GET /`); nil when the sink has none.
    func probeRequest() -> WireRequest?
    /// Judges the answer to `probeRequest` where `classify` would not (a probe refused for its
    /// content after the credentials passed); nil leaves it to `classify`.
    func classifyProbe(_ response: WireResponse) -> SinkOutcome?
    /// Why this event must not be sent at all (e.g. a Datadog entry over 1 MB, which Datadog would
    /// truncate): it goes to the dead letters instead. nil (the default): send it.
    func preflight(_ event: EncodedEvent) -> String?
    /// The sink's indexer acknowledgement, when it has one (Splunk HEC); nil by default.
    var acknowledging: (any AcknowledgingSinkConnector)? { get }
}

/// A sink whose acceptance is not yet delivery: an accepted batch's answer carries an id, and a
/// later query says whether it is indexed (Splunk HEC's indexer acknowledgement).
public protocol AcknowledgingSinkConnector: HTTPSinkConnector {
    /// The ackId in an accepted batch's answer; nil when the sink gave none.
    func ackID(in response: WireResponse) -> Int?
    /// The request asking which of `ackIDs` are indexed.
    func ackRequest(ackIDs: [Int]) -> WireRequest
    /// The answer to `ackRequest`, ackId → indexed; nil when it is not a usable answer.
    func indexedAcks(in response: WireResponse) -> [Int: Bool]?
}

extension HTTPSinkConnector {
    public func probeRequest() -> WireRequest? { nil }
    public func classifyProbe(_ response: WireResponse) -> SinkOutcome? { nil }
    public func preflight(_ event: EncodedEvent) -> String? { nil }
    public var acknowledging: (any AcknowledgingSinkConnector)? { nil }

    /// The classification most HTTP sinks share: 2xx delivered; 408, 429 and 5xx retried
    /// (honouring Retry-After); every other status rejected for good.
    public func classifyByStatus(_ response: WireResponse) -> SinkOutcome {
        switch response.status {
        case 200..<300:
            return .delivered
        case 408, 429, 500...599:
            return .retry(
                after: RetryAfter.parse(response.header("Retry-After")),
                reason: "HTTP \(response.status)" + RetryAfter.bodyHint(response.body))
        default:
            return .rejected(status: response.status, reason: "HTTP \(response.status)" + RetryAfter.bodyHint(response.body))
        }
    }
}

/// `Retry-After` as seconds or an HTTP-date (RFC 9110 §10.2.3).
public enum RetryAfter {
    public static func parse(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0, seconds.isFinite {
            // Capped at a day: `Retry-After: 1e300` must not trap converting to Int64 (fuzzing found it).
            return .milliseconds(Int64(min(seconds, 86400) * 1000))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: value) {
                return .milliseconds(Int64(min(max(0, date.timeIntervalSince(now)), 86400) * 1000))
            }
        }
        return nil
    }

    /// ": <start of body>" for error reasons, or "" for an empty body.
    static func bodyHint(_ body: Data) -> String {
        body.isEmpty ? "" : ": " + MalformedPayload.excerpt(of: body, limit: 2 * MalformedPayload.excerptLimit)
    }
}
