import Foundation
import NIOConcurrencyHelpers

/// A local Pydantic Logfire audit-log API. The client's base URL is `<baseURL>/api`:
/// `GET /api/v1/audit-logs/` (a bare array, newest first, no pagination, at most a 90-day
/// window) and `GET /api/v1/audit-logs/{id}/` (the trailing slash is required).
public final class LogfireEmulator: Sendable {
    /// Required as `Authorization: Bearer <token>`.
    public let token: String
    /// The token's organization: only its records are served; others are invisible (404).
    public let organization: String
    /// Scripted faults, consumed one per request; `.errorEnvelope` answers HTTP 500 `{"detail": …}`.
    public let faults = FaultInjector()

    struct State: Sendable {
        var store = TimeOrderedStore<StoredLogfireEntry>()
        var forbidden = false
        var windows: [(start: Date, end: Date?)] = []
        var refusedLongWindows = 0
    }

    /// Where a missing `end_time` ends (and the 90-day rule is measured to).
    let now: @Sendable () -> Date
    private let server = EmulatorServer(name: "logfire")
    let state = NIOLockedValueBox(State())

    /// `now` stands for the server clock. Default: the real one.
    public init(
        token: String = "logfire-test-token",
        organization: String = "acme-org",
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.token = token
        self.organization = organization
        self.now = now
    }

    /// Listens on 127.0.0.1 port 0; returns `http://127.0.0.1:PORT` once listening.
    /// Clients use `<that>/api` as their base URL.
    public func start() async throws -> URL {
        try await server.start { [self] request in await self.respond(to: request) }
    }

    /// Graceful and fast (in-flight requests get at most 1 s).
    public func stop() async {
        await server.stop()
    }

    /// `http://127.0.0.1:PORT` while running (without `/api`).
    public var baseURL: URL? { server.baseURL }

    /// Adds records, in any order. Times are kept to the microsecond. Give each its own id.
    public func seed(_ entries: [LogfireEntry]) async {
        let stored = entries.map(StoredLogfireEntry.init)
        state.withLockedValue { $0.store.add(stored) }
    }

    /// Adds one record at its place in time: a late event behind a client's window.
    public func insert(_ entry: LogfireEntry) async {
        state.withLockedValue { $0.store.insert(StoredLogfireEntry(entry)) }
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

    /// When true, every authenticated request is 403 `{"detail": "token lacks access to the organization"}`.
    public func setForbidden(_ forbidden: Bool) async {
        state.withLockedValue { $0.forbidden = forbidden }
    }

    /// How many list requests were refused for a window longer than 90 days.
    public func refusedLongWindows() async -> Int {
        state.withLockedValue { $0.refusedLongWindows }
    }

    /// The window of every list request whose times parsed, refused ones included, in order;
    /// `end` is nil when `end_time` was left out.
    public func windowsAsked() async -> [(start: Date, end: Date?)] {
        state.withLockedValue { $0.windows }
    }
}
