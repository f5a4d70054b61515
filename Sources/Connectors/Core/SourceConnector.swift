import Foundation

/// The time range one poll covers: `start` inclusive, `end` fixed when the poll starts.
public struct PollWindow: Sendable, Equatable {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }
}

/// A source connector turns a window into HTTP requests and pages into normalized events.
/// Scheduling, retry, dedupe and durability are the engine's.
public protocol SourceConnector: Sendable {
    /// The source's configured name (used in event ids, metrics and the state).
    var name: String { get }
    /// The configured URL. The source's credentials go only to its origin (scheme, host, port):
    /// the engine refuses any request, a pagination link included, to another one.
    var origin: URL { get }
    /// Starts one poll over `window`.
    func makePoll(window: PollWindow) -> any SourcePoll
    /// The upstream's own error message in a non-2xx response, for a clear error (nil: none found).
    func upstreamMessage(in response: WireResponse) -> String?
    /// The longest window one request may ask for (nil: no limit). Backfill windows stay within it.
    var maximumWindow: TimeInterval? { get }
    /// How far back the upstream keeps its log (nil: unknown). A backfill from earlier is refused.
    var retention: TimeInterval? { get }
    /// Resumes a walk of `window` cut short, at a position its poll gave as `resumePosition`
    /// (nil: this connector does not resume; the window is read again).
    func makePoll(window: PollWindow, resumingAt position: String) -> (any SourcePoll)?
    /// For a newest-first walk whose window can be read in slices, each its own poll: the
    /// `resumePosition` at which a walk of a window goes on with everything older than `boundary`
    /// (a whole second), so slices fetched at once can be stored as one walk. nil (the default): the
    /// window is walked in one piece. A connector that answers here should give a `resumePosition`
    /// on every page of a walk (a page without one makes a walk cut short there start over).
    func resumePosition(olderThan boundary: Date) -> String?
}

extension SourceConnector {
    public var maximumWindow: TimeInterval? { nil }
    public var retention: TimeInterval? { nil }
    public func makePoll(window: PollWindow, resumingAt position: String) -> (any SourcePoll)? { nil }
    public func resumePosition(olderThan boundary: Date) -> String? { nil }
}

/// The paging state of one poll: what a source answers. The engine asks `nextRequest`, sends it
/// (retries, rate limits and origin checks are the engine's), hands a 2xx answer to `read`, and
/// stores the entries with `checkpoint`, until `nextRequest` returns nil.
public protocol SourcePoll: Sendable {
    /// The next page's request, or nil when the window has been read completely.
    mutating func nextRequest() throws -> WireRequest?
    /// Reads one 2xx page: paging state now, the entries through the returned `PageEntries` (which
    /// the engine may normalize while it fetches the next page). Throws `SourceError` when the page
    /// is an error or malformed.
    mutating func read(_ page: WireResponse, receivedAt: Date) throws -> PageEntries
    /// How far the source's cursor may safely move once the pages read so far are spooled.
    /// Newest-first APIs answer nil until the last page; the engine then uses the window end.
    var checkpoint: Date? { get }
    /// Things an operator should know about this poll that did not stop it (the engine logs each once).
    var warnings: [String] { get }
    /// For newest-first walks, whose `checkpoint` is nil until the last page: where the next page
    /// starts, so a walk cut short can go on from there (`SourceConnector.makePoll(window:resumingAt:)`).
    var resumePosition: String? { get }
    /// A non-2xx, non-transient answer this poll can live with (e.g. a detail record deleted since
    /// it was listed): the entries to spool. nil (the default) makes the engine fail the poll.
    mutating func readFailure(_ response: WireResponse, receivedAt: Date) throws -> [NormalizedEntry]?
}

/// A page's entries, normalized when `make` runs: it throws what reading the page would have.
public struct PageEntries: Sendable, ExpressibleByArrayLiteral {
    public let make: @Sendable () throws -> [NormalizedEntry]
    /// The same entries in the native encoding, written straight from the page, when the connector
    /// can (nil, or nil returned for a page it cannot: `encode` goes through `make`). Byte for byte
    /// what encoding `make`'s entries gives.
    let encodedDirectly: (@Sendable () throws -> [EncodedEntry]?)?

    public init(_ make: @escaping @Sendable () throws -> [NormalizedEntry]) {
        self.make = make
        encodedDirectly = nil
    }

    init(_ make: @escaping @Sendable () throws -> [NormalizedEntry], encoded: @escaping @Sendable () throws -> [EncodedEntry]?) {
        self.make = make
        encodedDirectly = encoded
    }

    /// The entries as the spool takes them.
    public func encode() throws -> [EncodedEntry] {
        if let entries = try encodedDirectly?() { return entries }
        return try make().map(EncodedEntry.init)
    }

    public init(arrayLiteral entries: NormalizedEntry...) {
        self = .ready(entries)
    }

    /// Entries normalized already.
    public static func ready(_ entries: [NormalizedEntry]) -> PageEntries {
        PageEntries { entries }
    }
}

extension SourcePoll {
    public var warnings: [String] { [] }
    public var resumePosition: String? { nil }
    public mutating func readFailure(_ response: WireResponse, receivedAt: Date) throws -> [NormalizedEntry]? { nil }

    /// `read`, normalizing at once (tests and tools that walk a source step by step).
    public mutating func consume(_ page: WireResponse, receivedAt: Date) throws -> [NormalizedEntry] {
        try read(page, receivedAt: receivedAt).make()
    }
}

/// One upstream entry, normalized, with the id the dedupe index keys on.
public struct NormalizedEntry: Sendable, Equatable {
    public var upstreamID: String
    public var event: AuditEvent
    /// The entry's own JSON text as the upstream sent it (made compact), when the connector kept
    /// it: the native encoding writes `raw` from it verbatim, so the entry reaches sinks exactly as
    /// sent (key order, number spelling, escapes) and is not written out again from `event.raw`.
    public var rawText: Data?

    public init(upstreamID: String, event: AuditEvent, rawText: Data? = nil) {
        self.upstreamID = upstreamID
        self.event = event
        self.rawText = rawText
    }
}

/// Why a page could not be used. The cursor stays where it was.
public struct SourceError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// The upstream answered with an error of its own (e.g. an HTTP-200 `{"ok": false}` envelope).
        case upstream
        /// The page is not what the protocol promises (bad JSON, wrong types).
        case malformed
        /// Paging does not make progress or loops.
        case pagination
    }

    public var kind: Kind
    public var message: String
    /// The page may be valid but is larger than `sources[].max_page_items` lets it be: a connector
    /// that can ask for less (a shorter window) may do so instead of failing.
    public var isOverLimit = false

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
