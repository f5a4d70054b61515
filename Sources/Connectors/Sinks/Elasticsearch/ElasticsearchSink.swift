import Foundation

/// Posts batches to `_bulk` with the `create` action and our event id as `_id`: a resent event
/// answers 409 (already there), which counts as delivered, so retries never duplicate.
public struct ElasticsearchSink: HTTPSinkConnector {
    public static let type = "elastic"
    /// Elasticsearch and OpenSearch refuse longer `_id`s (ours are 64 hex characters).
    public static let maxIDBytes = 512

    public let configuration: ElasticsearchConfiguration
    /// `<endpoint>/_bulk`, with `?pipeline=` when one is set.
    public let bulkURL: URL
    public var name: String { configuration.name }
    public var origin: URL { configuration.endpoint }

    /// Throws when `index` is empty or `endpoint` has no host.
    public init(configuration: ElasticsearchConfiguration) throws {
        guard !configuration.index.isEmpty else { throw ElasticsearchSinkError.missingIndex }
        guard configuration.endpoint.host != nil,
            var components = URLComponents(url: configuration.endpoint.appendingEndpoint("/_bulk"), resolvingAgainstBaseURL: false)
        else { throw ElasticsearchSinkError.badEndpoint }
        if let pipeline = configuration.pipeline { components.queryItems = [URLQueryItem(name: "pipeline", value: pipeline)] }
        guard let url = components.url else { throw ElasticsearchSinkError.badEndpoint }
        self.configuration = configuration
        self.bulkURL = url
    }

    /// NDJSON: per event `{"create":{"_id":…,"_index":…}}` then the document, each on its own
    /// line; the body ends with a newline (Elasticsearch answers 400 otherwise).
    public func makeRequest(batch: [EncodedEvent], now: Date) throws -> WireRequest {
        var body = Data()
        body.reserveCapacity(batch.reduce(0) { $0 + $1.body.count + 160 })
        var indexField = Array(#","_index":"#.utf8)
        JSONWriter.writeString(configuration.index, into: &indexField)
        indexField.append(contentsOf: "}}\n".utf8)
        for event in batch {
            // `{"create":{"_id":…,"_index":…}}`, keys sorted as JSONWriter would.
            var action = Array(#"{"create":{"_id":"#.utf8)
            JSONWriter.writeString(event.id, into: &action)
            body.append(contentsOf: action)
            body.append(contentsOf: indexField)
            Self.appendSingleLine(event.body, to: &body)
            body.append(UInt8(ascii: "\n"))
        }
        var headers: [WireRequest.Header] = [.init("Content-Type", "application/x-ndjson")]
        if let auth = configuration.auth { headers.append(auth.header) }
        return WireRequest(method: "POST", url: bulkURL, headers: headers, body: body)
    }

    /// `GET <endpoint>/`: the cluster's banner when the credentials work.
    public func probeRequest() -> WireRequest? {
        let headers = configuration.auth.map { [$0.header] } ?? []
        return WireRequest(method: "GET", url: configuration.endpoint.appendingEndpoint("/"), headers: headers)
    }

    /// `GET /` answers the cluster's banner, not a bulk response: any 2xx means the credentials work.
    public func classifyProbe(_ response: WireResponse) -> SinkOutcome? {
        (200..<300).contains(response.status) ? .delivered : nil
    }

    /// A document on one line. Compact JSON has no raw line breaks (inside strings they are
    /// escaped), so any there are whitespace between tokens and become spaces.
    static func singleLine(_ document: Data) -> Data {
        var line = Data()
        appendSingleLine(document, to: &line)
        return line
    }

    /// `singleLine`, appended in place and read through a buffer (Data's per-byte iterator was a
    /// tenth of the sink's CPU).
    static func appendSingleLine(_ document: Data, to body: inout Data) {
        document.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var end = bytes.count
            while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D || bytes[end - 1] == 0x20 { end -= 1 }
            let kept = UnsafeBufferPointer(rebasing: bytes[..<end])
            // memchr, not a closure per byte: this runs over every document sent.
            let hasBreak = kept.baseAddress.map { memchr($0, 0x0A, end) != nil || memchr($0, 0x0D, end) != nil } ?? false
            guard hasBreak else {
                body.append(kept)
                return
            }
            body.append(contentsOf: kept.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
        }
    }
}

public enum ElasticsearchSinkError: Error, CustomStringConvertible {
    case missingIndex
    case badEndpoint

    public var description: String {
        switch self {
        case .missingIndex: "index is required"
        case .badEndpoint: "endpoint must be an absolute http(s) URL, e.g. https://elastic.company.com:9200"
        }
    }
}
