import Foundation
import NIOConcurrencyHelpers

/// A local Slack Audit Logs API: `GET /audit/v1/logs` over a seeded, in-memory log, newest
/// first, paged by an opaque `cursor` (`response_metadata.next_cursor`, empty at the end).
public final class SlackAuditEmulator: Sendable {
    /// Required as `Authorization: Bearer <token>` (a user token with `auditlogs:read`).
    public let token: String
    /// Scripted faults, consumed one per request. A `.status` fault answers Slack's shape
    /// (`{"ok": false, "error": "ratelimited"}` for 429); `.errorEnvelope(m)` answers HTTP 500
    /// `{"ok": false, "error": m}`.
    public let faults = FaultInjector()

    private let server = EmulatorServer(name: "slack-audit")
    let store = NIOLockedValueBox(TimeOrderedStore<StoredSlackEntry>())

    public init(token: String = "xoxp-slack-test-token") {
        self.token = token
    }

    /// Listens on 127.0.0.1 port 0; returns `http://127.0.0.1:PORT` once listening.
    /// Clients use it in place of `https://api.slack.com`.
    public func start() async throws -> URL {
        try await server.start { [self] request in await self.respond(to: request) }
    }

    /// Graceful and fast (in-flight requests get at most 1 s).
    public func stop() async {
        await server.stop()
    }

    /// `http://127.0.0.1:PORT` while running.
    public var baseURL: URL? { server.baseURL }

    /// Adds entries, in any order. Times are kept to the second. Give each its own id.
    public func seed(_ entries: [SlackAuditEntry]) async {
        let stored = entries.map(StoredSlackEntry.init)
        store.withLockedValue { $0.add(stored) }
    }

    /// Adds one entry at its place in time: a late entry behind a client's cursor.
    public func insert(_ entry: SlackAuditEntry) async {
        store.withLockedValue { $0.insert(StoredSlackEntry(entry)) }
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
        store.withLockedValue { $0.entries.count }
    }

    /// The next `times` requests are HTTP 429 `{"ok": false, "error": "ratelimited"}` with
    /// `Retry-After: <retryAfter>` (Slack's tier limits), queued after any other faults.
    public func rateLimit(times: Int = 1, retryAfter: Int = 30) async {
        await faults.enqueue(.status(429, retryAfter: String(retryAfter)), times: times)
    }
}
