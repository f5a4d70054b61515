import Foundation
import NIOConcurrencyHelpers

/// A local DeepIntShield: `GET /api/audit-logs`, `POST /api/audit-logs/query`,
/// `GET /api/audit-logs/summary` and `GET /api/audit-logs/verify` over a seeded, in-memory
/// audit log, also served under `/api/enterprise/audit-logs` because `next_page` may point there.
public final class DeepIntShieldEmulator: Sendable {
    /// Accepted as `Bearer <token>`, or as the password of Basic auth with any user.
    public let token: String
    /// The path `next_page` links start with (`/query?page=N` is added for POST).
    /// Default `/api/audit-logs`; `/api/enterprise/audit-logs` is served too.
    public let nextPagePrefix: String
    /// Scripted faults, consumed one per request; `.errorEnvelope` answers HTTP 500 with the
    /// DeepIntShield error envelope.
    public let faults = FaultInjector()

    struct State: Sendable {
        var store = TimeOrderedStore<StoredShieldEntry>()
        /// `setNextPageLoop`: the page whose `next_page` points back, and where.
        var loop: (from: Int, to: Int)?
    }

    private let server = EmulatorServer(name: "deepintshield")
    let state = NIOLockedValueBox(State())

    public init(token: String = "shield-test-token", nextPagePrefix: String = "/api/audit-logs") {
        self.token = token
        self.nextPagePrefix = nextPagePrefix
    }

    /// Listens on 127.0.0.1 port 0; returns `http://127.0.0.1:PORT` once listening.
    public func start() async throws -> URL {
        try await server.start { [self] request in await self.respond(to: request) }
    }

    /// Graceful and fast (in-flight requests get at most 1 s).
    public func stop() async {
        await server.stop()
    }

    /// `http://127.0.0.1:PORT` while running.
    public var baseURL: URL? { server.baseURL }

    /// Adds entries, in any order. Times are kept to the millisecond. Give each its own event id.
    public func seed(_ entries: [DeepIntShieldEntry]) async {
        let stored = entries.map(StoredShieldEntry.init)
        state.withLockedValue { $0.store.add(stored) }
    }

    /// Adds one entry at its place in time: a late event behind a client's cursor.
    public func insert(_ entry: DeepIntShieldEntry) async {
        state.withLockedValue { $0.store.insert(StoredShieldEntry(entry)) }
    }

    /// Every request received, in order, including faulted and refused ones.
    public func requests() async -> [RecordedRequest] {
        server.requests()
    }

    public func entryCount() async -> Int {
        state.withLockedValue { $0.store.entries.count }
    }

    /// From now on the answer for page `fromPage` advertises `next_page` pointing at page
    /// `toPage` (even when `fromPage` is the last page): a loop the client must detect.
    public func setNextPageLoop(fromPage: Int, toPage: Int) async {
        state.withLockedValue { $0.loop = (fromPage, toPage) }
    }

    /// Back to honest `next_page` links.
    public func clearNextPageLoop() async {
        state.withLockedValue { $0.loop = nil }
    }
}
