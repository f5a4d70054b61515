import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus

/// `telemetry.listen`: `/metrics` (Prometheus text), `/healthz` (the process answers),
/// `/readyz` (the state is writable and no sink has been failing for longer than 5 minutes).
public enum TelemetryServer {
    /// The registry the process's metrics go to; `bootstrapMetrics()` wires swift-metrics to it once.
    public static let registry = PrometheusCollectorRegistry()

    public static func bootstrapMetrics() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// `host:port`, e.g. `127.0.0.1:9464`.
    static func address(_ listen: String) -> (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // No host: loopback only. Metrics name sources and sinks; listening on every interface is a choice to write out (0.0.0.0:9464).
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    static func application(listen: String, engine: Engine) -> (some ApplicationProtocol)? {
        guard let (host, port) = address(listen) else { return nil as Application<RouterResponder<BasicRequestContext>>? }
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            let body = registry.emitToBuffer()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let (ready, reason) = engine.readiness()
            return Response(status: ready ? .ok : .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: reason + "\n")))
        }
        var logger = engine.logger
        logger.logLevel = .warning
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }
}
