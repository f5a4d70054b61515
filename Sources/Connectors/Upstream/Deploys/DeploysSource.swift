import Foundation

/// deploys.app: `POST /auditLog.list`, newest first, paged backwards with `before`.
public struct DeploysSource: SourceConnector {
    public static let type = "deploys"
    public let configuration: DeploysConfiguration
    public var name: String { configuration.name }
    public var origin: URL { configuration.baseURL }

    public init(configuration: DeploysConfiguration) {
        self.configuration = configuration
    }

    public func makePoll(window: PollWindow) -> any SourcePoll {
        DeploysPoll(configuration: configuration, window: window)
    }

    /// Goes on with a walk cut short: `position` is the `before` of its next page.
    public func makePoll(window: PollWindow, resumingAt position: String) -> (any SourcePoll)? {
        guard let before = RFC3339.parse(position), before > window.start, before <= window.end else { return nil }
        var poll = DeploysPoll(configuration: configuration, window: window)
        poll.resume(before: before)
        return poll
    }

    /// A walk resumed at `before = boundary` reads what is older (the API compares strictly); a
    /// slice from `boundary` up asks `after` one second earlier, so the seam loses nothing.
    public func resumePosition(olderThan boundary: Date) -> String? {
        RFC3339.formatSeconds(boundary)
    }

    public func upstreamMessage(in response: WireResponse) -> String? {
        guard let json = try? JSONValue.parse(response.body) else { return nil }
        return DeploysEnvelope.errorMessage(json)
    }
}

/// The paging state of one deploys.app poll.
///
/// The API compares `before` strictly, so rows sharing the last item's timestamp could be
/// skipped; each next page re-asks from one second after that timestamp and drops ids this
/// poll has already returned.
struct DeploysPoll: SourcePoll {
    let configuration: DeploysConfiguration
    let window: PollWindow
    /// The `before` of the next request; nil once the window is read.
    private var before: Date?
    private var pending = true
    /// The `limit` of the next request: `page_size`, raised to the API maximum when one second
    /// holds more rows than a page.
    private var limit: Int
    /// Ids (and times) returned within the current boundary second: all that a re-ask can repeat.
    private(set) var boundaryIDs: [String: Date] = [:]
    private(set) var warnings: [String] = []

    init(configuration: DeploysConfiguration, window: PollWindow) {
        self.configuration = configuration
        self.window = window
        self.before = window.end
        self.limit = configuration.pageSize
    }

    var checkpoint: Date? { pending ? nil : window.end }

    /// The next page's `before` while the walk goes on.
    var resumePosition: String? { pending ? before.map(RFC3339.format) : nil }

    mutating func resume(before: Date) {
        self.before = before
    }

    mutating func nextRequest() throws -> WireRequest? {
        guard pending, let before else { return nil }
        let body = DeploysListRequest(
            project: configuration.project,
            resourceType: configuration.resourceType,
            actor: configuration.actor,
            channel: configuration.channel,
            outcome: configuration.outcome,
            // `after` may be strict upstream: ask from one second earlier; dedupe drops the repeat.
            after: RFC3339.formatSeconds(window.start.addingTimeInterval(-1)),
            before: RFC3339.formatSeconds(before),
            limit: limit)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let headers = [
            WireRequest.Header("Content-Type", "application/json"), WireRequest.Header("Accept", "application/json"), configuration.auth.header,
        ]
        return WireRequest(
            method: "POST", url: configuration.baseURL.appendingEndpoint("/" + configuration.method),
            headers: headers, body: try encoder.encode(body))
    }

    /// A page's items with their ids and times: read without a tree when the page allows
    /// (`DeploysPageReader`), otherwise from one, which also words what is wrong with the page.
    static func items(of body: Data) throws -> [DeploysPageReader.Item] {
        if let items = DeploysPageReader.items(of: body) { return items }
        return try DeploysEnvelope.items(of: body).map { item in
            let (upstreamID, time) = try DeploysNormalizer.identify(item.json)
            return DeploysPageReader.Item(upstreamID: upstreamID, time: time, fields: DeploysItemFields(item.json), text: item.text, tree: item.json)
        }
    }

    /// Paging needs only each item's id and time; the rest of normalizing is deferred.
    mutating func read(_ response: WireResponse, receivedAt: Date) throws -> PageEntries {
        let items = try Self.items(of: response.body)
        var kept: [DeploysPageReader.Item] = []
        kept.reserveCapacity(items.count)
        var oldest: Date?
        for item in items {
            oldest = min(oldest ?? item.time, item.time)
            // Only a page that re-asks a boundary second can repeat ids.
            if !boundaryIDs.isEmpty, boundaryIDs[item.upstreamID] != nil { continue }
            kept.append(item)
        }
        let (configuration, keptItems) = (configuration, kept)
        let entries = PageEntries {
            keptItems.map {
                DeploysNormalizer.normalize(
                    $0.fields, raw: $0.tree ?? .null, upstreamID: $0.upstreamID, time: $0.time, configuration: configuration,
                    receivedAt: receivedAt, rawText: $0.text)
            }
        } encoded: {
            DeploysNativeWriter.encode(keptItems, configuration: configuration, receivedAt: receivedAt)
        }
        guard items.count >= limit, let oldest else {
            pending = false
            return entries
        }
        let boundarySecond = Date(timeIntervalSince1970: oldest.timeIntervalSince1970.rounded(.down))
        if kept.isEmpty, limit < DeploysConfiguration.maximumPageSize {
            // One second holds more rows than page_size: ask the same second again with the largest page.
            limit = DeploysConfiguration.maximumPageSize
            return entries
        }
        limit = configuration.pageSize
        if kept.isEmpty {
            // A full page of rows this poll has all seen: more rows share one second than a page
            // holds, and the API cannot page inside one second. Step past it, and say so.
            warnings.append(
                "more than \(DeploysConfiguration.maximumPageSize) events share the second \(RFC3339.formatSeconds(oldest)); the API cannot page within one second, so some of them may be skipped: lower page_size pressure with filters or a shorter poll_interval"
            )
            before = oldest
        } else {
            before = boundarySecond.addingTimeInterval(1)
        }
        // Only rows of the boundary second can come back on the next page (and rows of the second
        // `before` names, should the API read it inclusively by whole seconds). Everything newer is dropped: the walk goes
        // newest first, so keeping `>= boundarySecond` held every id of the poll (memory and a
        // filter over it per page, both growing with the backlog).
        let pastRepeatable = boundarySecond.addingTimeInterval(2)
        boundaryIDs = boundaryIDs.filter { $0.value >= boundarySecond && $0.value < pastRepeatable }
        for entry in kept where entry.time >= boundarySecond && entry.time < pastRepeatable {
            boundaryIDs[entry.upstreamID] = entry.time
        }
        return entries
    }
}

/// The request body of `auditLog.list`. Absent filters are omitted, never sent as "".
struct DeploysListRequest: Encodable {
    var project: String
    var resourceType: String?
    var actor: String?
    var channel: String?
    var outcome: String?
    var after: String?
    var before: String?
    var limit: Int
}
