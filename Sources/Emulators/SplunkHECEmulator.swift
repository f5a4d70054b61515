import Foundation
import NIOConcurrencyHelpers

/// A local Splunk HTTP Event Collector: `/services/collector[/event]`, `/raw`, `/ack` and
/// `/health`, with HEC's codes, token rules and indexer acknowledgement (PROTOCOLS.md, Sink 1).
public final class SplunkHECEmulator: Sendable {
    /// Configured tokens by value.
    public let tokens: [String: SplunkToken]
    /// Scripted faults, consumed one per request (any route), before anything else.
    public let faults = FaultInjector()

    struct State {
        var indexed: [SplunkIndexedEvent] = []
        var acks = SplunkAckLedger()
        /// HEC codes to answer to the next data requests, with their `Retry-After`.
        var failures: [(code: Int, retryAfter: String?)] = []
        /// The next data request's event at this index is refused with code 6 (those before it are indexed).
        var invalidEvent: Int?
    }

    private let server = EmulatorServer(name: "splunk")
    let state = NIOLockedValueBox(State())

    public init(tokens: [String: SplunkToken]) {
        self.tokens = tokens
    }

    /// One token, enabled, writing to `indexes` (empty = any).
    public convenience init(token: String = "splunk-test-token", indexes: [String] = [], acknowledgements: Bool = false) {
        self.init(tokens: [token: SplunkToken(indexes: indexes, acknowledgements: acknowledgements)])
    }

    /// Listens on 127.0.0.1 port 0; returns `http://127.0.0.1:PORT` once listening.
    public func start() async throws -> URL {
        try await server.start { [self] request in await self.respond(to: request) }
    }

    /// Graceful and fast (in-flight requests get at most 1 s).
    public func stop() async {
        await server.stop()
    }

    /// Listens again on the port it had before `stop()`: between the two, clients get
    /// "connection refused". What it received before the stop is kept.
    public func restart() async throws -> URL {
        try await server.restart { [self] request in await self.respond(to: request) }
    }

    /// `http://127.0.0.1:PORT` while running.
    public var baseURL: URL? { server.baseURL }

    /// Every request received, in order, including faulted and refused ones.
    public func requests() async -> [RecordedRequest] {
        server.requests()
    }

    /// Every event indexed, in order. On a per-event error (codes 6, 7, 12, 13, 15) the events
    /// before the bad one are indexed too, as real HEC may do: a client that resends the whole
    /// batch shows up here as duplicates.
    public func indexedEvents() async -> [SplunkIndexedEvent] {
        state.withLockedValue { $0.indexed }
    }

    /// The next `times` data requests (`/services/collector[/event]`, `/raw`) are answered
    /// with HEC `code` and its HTTP status, e.g. 9 → 503, 26 → 429, indexing nothing.
    public func failNext(code: Int, times: Int = 1, retryAfter: String? = nil) async {
        guard times > 0 else { return }
        state.withLockedValue { $0.failures += repeatElement((code: code, retryAfter: retryAfter), count: times) }
    }

    /// The next data request with more than `index` events indexes those before it and answers
    /// code 6 "Invalid data format" with `invalid-event-number: index`, as HEC does for a bad event.
    public func rejectEvent(at index: Int) async {
        state.withLockedValue { $0.invalidEvent = index }
    }

    /// How many polls answer `false` before an ackId turns `true` (default 1; 0 = at once).
    public func setAckDelayPolls(_ polls: Int) async {
        state.withLockedValue { $0.acks.delayPolls = max(0, polls) }
    }

    /// `ackId` never turns `true` (on `channel`, or on every channel when nil), so a client
    /// must give up after its ack timeout and resend. May be called before the id is issued.
    public func loseAck(_ ackId: Int, channel: String? = nil) async {
        state.withLockedValue { $0.acks.lose(ackId, channel: channel) }
    }

    /// AckIds issued and never reported indexed: batches whose sender stopped waiting (or died).
    public func outstandingAcks() async -> Int {
        state.withLockedValue { $0.acks.outstanding }
    }

    /// Forgets events, acks, requests, pending failures and faults.
    public func reset() async {
        state.withLockedValue { $0 = State() }
        server.clearRequests()
        await faults.clear()
    }
}
