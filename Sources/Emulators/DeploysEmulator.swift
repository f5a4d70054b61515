import Foundation
import NIOConcurrencyHelpers

/// A local deploys.app: `POST /auditLog.list` (or `/auditlog.list`) over a seeded,
/// in-memory audit log, with the HTTP-200 error envelopes of PROTOCOLS.md.
public final class DeploysEmulator: Sendable {
    /// The bearer token every request must carry.
    public let token: String
    /// The only project this token may read; any other is `iam: forbidden`.
    public let project: String
    /// Service-account credentials also accepted as Basic auth (PROTOCOLS.md allows both). Default: none.
    public let serviceAccount: (email: String, key: String)?
    /// Scripted faults, consumed one per request.
    public let faults = FaultInjector()

    private let server = EmulatorServer(name: "deploys")
    let store = NIOLockedValueBox(DeploysStore())

    public init(
        token: String = "deploys-test-token",
        project: String = "acme",
        serviceAccount: (email: String, key: String)? = nil
    ) {
        self.token = token
        self.project = project
        self.serviceAccount = serviceAccount
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

    /// Adds items, in any order. `createdAt` is truncated to whole seconds. Ids are not
    /// checked for uniqueness: give each item its own.
    public func seed(_ items: [DeploysAuditItem]) async {
        store.withLockedValue { $0.add(items) }
    }

    /// Adds one item at its place in time: a "late" event that shows up after clients
    /// have already paged past its timestamp.
    public func insert(_ item: DeploysAuditItem) async {
        store.withLockedValue { $0.insert(item) }
    }

    /// Every request received, in order, including faulted and refused ones.
    public func requests() async -> [RecordedRequest] {
        server.requests()
    }

    /// The most requests that were being answered at once (a client's concurrency).
    public func peakConcurrentRequests() async -> Int {
        server.peakConcurrentRequests()
    }

    public func itemCount() async -> Int {
        store.withLockedValue { $0.count }
    }
}
