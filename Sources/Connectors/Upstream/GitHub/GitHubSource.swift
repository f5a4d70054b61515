import Foundation

/// GitHub: `GET …/audit-log` with a `phrase` window (`created:>=A created:<B`), oldest first
/// (`order=asc`), following `Link rel="next"` cursors.
public struct GitHubSource: SourceConnector {
    public static let type = "github"
    public let configuration: GitHubConfiguration
    public var name: String { configuration.name }
    public var origin: URL { configuration.baseURL }

    public init(configuration: GitHubConfiguration) {
        self.configuration = configuration
    }

    public func makePoll(window: PollWindow) -> any SourcePoll {
        GitHubPoll(configuration: configuration, window: window)
    }

    /// `{"message": "Bad credentials", "documentation_url": …}`.
    public func upstreamMessage(in response: WireResponse) -> String? {
        guard let json = try? JSONValue.parse(response.body) else { return nil }
        return json["message"]?.stringValue
    }
}

struct GitHubPoll: SourcePoll {
    let configuration: GitHubConfiguration
    let window: PollWindow
    private var next: URL?
    private var newest: Date?
    private(set) var checkpoint: Date?

    init(configuration: GitHubConfiguration, window: PollWindow) {
        self.configuration = configuration
        self.window = window
        // Whole seconds (the search syntax takes ISO 8601): start rounded down, inclusive; end
        // rounded down, exclusive; the rest comes with the next poll's overlap.
        let start = RFC3339.formatSeconds(Date(timeIntervalSince1970: window.start.timeIntervalSince1970.rounded(.down)))
        let end = RFC3339.formatSeconds(Date(timeIntervalSince1970: window.end.timeIntervalSince1970.rounded(.down)))
        var components = URLComponents(url: configuration.baseURL.appendingEndpoint(configuration.path), resolvingAgainstBaseURL: false)!
        components.queryItems = [
            URLQueryItem(name: "phrase", value: "created:>=\(start) created:<\(end)"),
            URLQueryItem(name: "include", value: configuration.include),
            URLQueryItem(name: "order", value: "asc"),
            URLQueryItem(name: "per_page", value: String(configuration.pageSize)),
        ]
        next = components.url
    }

    mutating func nextRequest() throws -> WireRequest? {
        guard let next else { return nil }
        return WireRequest(
            method: "GET", url: next,
            headers: [
                .init("Accept", "application/vnd.github+json"), .init("X-GitHub-Api-Version", "2022-11-28"),
                HTTPAuth.bearer(configuration.token).header,
            ])
    }

    mutating func read(_ response: WireResponse, receivedAt: Date) throws -> PageEntries {
        guard let current = next else { return [] }
        let page = try UpstreamPage.read(response.body, what: "GitHub audit log page", itemsAt: [])
        let entries = try page.entries(
            reading: GitHubEventReader.fields,
            normalizeFields: { try GitHubNormalizer.normalize($0, raw: .null, configuration: configuration, receivedAt: receivedAt) },
            keeping: nil
        ) { try GitHubNormalizer.normalize($0, configuration: configuration, receivedAt: receivedAt) }
        for entry in entries { newest = max(newest ?? entry.event.time, entry.event.time) }
        next = page.count == 0 ? nil : LinkHeader.next(in: response, relativeTo: current)
        if next == current {
            throw SourceError(.pagination, "\(configuration.name): GitHub's next link points back at the page just read; stopping")
        }
        checkpoint = next == nil ? window.end : newest
        return .ready(entries)
    }
}
