import Foundation
import NIOConcurrencyHelpers

/// A local Okta System Log API: `GET /api/v1/logs` over a seeded, in-memory log, paged by
/// `Link` headers (`rel="self"`, `rel="next"` with an opaque `after`), with Okta's
/// `X-Rate-Limit-*` budget on every answer.
public final class OktaEmulator: Sendable {
    /// Accepted as `Authorization: SSWS <token>` or `Bearer <token>`.
    public let token: String
    /// Requests allowed per one-minute window (`X-Rate-Limit-Limit`).
    public let rateLimit: Int
    /// Scripted faults, consumed one per request; `.errorEnvelope` answers HTTP 500 in Okta's
    /// error shape (`errorCode`, `errorSummary`, …).
    public let faults = FaultInjector()

    struct State: Sendable {
        var store = TimeOrderedStore<StoredOktaEvent>()
        /// The budget left in the current window, and when (epoch seconds) the window ends;
        /// 0: the first request opens a window.
        var remaining: Int
        var resetAt: Int64 = 0
        var rateLimited = 0
    }

    /// The server clock: rate-limit windows and the default `since` (7 days back).
    let now: @Sendable () -> Date
    let server = EmulatorServer(name: "okta")
    let state: NIOLockedValueBox<State>

    /// `now` stands for the server clock. Default: the real one.
    public init(
        token: String = "okta-test-token",
        rateLimit: Int = 600,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.token = token
        self.rateLimit = rateLimit
        self.now = now
        self.state = NIOLockedValueBox(State(remaining: rateLimit))
    }

    /// Listens on 127.0.0.1 port 0; returns `http://127.0.0.1:PORT` once listening.
    /// Clients use it as the org URL (`<that>/api/v1/logs`).
    public func start() async throws -> URL {
        try await server.start { [self] request in await self.respond(to: request) }
    }

    /// Graceful and fast (in-flight requests get at most 1 s).
    public func stop() async {
        await server.stop()
    }

    /// `http://127.0.0.1:PORT` while running.
    public var baseURL: URL? { server.baseURL }

    /// Adds events, in any order. Times are kept to the millisecond. Give each its own uuid.
    public func seed(_ events: [OktaLogEvent]) async {
        let stored = events.map(StoredOktaEvent.init)
        state.withLockedValue { $0.store.add(stored) }
    }

    /// Adds one event at its place in time: a late event behind a client's `after` cursor.
    public func insert(_ event: OktaLogEvent) async {
        state.withLockedValue { $0.store.insert(StoredOktaEvent(event)) }
    }

    /// Every request received, in order, including faulted and refused ones.
    public func requests() async -> [RecordedRequest] {
        server.requests()
    }

    /// The most requests this emulator was answering at the same moment.
    public func peakConcurrentRequests() async -> Int {
        server.peakConcurrentRequests()
    }

    public func entryCount() async -> Int {
        state.withLockedValue { $0.store.entries.count }
    }

    /// Sets the budget left in a window that ends `resetIn` seconds from now. At 0 every
    /// authenticated request is a 429 (`E0000047`, `X-Rate-Limit-Remaining: 0`) until the
    /// reset, when the budget is back to `rateLimit`.
    public func setRateLimitRemaining(_ remaining: Int, resetIn: Int = 60) async {
        let second = Int64(now().timeIntervalSince1970.rounded(.down))
        state.withLockedValue {
            $0.remaining = max(0, remaining)
            $0.resetAt = second + Int64(max(1, resetIn))
        }
    }

    /// How many requests were refused with 429 for an exhausted budget (not `.status(429)` faults).
    public func rateLimitedCount() async -> Int {
        state.withLockedValue { $0.rateLimited }
    }
}
