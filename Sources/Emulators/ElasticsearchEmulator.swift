import Foundation
import NIOConcurrencyHelpers

/// A local Elasticsearch (8.13) for the bulk API: `POST /_bulk`, `POST /<index>/_bulk`, `GET /`,
/// with ApiKey or Basic auth, the trailing-newline rule and per-item results (PROTOCOLS.md, Sink 3).
public final class ElasticsearchEmulator: Sendable {
    /// Accepted as `Authorization: ApiKey <apiKey>` (the encoded key, base64 of `id:key`).
    public let apiKey: String?
    /// Accepted as `Authorization: Basic`. With neither credential configured, no auth is asked.
    public let basic: (String, String)?
    /// `http.max_content_length`: a body larger than this, compressed or inflated, is 413.
    /// Bodies above 64 MiB are refused by the server underneath before this check.
    public let maxContentLength: Int
    /// Scripted faults, consumed one per request, before anything else.
    public let faults = FaultInjector()

    private let server = EmulatorServer(name: "elasticsearch")
    let store = NIOLockedValueBox(ElasticsearchStore())

    public init(apiKey: String? = "es-test-key", basic: (String, String)? = nil, maxContentLength: Int = 100 << 20) {
        self.apiKey = apiKey
        self.basic = basic
        self.maxContentLength = maxContentLength
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

    /// Every `_bulk` call that was parsed and answered 200, in order.
    public func bulkRequests() async -> [ElasticsearchBulkRequest] {
        store.withLockedValue { $0.bulks }
    }

    /// The documents of `index`: `_id` → the document line exactly as sent.
    public func documents(index: String) async -> [String: String] {
        store.withLockedValue { $0.indexes[index]?.mapValues(\.source) ?? [:] }
    }

    /// Documents stored across every index.
    public func documentCount() async -> Int {
        store.withLockedValue { $0.indexes.values.reduce(0) { $0 + $1.count } }
    }

    /// The next `times` occurrences of each of `ids` in a bulk body fail with this per-item
    /// `status` and error `type` (e.g. 429 `es_rejected_execution_exception`) and are not stored.
    public func failItems(ids: Set<String>, status: Int, type: String, times: Int = 1) async {
        guard times > 0 else { return }
        store.withLockedValue { store in
            for id in ids { store.failures[id] = .init(status: status, type: type, remaining: times) }
        }
    }

    /// Forgets documents, bulk records, scripted item failures, requests and faults.
    public func reset() async {
        store.withLockedValue { $0 = ElasticsearchStore() }
        server.clearRequests()
        await faults.clear()
    }
}
