import Foundation
import NIOConcurrencyHelpers

/// A local Datadog Logs intake: `POST /api/v2/logs` with the API-key check, the payload limits
/// and the silent 202-then-drop of stale entries (PROTOCOLS.md, Sink 2).
public final class DatadogLogsEmulator: Sendable {
    /// Largest uncompressed payload; beyond it the request is 413 (split the batch).
    public static let maxPayloadBytes = 5_000_000
    /// Most entries per array; beyond it the request is 400.
    public static let maxEntries = 1000
    /// Largest serialized entry; beyond it the entry is accepted but its `message` truncated.
    public static let maxEntryBytes = 1_000_000
    /// An entry with a reserved date older than this is answered 202 and discarded.
    public static let maxAge: Duration = .seconds(18 * 3600)

    /// The `DD-API-KEY` every request must carry.
    public let apiKey: String
    /// Scripted faults, consumed one per request, before anything else.
    public let faults = FaultInjector()

    /// Entries as JSON text (re-serialized with sorted keys) so the state is `Sendable`.
    struct State {
        var accepted: [Data] = []
        var stale: [Data] = []
        var truncated = 0
    }

    private let server = EmulatorServer(name: "datadog")
    let state = NIOLockedValueBox(State())

    public init(apiKey: String = "dd-test-key") {
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

    /// Entries Datadog kept, in order, as `JSONSerialization` parses them (strings, numbers,
    /// `Bool`, arrays, dictionaries, `NSNull`); a truncated entry appears with its cut `message`.
    public func acceptedLogs() async -> sending [[String: Any]] {
        Self.objects(state.withLockedValue { $0.accepted })
    }

    /// How many entries Datadog kept, without parsing them.
    public func acceptedCount() async -> Int {
        state.withLockedValue { $0.accepted.count }
    }

    /// Entries answered 202 but discarded for a reserved date more than 18 h old: the silent
    /// loss a client must avoid. Same representation as `acceptedLogs()`.
    public func droppedStale() async -> sending [[String: Any]] {
        Self.objects(state.withLockedValue { $0.stale })
    }

    /// How many accepted entries were larger than 1 MB and truncated.
    public func truncatedCount() async -> Int {
        state.withLockedValue { $0.truncated }
    }

    /// Forgets entries, requests and faults.
    public func reset() async {
        state.withLockedValue { $0 = State() }
        server.clearRequests()
        await faults.clear()
    }

    private static func objects(_ texts: [Data]) -> [[String: Any]] {
        texts.compactMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
    }
}
