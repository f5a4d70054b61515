import Foundation
import NIOConcurrencyHelpers

/// A local GitHub audit-log API: `GET {prefix}/enterprises/{enterprise}/audit-log` and
/// `GET {prefix}/orgs/{org}/audit-log` (the prefix is empty for github.com, `/api/v3` for
/// Enterprise Server), with `phrase` (`created:` windows), `include`, `order`, `per_page` and
/// `after`/`before` cursors carried by the `Link` header. Every answer carries the
/// `X-RateLimit-*` headers of a 1,750-an-hour budget.
public final class GitHubAuditEmulator: Sendable {
    /// Required as `Authorization: Bearer <token>` (or GitHub's older `token <token>`).
    public let token: String
    /// The enterprise slug served; any other is 404.
    public let enterprise: String
    /// The organizations served (compared case-insensitively, as GitHub logins are).
    public let organizations: [String]
    /// Where the routes start: `""` or `/api/v3`; without the trailing slash.
    public let pathPrefix: String
    /// Requests allowed per hour (`X-RateLimit-Limit`).
    public let rateLimit: Int
    /// Scripted faults, consumed one per request; `.errorEnvelope` answers HTTP 500
    /// `{"message": …, "documentation_url": …}`.
    public let faults = FaultInjector()

    struct State: Sendable {
        var store = TimeOrderedStore<StoredGitHubAuditEvent>()
        /// Authenticated requests counted in the current hour, and when it ends (epoch
        /// seconds; nil before the first request).
        var used = 0
        var resetAt: Int64?
        /// What an exhausted budget answers: 403 (primary limit) or 429.
        var exceededStatus = 403
    }

    /// The rate-limit budget as one request saw it.
    struct RateWindow {
        var limit: Int
        var used: Int
        var resetAt: Int64
        var now: Int64
        /// This request was refused for it.
        var exceeded: Bool
        var status: Int

        var headers: [(name: String, value: String)] {
            [
                ("X-RateLimit-Limit", String(limit)), ("X-RateLimit-Remaining", String(max(0, limit - used))),
                ("X-RateLimit-Reset", String(resetAt)), ("X-RateLimit-Used", String(used)),
            ]
        }
    }

    /// The clock of the rate-limit window.
    let now: @Sendable () -> Date
    /// Internal: the `Link` URLs are absolute, on this server.
    let server = EmulatorServer(name: "github-audit")
    let state = NIOLockedValueBox(State())

    /// `now` stands for the server clock (the rate-limit hour). Default: the real one.
    public init(
        token: String = "ghp-test-token",
        enterprise: String = "acme",
        organizations: [String] = ["acme-org", "acme-labs"],
        pathPrefix: String = "",
        rateLimit: Int = 1750,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.token = token
        self.enterprise = enterprise
        self.organizations = organizations
        self.pathPrefix = pathPrefix.hasSuffix("/") ? String(pathPrefix.dropLast()) : pathPrefix
        self.rateLimit = rateLimit
        self.now = now
    }

    /// Listens on 127.0.0.1 port 0; returns `http://127.0.0.1:PORT` once listening.
    /// Clients use `<that><pathPrefix>` as their API base URL.
    public func start() async throws -> URL {
        try await server.start { [self] request in await self.respond(to: request) }
    }

    /// Graceful and fast (in-flight requests get at most 1 s).
    public func stop() async {
        await server.stop()
    }

    /// `http://127.0.0.1:PORT` while running (without the path prefix).
    public var baseURL: URL? { server.baseURL }

    /// Adds events, in any order. Times are kept to the millisecond. Give each its own document id.
    public func seed(_ events: [GitHubAuditEvent]) async {
        let stored = events.map(StoredGitHubAuditEvent.init)
        state.withLockedValue { $0.store.add(stored) }
    }

    /// Adds one event at its place in time: a late event behind a client's window.
    public func insert(_ event: GitHubAuditEvent) async {
        state.withLockedValue { $0.store.insert(StoredGitHubAuditEvent(event)) }
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

    /// Spends the whole budget: authenticated requests answer `status` (403, as GitHub's
    /// primary limit, or 429 with `Retry-After`) until `resetIn` seconds of `now` pass,
    /// then the budget is full again.
    public func exhaustRateLimit(status: Int = 403, resetIn seconds: Int = 60) async {
        let reset = epochSeconds() + Int64(seconds)
        state.withLockedValue { state in
            state.used = rateLimit
            state.resetAt = reset
            state.exceededStatus = status
        }
    }

    /// A full budget and a new hour from the next request.
    public func resetRateLimit() async {
        state.withLockedValue { state in
            state.used = 0
            state.resetAt = nil
            state.exceededStatus = 403
        }
    }

    /// Requests counted in the current hour (`X-RateLimit-Used`).
    public func rateLimitUsed() async -> Int {
        state.withLockedValue { $0.used }
    }

    /// Opens a new hour when the last one is over, then counts this request when `consume`
    /// (authenticated requests only) and the budget allows it.
    func countRequest(consume: Bool) -> RateWindow {
        let now = epochSeconds()
        return state.withLockedValue { state in
            if state.resetAt.map({ now >= $0 }) ?? true {
                state.used = 0
                state.resetAt = now + 3600
                state.exceededStatus = 403
            }
            let exceeded = consume && state.used >= rateLimit
            if consume, !exceeded { state.used += 1 }
            return RateWindow(
                limit: rateLimit, used: state.used, resetAt: state.resetAt ?? now + 3600, now: now,
                exceeded: exceeded, status: state.exceededStatus)
        }
    }

    private func epochSeconds() -> Int64 {
        Int64(now().timeIntervalSince1970.rounded(.down))
    }
}
