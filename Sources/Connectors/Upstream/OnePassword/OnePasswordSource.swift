import Foundation

/// 1Password: per stream, `POST /api/v2/<stream>` with a ResetCursor (`limit`, `start_time`,
/// `end_time`) to begin the window, then the answer's `cursor` ON ITS OWN while `has_more`. The
/// streams are read one after the other; the cursor moves once all of them reached the window's end.
public struct OnePasswordSource: SourceConnector {
    public static let type = "onepassword"
    public let configuration: OnePasswordConfiguration
    public var name: String { configuration.name }
    public var origin: URL { configuration.baseURL }
    public var retention: TimeInterval? { OnePasswordConfiguration.retention }

    public init(configuration: OnePasswordConfiguration) {
        self.configuration = configuration
    }

    public func makePoll(window: PollWindow) -> any SourcePoll {
        OnePasswordPoll(configuration: configuration, window: window)
    }

    /// `{"Error": {"Message": "…"}}`.
    public func upstreamMessage(in response: WireResponse) -> String? {
        guard let json = try? JSONValue.parse(response.body) else { return nil }
        return json["Error"]?["Message"]?.stringValue ?? json["message"]?.stringValue
    }
}

struct OnePasswordPoll: SourcePoll {
    let configuration: OnePasswordConfiguration
    let window: PollWindow
    private var streams: [String]
    private var cursor: String?
    private(set) var checkpoint: Date?

    init(configuration: OnePasswordConfiguration, window: PollWindow) {
        self.configuration = configuration
        self.window = window
        streams = configuration.streams
    }

    mutating func nextRequest() throws -> WireRequest? {
        guard let stream = streams.first else { return nil }
        let body: JSONValue
        if let cursor {
            // A continuing cursor must be sent alone: the API refuses it with anything beside it.
            body = .object(["cursor": .string(cursor)])
        } else {
            body = .object([
                "limit": .integer(Int64(configuration.pageSize)),
                "start_time": .string(RFC3339.formatSeconds(Date(timeIntervalSince1970: window.start.timeIntervalSince1970.rounded(.down)))),
                "end_time": .string(RFC3339.formatSeconds(Date(timeIntervalSince1970: window.end.timeIntervalSince1970.rounded(.down)))),
            ])
        }
        return WireRequest(
            method: "POST", url: configuration.baseURL.appendingEndpoint("/api/v2/\(stream)"),
            headers: [.init("Content-Type", "application/json"), .init("Accept", "application/json"), HTTPAuth.bearer(configuration.token).header],
            body: try NativeEncoding.encode(body))
    }

    mutating func read(_ response: WireResponse, receivedAt: Date) throws -> PageEntries {
        guard let stream = streams.first else { return [] }
        let page = try UpstreamPage.read(response.body, what: "1Password \(stream) page", itemsAt: ["items"])
        let json = page.json
        guard let next = json["cursor"]?.stringValue, !next.isEmpty else {
            throw SourceError(.malformed, "1Password \(stream) page has no cursor: \(MalformedPayload.excerpt(of: response.body))")
        }
        let entries = try page.entries {
            try OnePasswordNormalizer.normalize($0, stream: stream, configuration: configuration, receivedAt: receivedAt)
        }
        if case .bool(true)? = json["has_more"], page.count > 0 {
            if next == cursor {
                throw SourceError(.pagination, "\(configuration.name): 1Password answered the same cursor with has_more; stopping")
            }
            cursor = next
        } else {
            // This stream is read to the window's end; the next one starts with its own reset.
            streams.removeFirst()
            cursor = nil
            if streams.isEmpty { checkpoint = window.end }
        }
        return .ready(entries)
    }
}
