import Foundation

/// A configurable connector for JSON audit APIs: window parameters, an items path, and one of
/// several pagination styles (next link, Link header, page number, offset, cursor).
public struct HTTPJSONSource: SourceConnector {
    public static let type = "http_json"
    public let configuration: HTTPJSONConfiguration
    public var name: String { configuration.name }
    public var origin: URL { configuration.url }

    public init(configuration: HTTPJSONConfiguration) {
        self.configuration = configuration
    }

    public func makePoll(window: PollWindow) -> any SourcePoll {
        HTTPJSONPoll(configuration: configuration, window: window)
    }

    /// The common error shapes: `{"error": {"message"}}`, `{"error": "..."}`, `{"message"}`, `{"detail"}`, `{"errorSummary"}`.
    public func upstreamMessage(in response: WireResponse) -> String? {
        guard let json = try? JSONValue.parse(response.body) else { return nil }
        return json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue ?? json["message"]?.stringValue
            ?? json["detail"]?.stringValue ?? json["errorSummary"]?.stringValue
    }
}

struct HTTPJSONPoll: SourcePoll {
    let configuration: HTTPJSONConfiguration
    let window: PollWindow
    /// The next request's URL and body; nil when done.
    private var next: (url: URL, body: JSONValue?)?
    private var visited: Set<String> = []
    private var pageNumber: Int
    private var offset = 0
    private var newest: Date?
    /// The ids of the previous page: a server that ignores the page parameter repeats it.
    private var previousPageIDs: [String] = []
    private(set) var checkpoint: Date?

    init(configuration: HTTPJSONConfiguration, window: PollWindow) {
        self.configuration = configuration
        self.window = window
        if case .page(_, let start, _, _) = configuration.pagination { pageNumber = start } else { pageNumber = 1 }
        var url = configuration.url
        var body = configuration.body ?? (configuration.method == "POST" ? .object([:]) : nil)
        let w = configuration.window
        var query: [URLQueryItem] = []
        for (param, date) in [(w.startParam, window.start), (w.endParam, window.end)] {
            guard let param else { continue }
            let value = w.format.format(date)
            if w.placement == .body { body?.set(param, value) } else { query.append(URLQueryItem(name: param, value: value.scalarText)) }
        }
        switch configuration.pagination {
        case .page(let param, let start, let sizeParam, let size):
            query.append(URLQueryItem(name: param, value: String(start)))
            if let sizeParam { query.append(URLQueryItem(name: sizeParam, value: String(size))) }
        case .offset(let param, let sizeParam, let size):
            query.append(URLQueryItem(name: param, value: "0"))
            if let sizeParam { query.append(URLQueryItem(name: sizeParam, value: String(size))) }
        default:
            break
        }
        url = Self.adding(query, to: url)
        next = (url, body)
    }

    static func adding(_ items: [URLQueryItem], to url: URL) -> URL {
        guard !items.isEmpty, var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url }
        let kept = (components.queryItems ?? []).filter { old in !items.contains { $0.name == old.name } }
        components.queryItems = kept + items
        return components.url ?? url
    }

    mutating func nextRequest() throws -> WireRequest? {
        guard let next else { return nil }
        var headers = configuration.headers.sorted { $0.key < $1.key }.map { WireRequest.Header($0.key, $0.value) }
        if !headers.contains(where: { $0.name.lowercased() == "accept" }) { headers.append(.init("Accept", "application/json")) }
        if let auth = configuration.auth { headers.append(auth.header) }
        var body: Data?
        if let json = next.body, configuration.method != "GET" {
            body = try NativeEncoding.encode(json)
            headers.append(.init("Content-Type", "application/json"))
        }
        return WireRequest(method: configuration.method, url: next.url, headers: headers, body: body)
    }

    mutating func read(_ response: WireResponse, receivedAt: Date) throws -> PageEntries {
        guard let current = next else { return [] }
        visited.insert(
            current.url.absoluteString + "|"
                + (current.body.flatMap { try? NativeEncoding.encode($0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""))
        let json: JSONValue
        let elements: [JSONParser.Element]
        (json, elements) = try UpstreamPage.parse(
            response.body, what: "\(configuration.name) page", elementsAt: Self.keyPath(configuration.itemsPath))
        let items = try UpstreamPage.array(
            json.value(at: configuration.itemsPath), at: configuration.itemsPath, body: response.body, what: "\(configuration.name) page")
        let entries = try elements.entries(of: items, in: response.body) {
            try HTTPJSONNormalizer.normalize($0, configuration: configuration, receivedAt: receivedAt)
        }
        for entry in entries { newest = max(newest ?? entry.event.time, entry.event.time) }
        let pageIDs = entries.map(\.upstreamID)
        if !pageIDs.isEmpty, pageIDs == previousPageIDs {
            throw SourceError(
                .pagination, "\(configuration.name): the API answered the same page twice (does it ignore the page parameter?); stopping")
        }
        previousPageIDs = pageIDs
        self.next = try following(current: current, json: json, response: response, count: items.count)
        if let upcoming = self.next {
            let key =
                upcoming.url.absoluteString + "|"
                + (upcoming.body.flatMap { try? NativeEncoding.encode($0) }.map { String(decoding: $0, as: UTF8.self) } ?? "")
            if visited.contains(key) {
                throw SourceError(
                    .pagination, "\(configuration.name): the next page points back at one already read (\(upcoming.url.path)); stopping")
            }
        }
        if self.next == nil {
            checkpoint = window.end
        } else if configuration.order == .oldestFirst {
            checkpoint = newest
        }
        return .ready(entries)
    }

    /// The request after this page, per the pagination style; nil when this was the last page.
    private mutating func following(
        current: (url: URL, body: JSONValue?), json: JSONValue, response: WireResponse, count: Int
    ) throws
        -> (url: URL, body: JSONValue?)?
    {
        switch configuration.pagination {
        case .none:
            return nil
        case .nextLink(let path):
            guard let link = json.value(at: path)?.stringValue, !link.isEmpty else { return nil }
            guard let url = URL(string: link, relativeTo: configuration.url)?.absoluteURL else {
                throw SourceError(.malformed, "\(configuration.name): next link at \(path) is not a URL: \(link)")
            }
            return (url, current.body)
        case .linkHeader:
            guard let url = LinkHeader.next(in: response, relativeTo: configuration.url) else { return nil }
            return (url, current.body)
        case .page(let param, _, _, _):
            // Only an empty page ends: many APIs quietly cap the page size below what was asked.
            guard count > 0 else { return nil }
            pageNumber += 1
            return (Self.adding([URLQueryItem(name: param, value: String(pageNumber))], to: current.url), current.body)
        case .offset(let param, _, _):
            guard count > 0 else { return nil }
            offset += count
            return (Self.adding([URLQueryItem(name: param, value: String(offset))], to: current.url), current.body)
        case .cursor(let param, let path, let placement):
            guard let token = json.value(at: path)?.scalarText, !token.isEmpty, count > 0 || placement == .body else { return nil }
            if placement == .body {
                var body = current.body ?? .object([:])
                body.set(param, .string(token))
                return (current.url, body)
            }
            return (Self.adding([URLQueryItem(name: param, value: token)], to: current.url), current.body)
        }
    }

    /// `items_path` as object keys, for locating each item's own text; nil when a part is a number,
    /// which may index an array (the items are then written from their parsed values).
    static func keyPath(_ path: String) -> [String]? {
        let keys = path.split(separator: ".").map(String.init)
        return keys.contains { Int($0) != nil } ? nil : keys
    }

    /// The `rel="next"` target of an RFC 8288 Link header.
    static func nextLink(in header: String, relativeTo base: URL) -> URL? {
        LinkHeader.next(in: header, relativeTo: base)
    }
}
