import Foundation
import NIOConcurrencyHelpers

/// A local 1Password Events API: `GET /api/v2/auth/introspect` and the three cursor-paged
/// streams `POST /api/v2/auditevents`, `/api/v2/signinattempts` and `/api/v2/itemusages`,
/// each over its own in-memory store. A body is either a reset (`limit`, `start_time`,
/// `end_time`) or `{"cursor": …}` alone; a caught-up cursor keeps working for later items.
public final class OnePasswordEmulator: Sendable {
    /// The account of the default token, in 1Password's 26-character base32 form.
    public static let defaultAccountUUID = "VZSYVT2LGHTBWBQGUJAIZVRABM"

    /// Required as `Authorization: Bearer <token>`.
    public let token: String
    /// Reported by introspect; the generators default to the same one.
    public let accountUUID: String
    /// The streams the token may read (introspect lists them); the others answer 403.
    public let features: Set<OnePasswordFeature>
    /// Scripted faults, consumed one per request; `.errorEnvelope` answers HTTP 500
    /// `{"Error":{"Message":…}}`, `.status(429, retryAfter:)` is the rate limit.
    public let faults = FaultInjector()

    struct State: Sendable {
        var stores: [OnePasswordFeature: TimeOrderedStore<StoredOnePasswordItem>] = [:]
    }

    /// Introspect's `uuid` and `issued_at`: fixed, so answers are reproducible.
    let tokenUUID = "OJQGRZW3EFHS5MRB2CUNZZ7DNE"
    let issuedAt = "2026-01-02T09:30:00Z"
    private let server = EmulatorServer(name: "1password")
    let state = NIOLockedValueBox(State())

    public init(
        token: String = "op-test-token",
        accountUUID: String = OnePasswordEmulator.defaultAccountUUID,
        features: Set<OnePasswordFeature> = Set(OnePasswordFeature.allCases)
    ) {
        self.token = token
        self.accountUUID = accountUUID
        self.features = features
    }

    /// Listens on 127.0.0.1 port 0; returns `http://127.0.0.1:PORT` once listening.
    /// Clients use it as their base URL (the routes start with `/api/v2`).
    public func start() async throws -> URL {
        try await server.start { [self] request in await self.respond(to: request) }
    }

    /// Graceful and fast (in-flight requests get at most 1 s).
    public func stop() async {
        await server.stop()
    }

    /// `http://127.0.0.1:PORT` while running.
    public var baseURL: URL? { server.baseURL }

    /// Adds audit events, in any order. Times are kept to the millisecond. Give each its own uuid.
    public func seed(_ events: [OnePasswordAuditEvent]) async {
        add(.auditEvents, events.map(StoredOnePasswordItem.init))
    }

    /// Adds sign-in attempts, in any order.
    public func seed(_ attempts: [OnePasswordSignInAttempt]) async {
        add(.signInAttempts, attempts.map(StoredOnePasswordItem.init))
    }

    /// Adds item usages, in any order.
    public func seed(_ usages: [OnePasswordItemUsage]) async {
        add(.itemUsages, usages.map(StoredOnePasswordItem.init))
    }

    /// Adds one audit event at its place in time: after a caught-up cursor's position it is
    /// served on the cursor's next call; behind it, it is never served (as upstream).
    public func insert(_ event: OnePasswordAuditEvent) async {
        insert(.auditEvents, StoredOnePasswordItem(event))
    }

    public func insert(_ attempt: OnePasswordSignInAttempt) async {
        insert(.signInAttempts, StoredOnePasswordItem(attempt))
    }

    public func insert(_ usage: OnePasswordItemUsage) async {
        insert(.itemUsages, StoredOnePasswordItem(usage))
    }

    /// Every request received, in order, including faulted and refused ones.
    public func requests() async -> [RecordedRequest] {
        server.requests()
    }

    /// The most requests this emulator was answering at the same moment.
    public func peakConcurrentRequests() async -> Int {
        server.peakConcurrentRequests()
    }

    /// How many items one stream holds.
    public func entryCount(_ feature: OnePasswordFeature = .auditEvents) async -> Int {
        state.withLockedValue { $0.stores[feature]?.entries.count ?? 0 }
    }

    private func add(_ feature: OnePasswordFeature, _ items: [StoredOnePasswordItem]) {
        state.withLockedValue { $0.stores[feature, default: TimeOrderedStore()].add(items) }
    }

    private func insert(_ feature: OnePasswordFeature, _ item: StoredOnePasswordItem) {
        state.withLockedValue { $0.stores[feature, default: TimeOrderedStore()].insert(item) }
    }
}
