import Connectors
import Foundation

/// A configured sink as the engine, `dry-run` and `check --connect` use it, whatever its type:
/// the one extension point a kind of sink implements. Every HTTP sink is an `HTTPSinkTarget`
/// (what differs between them lives in its `HTTPSinkConnector`); the file sink is a
/// `FileSinkTarget`. Nothing outside these two asks which kind a sink is.
protocol SinkTarget: Sendable {
    /// Where the sink's credentials go; nil when nothing leaves the machine.
    var origin: URL? { get }
    /// Whether its requests carry a credential (a header marked secret).
    var sendsCredentials: Bool { get }
    /// Why an event must not be sent at all (it is dead-lettered instead); nil: send it.
    func preflight(_ event: EncodedEvent) -> String?
    /// The delivery a sink worker drives. `client` gives the HTTP client for the sink's TLS and
    /// proxy settings (shared between sinks with the same ones); a local sink never asks for it.
    func makeDelivery(for sink: SinkConfiguration, clock: EngineClock, client: () throws -> WireClient) throws -> any SinkDelivery
    /// What one batch would look like on the way out (`dry-run`): credentials shown as `<redacted>`.
    func preview(_ batch: [EncodedEvent], sink: SinkConfiguration) throws -> DryRunMode.Preview
    /// Whether the sink can be reached and takes its credentials, without indexing anything
    /// unless `sendTestEvent` (`check --connect`).
    func checkConnection(_ sink: SinkConfiguration, sendTestEvent: Bool) async -> ConnectivityCheck.Row
}

/// Any HTTP sink: Splunk HEC, Datadog, Elasticsearch, webhooks.
struct HTTPSinkTarget: SinkTarget {
    let connector: any HTTPSinkConnector

    var origin: URL? { connector.origin }

    func preflight(_ event: EncodedEvent) -> String? { connector.preflight(event) }

    var sendsCredentials: Bool {
        (try? connector.makeRequest(batch: [EncodedEvent(id: "probe", time: Date(), body: Data("{}".utf8))], now: Date()))?
            .headers.contains(where: \.isSecret) ?? false
    }

    func makeDelivery(for sink: SinkConfiguration, clock: EngineClock, client: () throws -> WireClient) throws -> any SinkDelivery {
        HTTPSinkDelivery(
            connector: connector, client: try client(), timeout: sink.timeout, acknowledgement: sink.acknowledgement,
            compression: sink.compression, clock: clock)
    }

    func preview(_ batch: [EncodedEvent], sink: SinkConfiguration) throws -> DryRunMode.Preview {
        var request = try connector.makeRequest(batch: batch, now: Date())
        // The header the request carries; the body is shown before compression, to be read.
        if sink.compression == .gzip { request.headers.append(.init("Content-Encoding", "gzip")) }
        return DryRunMode.Preview(
            sink: sink.name, method: request.method, target: request.url.redactedForDisplay,
            headers: request.headers.map { ($0.name, $0.isSecret ? "<redacted>" : $0.value) }, body: request.body ?? Data())
    }

    func checkConnection(_ sink: SinkConfiguration, sendTestEvent: Bool) async -> ConnectivityCheck.Row {
        func row(_ ok: Bool, _ detail: String, contacted: Bool = true) -> ConnectivityCheck.Row {
            ConnectivityCheck.Row(kind: "sink", name: sink.name, ok: ok, detail: detail, contacted: contacted)
        }
        do {
            let client = try WireClient(tls: sink.tls, proxy: sink.proxy)
            defer { Task { await client.shutdown() } }
            let request: WireRequest
            let probe = connector.probeRequest()
            if let probe {
                request = probe
            } else if sendTestEvent {
                request = try connector.makeRequest(batch: [ConnectivityCheck.testEvent()], now: Date())
            } else {
                return row(true, "not contacted (add --send-test-event to post a test event)", contacted: false)
            }
            let response = try await client.send(request, timeout: sink.timeout)
            let judged = probe == nil ? nil : connector.classifyProbe(response)
            switch judged ?? connector.classify(response, batch: [ConnectivityCheck.testEvent()]) {
            case .delivered:
                return row(true, "HTTP \(response.status)")
            case .retry(_, let reason), .rejected(_, let reason), .gone(_, let reason), .tooLarge(let reason):
                return row(false, reason)
            case .partial:
                return row(false, "partially accepted")
            }
        } catch {
            return row(false, String(describing: error))
        }
    }
}

/// The NDJSON file sink.
struct FileSinkTarget: SinkTarget {
    let file: FileSink

    var origin: URL? { nil }
    var sendsCredentials: Bool { false }
    func preflight(_ event: EncodedEvent) -> String? { nil }

    func makeDelivery(for sink: SinkConfiguration, clock: EngineClock, client: () throws -> WireClient) throws -> any SinkDelivery {
        FileSinkDelivery(sink: file)
    }

    func preview(_ batch: [EncodedEvent], sink: SinkConfiguration) throws -> DryRunMode.Preview {
        var body = Data()
        for event in batch {
            body.append(event.body)
            body.append(UInt8(ascii: "\n"))
        }
        return DryRunMode.Preview(sink: sink.name, method: "APPEND", target: file.path, headers: [], body: body)
    }

    func checkConnection(_ sink: SinkConfiguration, sendTestEvent: Bool) async -> ConnectivityCheck.Row {
        let directory = (file.path as NSString).deletingLastPathComponent
        let probe = FileManager.default.fileExists(atPath: file.path) ? file.path : directory.isEmpty ? "." : directory
        let writable = FileManager.default.isWritableFile(atPath: probe)
        return ConnectivityCheck.Row(
            kind: "sink", name: sink.name, ok: writable, detail: writable ? "\(file.path) is writable" : "cannot write \(file.path)")
    }
}
