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
        MetricsSystem.bootstrap(MetricsFactoryWithHelp(registry: registry))
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

    /// Why the telemetry endpoint could not listen at `listen` now (nil: it can), found by binding a
    /// socket the way the server will (SO_REUSEADDR) and closing it: a port in use must be a
    /// configuration error naming the key, not a daemon that fails and is restarted forever.
    static func bindProblem(_ listen: String) -> String? {
        guard let (host, port) = address(listen) else { return "must be host:port, e.g. 127.0.0.1:9464" }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let info = found else {
            return "cannot resolve \(host) to an address of this machine"
        }
        defer { freeaddrinfo(found) }
        let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 else { return nil }
        switch errno {
        case EADDRINUSE: return "port \(port) is in use by another process (another audit-forwarder?); choose another port"
        case EADDRNOTAVAIL: return "\(host) is not an address of this machine"
        case EACCES: return "permission denied (ports below 1024 need privileges); choose a port above 1023"
        default: return String(cString: strerror(errno))
        }
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
