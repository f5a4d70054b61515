import Foundation

/// Slack: `GET /audit/v1/logs` with `oldest`/`latest` (unix seconds, both inclusive), newest first,
/// a `next_cursor` until it is empty. Newest first: the cursor moves only once the window is read
/// down to its oldest page (a walk cut short is read again; the dedupe index skips what it had).
public struct SlackSource: SourceConnector {
    public static let type = "slack"
    public let configuration: SlackConfiguration
    public var name: String { configuration.name }
    public var origin: URL { configuration.baseURL }

    public init(configuration: SlackConfiguration) {
        self.configuration = configuration
    }

    public func makePoll(window: PollWindow) -> any SourcePoll {
        SlackPoll(configuration: configuration, window: window)
    }

    /// `{"ok": false, "error": "invalid_auth"}`.
    public func upstreamMessage(in response: WireResponse) -> String? {
        guard let json = try? JSONValue.parse(response.body) else { return nil }
        return json["error"]?.stringValue
    }
}

struct SlackPoll: SourcePoll {
    let configuration: SlackConfiguration
    let window: PollWindow
    private var cursor: String?
    private var done = false
    private var seenCursors: Set<String> = []
    private(set) var checkpoint: Date?

    init(configuration: SlackConfiguration, window: PollWindow) {
        self.configuration = configuration
        self.window = window
    }

    mutating func nextRequest() throws -> WireRequest? {
        guard !done else { return nil }
        var components = URLComponents(url: configuration.baseURL.appendingEndpoint("/audit/v1/logs"), resolvingAgainstBaseURL: false)!
        // Whole seconds, both ends inclusive: the end second is read again by the next poll's overlap.
        var query = [
            URLQueryItem(name: "oldest", value: String(Int64(window.start.timeIntervalSince1970.rounded(.down)))),
            URLQueryItem(name: "latest", value: String(Int64(window.end.timeIntervalSince1970.rounded(.down)))),
            URLQueryItem(name: "limit", value: String(configuration.pageSize)),
        ]
        if !configuration.actions.isEmpty { query.append(URLQueryItem(name: "action", value: configuration.actions.joined(separator: ","))) }
        if let cursor { query.append(URLQueryItem(name: "cursor", value: cursor)) }
        components.queryItems = query
        // Slack's cursors are base64: a `+` left as it is would arrive as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return WireRequest(
            method: "GET", url: components.url!, headers: [.init("Accept", "application/json"), HTTPAuth.bearer(configuration.token).header])
    }

    mutating func read(_ response: WireResponse, receivedAt: Date) throws -> PageEntries {
        let name = configuration.name
        let page = try UpstreamPage.read(response.body, what: "Slack audit log page", itemsAt: ["entries"]) { json in
            if case .bool(false)? = json["ok"] {
                throw SourceError(.upstream, "\(name): Slack answered ok: false: \(json["error"]?.stringValue ?? "no error given")")
            }
        }
        let json = page.json
        let entries = try page.entries {
            try SlackNormalizer.normalize($0, configuration: configuration, receivedAt: receivedAt)
        }
        let next = json["response_metadata"]?["next_cursor"]?.stringValue ?? ""
        if next.isEmpty || page.count == 0 {
            done = true
            checkpoint = window.end
        } else {
            guard seenCursors.insert(next).inserted else {
                throw SourceError(.pagination, "\(configuration.name): Slack's next_cursor repeats one already followed; stopping")
            }
            cursor = next
        }
        return .ready(entries)
    }
}
