import Foundation

/// DeepIntShield: ascending pages of `POST /api/audit-logs/query` over a fixed `date_range`,
/// following `next_page` (which may point at another path prefix) or the next page number.
public struct DeepIntShieldSource: SourceConnector {
    public static let type = "deepintshield"
    public let configuration: DeepIntShieldConfiguration
    public var name: String { configuration.name }
    public var origin: URL { configuration.baseURL }

    public init(configuration: DeepIntShieldConfiguration) {
        self.configuration = configuration
    }

    public func makePoll(window: PollWindow) -> any SourcePoll {
        DeepIntShieldPoll(configuration: configuration, window: window)
    }

    /// `{"is_deepintshield_error", "status_code", "error": {"message"}}`.
    public func upstreamMessage(in response: WireResponse) -> String? {
        guard let json = try? JSONValue.parse(response.body) else { return nil }
        return json["error"]?["message"]?.stringValue ?? json["message"]?.stringValue
    }
}

struct DeepIntShieldPoll: SourcePoll {
    let configuration: DeepIntShieldConfiguration
    let window: PollWindow
    /// The next request's URL (path + query) and page; nil when done.
    private var next: (url: URL, page: Int)?
    /// URLs already fetched in this poll: a `next_page` pointing back at one is a loop.
    private var visited: Set<String> = []
    private var newest: Date?
    private(set) var checkpoint: Date?

    init(configuration: DeepIntShieldConfiguration, window: PollWindow) {
        self.configuration = configuration
        self.window = window
        next = (configuration.baseURL.appendingEndpoint("/api/audit-logs/query"), 1)
    }

    mutating func nextRequest() throws -> WireRequest? {
        guard let next else { return nil }
        var filters: [String: JSONValue] = [
            "date_range": .object([
                "start": .string(RFC3339.format(window.start)), "end": .string(RFC3339.format(window.end)),
            ])
        ]
        let f = configuration.filters
        func list(_ key: String, _ values: [String]) {
            if !values.isEmpty { filters[key] = .array(values.map(JSONValue.string)) }
        }
        list("event_types", f.eventTypes)
        list("actions", f.actions)
        list("resource_types", f.resourceTypes)
        list("severity", f.severity)
        list("status", f.status)
        var actors: [String: JSONValue] = [:]
        if !f.userIDs.isEmpty { actors["user_ids"] = .array(f.userIDs.map(JSONValue.string)) }
        if !f.emails.isEmpty { actors["emails"] = .array(f.emails.map(JSONValue.string)) }
        if !f.ipAddresses.isEmpty { actors["ip_addresses"] = .array(f.ipAddresses.map(JSONValue.string)) }
        if !actors.isEmpty { filters["actors"] = .object(actors) }
        if let query = f.query { filters["query"] = .string(query) }
        let body: JSONValue = .object([
            "filters": .object(filters),
            "sort": .object(["field": .string("timestamp"), "order": .string("asc")]),
            "limit": .integer(Int64(configuration.pageSize)),
            "page": .integer(Int64(next.page)),
            "include_details": .bool(true),
        ])
        return WireRequest(
            method: "POST", url: next.url,
            headers: [.init("Content-Type", "application/json"), .init("Accept", "application/json"), configuration.auth.header],
            body: try NativeEncoding.encode(body))
    }

    mutating func read(_ response: WireResponse, receivedAt: Date) throws -> PageEntries {
        guard let current = next else { return [] }
        visited.insert(current.url.absoluteString)
        let page = try UpstreamPage.read(response.body, what: "DeepIntShield page", itemsAt: ["audit_logs"])
        let json = page.json
        let entries = try page.entries {
            try DeepIntShieldNormalizer.normalize($0, configuration: configuration, receivedAt: receivedAt)
        }
        for entry in entries { newest = max(newest ?? entry.event.time, entry.event.time) }

        if let link = json["next_page"]?.stringValue, !link.isEmpty {
            guard let url = URL(string: link, relativeTo: configuration.baseURL)?.absoluteURL else {
                throw SourceError(.malformed, "DeepIntShield next_page is not a URL path: \(link)")
            }
            guard !visited.contains(url.absoluteString) else {
                throw SourceError(.pagination, "DeepIntShield next_page loops back to \(url.redactedForDisplay) already read in this poll; stopping")
            }
            let page =
                URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?
                .first { $0.name == "page" }?.value.flatMap(Int.init) ?? current.page + 1
            next = (url, page)
        } else if json["next_page"] == nil, page.count >= configuration.pageSize {
            // No link at all (older servers): page numbers until a short page.
            next = (current.url, current.page + 1)
        } else {
            next = nil
        }
        // Ascending: everything up to the newest timestamp seen is in; rows sharing it may follow,
        // and the next poll's overlap re-reads them.
        checkpoint = next == nil ? window.end : newest
        return .ready(entries)
    }
}
