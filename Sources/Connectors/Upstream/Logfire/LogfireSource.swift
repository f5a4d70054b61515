import Foundation

/// Logfire: `GET /v1/audit-logs/` per window of at most 90 days, no pagination, newest first.
public struct LogfireSource: SourceConnector {
    public static let type = "logfire"
    public let configuration: LogfireConfiguration
    public var name: String { configuration.name }
    public var origin: URL { configuration.baseURL }

    public init(configuration: LogfireConfiguration) {
        self.configuration = configuration
    }

    /// The API refuses longer windows with HTTP 400.
    public var maximumWindow: TimeInterval? { LogfireConfiguration.maximumWindow }

    public func makePoll(window: PollWindow) -> any SourcePoll {
        LogfirePoll(configuration: configuration, window: window)
    }

    /// FastAPI-style `{"detail": "..."}` (a string, or a list of validation errors).
    public func upstreamMessage(in response: WireResponse) -> String? {
        guard let json = try? JSONValue.parse(response.body), let detail = json["detail"] else { return nil }
        if let text = detail.stringValue { return text }
        return (try? NativeEncoding.encode(detail)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Splits `window` into consecutive windows of at most 90 days, oldest first.
    public static func chunks(of window: PollWindow) -> [PollWindow] {
        var chunks: [PollWindow] = []
        var start = window.start
        while start < window.end {
            let end = min(window.end, start.addingTimeInterval(LogfireConfiguration.maximumWindow))
            chunks.append(PollWindow(start: start, end: end))
            start = end
        }
        return chunks
    }
}

struct LogfirePoll: SourcePoll {
    let configuration: LogfireConfiguration
    let window: PollWindow
    private var chunks: [PollWindow]
    /// Entries of the current chunk waiting for their UPDATE details, oldest first.
    private var held: [NormalizedEntry] = []
    private var detailQueue: [String] = []
    private var inFlightDetail: String?
    private(set) var checkpoint: Date?

    init(configuration: LogfireConfiguration, window: PollWindow) {
        self.configuration = configuration
        self.window = window
        // Whole seconds: the API takes `YYYY-MM-DDTHH:MM:SSZ`. Start rounds down (inclusive),
        // end rounds down too (exclusive); the remainder comes with the next poll's overlap.
        let start = Date(timeIntervalSince1970: window.start.timeIntervalSince1970.rounded(.down))
        let end = Date(timeIntervalSince1970: window.end.timeIntervalSince1970.rounded(.down))
        chunks = LogfireSource.chunks(of: PollWindow(start: start, end: end))
    }

    mutating func nextRequest() throws -> WireRequest? {
        if let id = detailQueue.first {
            inFlightDetail = id
            // The trailing slash is required by the API.
            return request(path: "/v1/audit-logs/\(id)/", query: [])
        }
        guard let chunk = chunks.first else { return nil }
        inFlightDetail = nil
        var query = [
            URLQueryItem(name: "start_time", value: RFC3339.formatSeconds(chunk.start)),
            URLQueryItem(name: "end_time", value: RFC3339.formatSeconds(chunk.end)),
        ]
        if let action = configuration.action { query.append(URLQueryItem(name: "action", value: action)) }
        return request(path: "/v1/audit-logs/", query: query)
    }

    private func request(path: String, query: [URLQueryItem]) -> WireRequest {
        var components = URLComponents(url: configuration.baseURL.appendingEndpoint(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { components.queryItems = query }
        return WireRequest(
            method: "GET", url: components.url!,
            headers: [.init("Accept", "application/json"), HTTPAuth.bearer(configuration.token).header])
    }

    mutating func read(_ response: WireResponse, receivedAt: Date) throws -> PageEntries {
        if let id = inFlightDetail {
            let json = try UpstreamPage.parse(response.body, what: "Logfire audit log \(id)", elementsAt: nil).value
            let patches = json["downgrade_patches"]
            if let index = held.firstIndex(where: { $0.upstreamID == id }) {
                if let ops = patches?.arrayValue { held[index].event.changes = ops }
                if let metadata = json["metadata"], !metadata.isNull { held[index].event.details["metadata"] = metadata }
            }
            return .ready(finishDetail(id))
        }
        let entries: [NormalizedEntry]
        do {
            let page = try UpstreamPage.read(response.body, what: "Logfire audit log page", itemsAt: [])
            // Newest first upstream: spool oldest first.
            entries = try page.entries {
                try LogfireNormalizer.normalize($0, configuration: configuration, receivedAt: receivedAt)
            }
            .sorted { ($0.event.time, $0.upstreamID) < ($1.event.time, $1.upstreamID) }
        } catch let error as SourceError where error.isOverLimit {
            // The API does not page: a window holding more than `max_page_items` is asked again in
            // halves, down to a single second.
            guard let chunk = chunks.first, chunk.end.timeIntervalSince(chunk.start) >= 2 else { throw error }
            let middle = Date(timeIntervalSince1970: ((chunk.start.timeIntervalSince1970 + chunk.end.timeIntervalSince1970) / 2).rounded(.down))
            chunks.replaceSubrange(0...0, with: [PollWindow(start: chunk.start, end: middle), PollWindow(start: middle, end: chunk.end)])
            return .ready([])
        }
        if configuration.fetchDetails {
            detailQueue = entries.filter { $0.event.action == "UPDATE" }.map(\.upstreamID)
        }
        held = entries
        return .ready(detailQueue.isEmpty ? releaseChunk() : [])
    }

    /// A detail record deleted since it was listed (404) keeps its entry, without changes.
    mutating func readFailure(_ response: WireResponse, receivedAt: Date) throws -> [NormalizedEntry]? {
        guard let id = inFlightDetail, response.status == 404 else { return nil }
        if let index = held.firstIndex(where: { $0.upstreamID == id }) {
            held[index].event.details["downgrade_patches_unavailable"] = .string("HTTP 404 from /v1/audit-logs/\(id)/")
        }
        return finishDetail(id)
    }

    private mutating func finishDetail(_ id: String) -> [NormalizedEntry] {
        detailQueue.removeAll { $0 == id }
        inFlightDetail = nil
        return detailQueue.isEmpty ? releaseChunk() : []
    }

    /// The chunk is complete: its entries go to the spool and the cursor may move to its end.
    private mutating func releaseChunk() -> [NormalizedEntry] {
        let chunk = chunks.removeFirst()
        checkpoint = chunks.isEmpty ? window.end : chunk.end
        defer { held = [] }
        return held
    }
}
