import Foundation

/// Posts batches to Splunk HEC: one JSON envelope per event, written one after another in one
/// body. Our event id travels in the indexed `fields` (Splunk has no idempotency key).
public struct SplunkHECSink: AcknowledgingSinkConnector {
    public static let type = "splunk"
    public let configuration: SplunkHECConfiguration
    /// Where batches go: `…/services/collector` or `…/services/collector/event`.
    public let eventURL: URL
    /// The endpoint with `/services/collector…` cut off (health and ack live under it).
    public let baseURL: URL
    public var name: String { configuration.name }
    public var origin: URL { configuration.endpoint }
    public var acknowledging: (any AcknowledgingSinkConnector)? { self }

    /// Throws when the channel is not a GUID (HEC answers code 11 to every request otherwise).
    public init(configuration: SplunkHECConfiguration) throws {
        guard UUID(uuidString: configuration.channel) != nil else { throw SplunkHECSinkError.badChannel }
        guard let urls = Self.urls(configuration.endpoint) else { throw SplunkHECSinkError.badEndpoint }
        self.configuration = configuration
        (eventURL, baseURL) = urls
    }

    static let collectorPath = "/services/collector"

    /// `…/services/collector` and `…/services/collector/event` are used as they are; anything
    /// else under (or without) `/services/collector` posts to `<base>/services/collector/event`.
    static func urls(_ endpoint: URL) -> (event: URL, base: URL)? {
        guard var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false), components.host != nil else {
            return nil
        }
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        let keep = path.hasSuffix(collectorPath) || path.hasSuffix(collectorPath + "/event")
        if let range = path.range(of: collectorPath) { path = String(path[..<range.lowerBound]) }
        components.path = path
        components.query = nil
        components.fragment = nil
        guard let base = components.url else { return nil }
        return (keep ? endpoint : base.appendingEndpoint(collectorPath + "/event"), base)
    }

    public func makeRequest(batch: [EncodedEvent], now: Date) throws -> WireRequest {
        var body = Data()
        body.reserveCapacity(batch.reduce(0) { $0 + $1.body.count + 256 })
        for event in batch {
            body.append(envelope(event))
            body.append(UInt8(ascii: "\n"))
        }
        return WireRequest(
            method: "POST", url: eventURL, headers: [authorization, .init("Content-Type", "application/json"), channelHeader],
            body: body)
    }

    /// `{"event": <the encoded event, as JSON>, "fields": {…}, "host", "index", "source",
    /// "sourcetype", "time": <epoch seconds.milliseconds>}`. The event object is copied in as
    /// bytes, not re-parsed.
    func envelope(_ event: EncodedEvent) -> Data {
        var fields: [String: JSONValue] = ["id": .string(event.id)]
        fields["source_name"] = event.source.map(JSONValue.string)
        fields["event_type"] = event.eventType.map(JSONValue.string)
        fields["severity"] = event.severity.map(JSONValue.string)
        var metadata: [String: JSONValue] = [
            "time": .double(Double(EncodingSupport.epochMilliseconds(event.time)) / 1000),
            "source": .string(configuration.source),
            "fields": .object(fields),
        ]
        metadata["host"] = configuration.host.map(JSONValue.string)
        metadata["index"] = configuration.index.map(JSONValue.string)
        metadata["sourcetype"] = configuration.sourceType.map(JSONValue.string)
        var bytes = Array(#"{"event":"#.utf8)
        bytes.append(contentsOf: event.body)
        bytes.append(UInt8(ascii: ","))
        // The metadata object minus its opening brace: never empty (time and source are always there).
        bytes.append(contentsOf: JSONWriter.write(.object(metadata)).dropFirst())
        return Data(bytes)
    }

    /// An empty event post. `/services/collector/health` answers without looking at the token;
    /// this passes HEC's token (and channel) checks and then stops at "No data", indexing nothing.
    public func probeRequest() -> WireRequest? {
        WireRequest(method: "POST", url: eventURL, headers: [authorization, .init("Content-Type", "application/json"), channelHeader], body: Data())
    }

    /// Code 5 ("No data") is the answer a valid token gets for the empty probe.
    public func classifyProbe(_ response: WireResponse) -> SinkOutcome? {
        response.status == 400 && SplunkHECReply(response.body)?.code == 5 ? .delivered : nil
    }

    /// Polls indexer acknowledgement: `POST <base>/services/collector/ack?channel=<GUID>` with
    /// `{"acks":[…]}`. Never compressed (HEC refuses a gzip header on a plain ack body).
    public func ackRequest(ackIDs: [Int]) -> WireRequest {
        var components = URLComponents(url: baseURL.appendingEndpoint(Self.collectorPath + "/ack"), resolvingAgainstBaseURL: false)!
        components.queryItems = [URLQueryItem(name: "channel", value: configuration.channel)]
        let body = JSONWriter.write(.object(["acks": .array(ackIDs.map { .integer(Int64($0)) })]))
        return WireRequest(
            method: "POST", url: components.url!, headers: [authorization, .init("Content-Type", "application/json"), channelHeader],
            body: body)
    }

    var authorization: WireRequest.Header {
        HTTPAuth.scheme("Splunk", configuration.token).header
    }

    /// On every request: an ack-enabled token answers code 10 without it.
    var channelHeader: WireRequest.Header { .init("X-Splunk-Request-Channel", configuration.channel) }
}

public enum SplunkHECSinkError: Error, CustomStringConvertible {
    case badChannel
    case badEndpoint

    public var description: String {
        switch self {
        case .badChannel: "channel must be a GUID, e.g. 0C4E8D7A-59B0-4B22-8E0C-2D3F5B6A7C81"
        case .badEndpoint: "hec_endpoint must be an absolute http(s) URL, e.g. https://splunk.company.com:8088/services/collector"
        }
    }
}
