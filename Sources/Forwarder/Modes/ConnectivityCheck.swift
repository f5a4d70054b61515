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
        for source in configuration.sources {
            rows.append(await check(source, logger: logger))
        }
        for sink in configuration.sinks {
            rows.append(await check(sink, sendTestEvent: sendTestEvent))
        }
        return rows
    }

    private static func check(_ source: SourceConfiguration, logger: Logger) async -> Row {
        do {
            let client = try WireClient(tls: source.tls, proxy: source.proxy)
            defer { Task { await client.shutdown() } }
            // No retries: a check should answer now, with the first error (and its reason).
            var walker = PageWalker(
                configuration: source, client: client, sleeper: FailFastSleeper(),
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

    private static func check(_ sink: SinkConfiguration, sendTestEvent: Bool) async -> Row {
        switch sink.kind {
        case .file(let file):
            let directory = (file.path as NSString).deletingLastPathComponent
            let writable = FileManager.default.isWritableFile(atPath: FileManager.default.fileExists(atPath: file.path) ? file.path : directory.isEmpty ? "." : directory)
            return Row(kind: "sink", name: sink.name, ok: writable, detail: writable ? "\(file.path) is writable" : "cannot write \(file.path)")
        case .http(let connector):
            do {
                let client = try WireClient(tls: sink.tls, proxy: sink.proxy)
                defer { Task { await client.shutdown() } }
                let request: WireRequest
                let probe = connector.probeRequest()
                if let probe {
                    request = probe
                } else if sendTestEvent {
                    request = try connector.makeRequest(batch: [testEvent()], now: Date())
                } else {
                    return Row(
                        kind: "sink", name: sink.name, ok: true, detail: "not contacted (add --send-test-event to post a test event)",
                        contacted: false)
                }
                let response = try await client.send(request, timeout: sink.timeout)
                let judged = probe == nil ? nil : connector.classifyProbe(response)
                switch judged ?? connector.classify(response, batch: [testEvent()]) {
                case .delivered:
                    return Row(kind: "sink", name: sink.name, ok: true, detail: "HTTP \(response.status)")
                case .retry(_, let reason), .rejected(_, let reason), .gone(_, let reason), .tooLarge(let reason):
                    return Row(kind: "sink", name: sink.name, ok: false, detail: reason)
                case .partial:
                    return Row(kind: "sink", name: sink.name, ok: false, detail: "partially accepted")
                }
            } catch {
                return Row(kind: "sink", name: sink.name, ok: false, detail: String(describing: error))
            }
        }
    }

    static func testEvent() -> EncodedEvent {
        let id = "audit-forwarder-test-" + UUID().uuidString.lowercased()
        let body = #"{"id":"\#(id)","message":"audit-forwarder connectivity test","event_type":"other","action":"audit_forwarder.test"}"#
        return EncodedEvent(id: id, time: Date(), body: Data(body.utf8))
    }
}

/// Turns any wait (an upstream's rate-limit pause) into an immediate failure that says so.
struct FailFastSleeper: Sleeper {
    struct WouldWait: Error, CustomStringConvertible {
        var duration: Duration
        var description: String { "the upstream asks to wait \(DurationText.format(duration)) (rate limit); try again later" }
    }

    func sleep(for duration: Duration) async throws { throw WouldWait(duration: duration) }
}
