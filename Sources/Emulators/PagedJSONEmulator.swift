import Foundation
import NIOConcurrencyHelpers

/// A generic paginated JSON API, one route per pagination style, for testing a generic
/// connector: `/next-link`, `/link-header`, `/page-number`, `/offset`, `/cursor`, `/newest`
/// (all GET) and `POST /search`. Time filtering by `since` (inclusive) and `until` (exclusive).
public final class PagedJSONEmulator: Sendable {
    /// Required in `X-API-Key`.
    public let apiKey: String
    /// Scripted faults, consumed one per request; `.errorEnvelope` answers HTTP 500 `{"error": …}`.
    public let faults = FaultInjector()

    let server = EmulatorServer(name: "paged-json")
    let store = NIOLockedValueBox(TimeOrderedStore<StoredPagedItem>())

    public init(apiKey: String = "paged-test-key") {
        self.apiKey = apiKey
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

    /// Adds items, in any order. Times are kept to the second. Give each its own uuid.
    public func seed(_ items: [PagedJSONItem]) async {
        let stored = items.map(StoredPagedItem.init)
        store.withLockedValue { $0.add(stored) }
    }

    /// Generates `count` items (see `generate`), adds them and returns them.
    @discardableResult
    public func seed(count: Int, from: Date, to: Date) async -> [PagedJSONItem] {
        let existing = await itemCount()
        let items = Self.generate(count: count, firstIndex: existing, from: from, to: to)
        await seed(items)
        return items
    }

    /// Adds one item at its place in time: a late event behind a client's cursor.
    public func insert(_ item: PagedJSONItem) async {
        store.withLockedValue { $0.insert(StoredPagedItem(item)) }
    }

    /// Every request received, in order, including faulted and refused ones.
    public func requests() async -> [RecordedRequest] {
        server.requests()
    }

    public func itemCount() async -> Int {
        store.withLockedValue { $0.entries.count }
    }

    /// `count` items spread evenly from `from` to `to` (both included) in whole seconds, so
    /// with many items several share a second. uuids are not in time order.
    public static func generate(count: Int, firstIndex: Int = 0, from: Date, to: Date) -> [PagedJSONItem] {
        guard count > 0 else { return [] }
        let start = from.timeIntervalSince1970
        let step = count == 1 ? 0 : (to.timeIntervalSince1970 - start) / Double(count - 1)
        let kinds = ["user.login", "user.logout", "repo.create", "repo.delete", "token.create", "member.invite"]
        let logins = ["alice", "bob", "carol", "ci-bot"]
        return (0..<count).map { i in
            let n = firstIndex + i
            let mixed = (UInt64(truncatingIfNeeded: n) &* 0xD6E8_FEB8_6659) & 0xFFFF_FFFF_FFFF
            let hex = String(mixed, radix: 16)
            return PagedJSONItem(
                uuid: "a3e1f0c2-7d44-4b1e-8f00-" + String(repeating: "0", count: 12 - hex.count) + hex,
                ts: Date(timeIntervalSince1970: (start + step * Double(i)).rounded(.down)),
                kind: kinds[n % kinds.count],
                login: logins[(n / 2) % logins.count],
                detail: "event \(n)"
            )
        }
    }
}
