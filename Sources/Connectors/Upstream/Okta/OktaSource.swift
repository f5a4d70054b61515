import Foundation

/// Okta: `GET /api/v1/logs` over a bounded window (`since`, `until`), oldest first, following
/// `Link rel="next"`. A polling query (no `until`) gets a `next` link on every page, even an empty
/// one, so the walk stops at an empty or short page whatever the links say.
public struct OktaSource: SourceConnector {
    public static let type = "okta"
    public let configuration: OktaConfiguration
    public var name: String { configuration.name }
    public var origin: URL { configuration.baseURL }
    public var retention: TimeInterval? { OktaConfiguration.retention }

    public init(configuration: OktaConfiguration) {
        self.configuration = configuration
    }

    public func makePoll(window: PollWindow) -> any SourcePoll {
        OktaPoll(configuration: configuration, window: window)
    }

    /// `{"errorCode": "E0000011", "errorSummary": "Invalid token provided", …}`.
    public func upstreamMessage(in response: WireResponse) -> String? {
        guard let json = try? JSONValue.parse(response.body), let summary = json["errorSummary"]?.stringValue else { return nil }
        return json["errorCode"]?.stringValue.map { "\($0) \(summary)" } ?? summary
    }
}

struct OktaPoll: SourcePoll {
    let configuration: OktaConfiguration
    let window: PollWindow
    private var next: URL?
    private var newest: Date?
    private(set) var checkpoint: Date?

    init(configuration: OktaConfiguration, window: PollWindow) {
        self.configuration = configuration
        self.window = window
        var components = URLComponents(url: configuration.baseURL.appendingEndpoint("/api/v1/logs"), resolvingAgainstBaseURL: false)!
        var query = [
            URLQueryItem(name: "since", value: RFC3339.format(window.start)),
            URLQueryItem(name: "until", value: RFC3339.format(window.end)),
            URLQueryItem(name: "limit", value: String(configuration.pageSize)),
            URLQueryItem(name: "sortOrder", value: "ASCENDING"),
        ]
        if let filter = configuration.filter { query.append(URLQueryItem(name: "filter", value: filter)) }
        if let text = configuration.query { query.append(URLQueryItem(name: "q", value: text)) }
        components.queryItems = query
        // A `+` in a filter or a time would arrive as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        next = components.url
    }

    mutating func nextRequest() throws -> WireRequest? {
        guard let next else { return nil }
        return WireRequest(method: "GET", url: next, headers: [.init("Accept", "application/json"), configuration.auth.header])
    }

    mutating func read(_ response: WireResponse, receivedAt: Date) throws -> PageEntries {
        guard let current = next else { return [] }
        let page = try UpstreamPage.read(response.body, what: "Okta System Log page", itemsAt: [])
        let entries = try page.entries(
            reading: OktaEventReader.fields,
            normalizeFields: { try OktaNormalizer.normalize($0, raw: .null, configuration: configuration, receivedAt: receivedAt) },
            keeping: OktaNormalizer.members
        ) { try OktaNormalizer.normalize($0, configuration: configuration, receivedAt: receivedAt) }
        for entry in entries { newest = max(newest ?? entry.event.time, entry.event.time) }
        // A short or empty page is the end, whatever the links say (Okta's polling queries link on).
        if page.count < configuration.pageSize {
            next = nil
        } else {
            next = LinkHeader.next(in: response, relativeTo: current)
            if next == current {
                throw SourceError(.pagination, "\(configuration.name): Okta's next link points back at the page just read; stopping")
            }
        }
        // Ascending: everything up to the newest time seen is in; the overlap re-reads its second.
        checkpoint = next == nil ? window.end : newest
        return .ready(entries)
    }
}
