import Checkpoint
import Connectors
import Foundation
import Logging

/// `check --connect`: authenticate to every source (one tiny window, first page only) and reach
/// every sink, and say OK or FAIL with the reason. Nothing is written to the state.
public enum ConnectivityCheck {
    public struct Row: Sendable, Equatable {
        public var kind: String
        public var name: String
        public var ok: Bool
        public var detail: String
        /// False for a sink there was no harmless way to reach (a webhook without `--send-test-event`):
        /// neither OK nor FAIL, shown as SKIP.
        public var contacted = true
    }

    public static func run(configuration: ForwarderConfiguration, sendTestEvent: Bool, logger: Logger) async -> [Row] {
        var rows: [Row] = []
        if configuration.state.isShared { rows.append(checkDatabase(configuration.state)) }
        for source in configuration.sources {
            rows.append(await check(source, logger: logger))
        }
        for sink in configuration.sinks {
            rows.append(await sink.target.checkConnection(sink, sendTestEvent: sendTestEvent))
        }
        return rows
    }

    /// A shared state: connect, check the schema (reading only), and whether it accepts writes.
    private static func checkDatabase(_ state: ForwarderConfiguration.State) -> Row {
        let name = state.displayName
        guard let location = state.database else {
            return Row(kind: "state", name: name, ok: false, detail: "state.url cannot be read in this shell")
        }
        do {
            let cursors = try PostgresStateStore.peekCursors(location: location)
            return Row(kind: "state", name: name, ok: true, detail: "connected; \(cursors.count) source cursor(s) stored")
        } catch {
            return Row(kind: "state", name: name, ok: false, detail: String(describing: error))
        }
    }

    private static func check(_ source: SourceConfiguration, logger: Logger) async -> Row {
        do {
            let client = try WireClient(tls: source.tls, proxy: source.proxy)
            defer { Task { await client.shutdown() } }
            // No retries: a check should answer now, with the first error (and its reason).
            var walker = PageWalker(
                configuration: source, client: client, clock: .system.failingWaits(),
                rateLimiter: RateLimiter(limit: nil), logger: logger)
            walker.pageRetry = RetryPolicy(maxAttempts: 1)
            let now = Date()
            var count = 0
            try await walker.walk(PollWindow(start: now.addingTimeInterval(-60), end: now)) { entries, _ in
                count = entries.count
                return false
            }
            return Row(kind: "source", name: source.name, ok: true, detail: "authenticated; \(count) event(s) in the last minute")
        } catch {
            return Row(kind: "source", name: source.name, ok: false, detail: String(describing: error))
        }
    }

    static func testEvent() -> EncodedEvent {
        let id = "audit-forwarder-test-" + UUID().uuidString.lowercased()
        let body = #"{"id":"\#(id)","message":"audit-forwarder connectivity test","event_type":"other","action":"audit_forwarder.test"}"#
        return EncodedEvent(id: id, time: Date(), body: Data(body.utf8))
    }
}
