import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import ServiceLifecycle

/// Answers one recorded request.
typealias EmulatorHandler = @Sendable (RecordedRequest) async -> EmulatorResponse

/// Errors of the emulator lifecycle.
public struct EmulatorError: Error, CustomStringConvertible {
    public var description: String
}

/// A certificate chain and key (PEM files) for an HTTPS emulator.
public struct EmulatorTLS: Sendable {
    public var certificateChainFile: String
    public var privateKeyFile: String
    /// An old server that speaks nothing newer (`.tlsv11`), to check the client refuses it.
    public var maximumVersion: TLSVersion?

    public init(certificateChainFile: String, privateKeyFile: String, maximumVersion: TLSVersion? = nil) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.maximumVersion = maximumVersion
    }
}

/// The plumbing every emulator shares: a Hummingbird server on 127.0.0.1 port 0,
/// the record of every request, start and graceful stop.
final class EmulatorServer: Sendable {
    private struct Running: Sendable {
        let group: ServiceGroup
        let task: Task<Void, any Error>
        let url: URL
    }

    /// Bodies above this are refused by Hummingbird; far above any batch a test sends.
    private static let maxBodySize = 64 << 20

    private let name: String
    private let running = NIOLockedValueBox<Running?>(nil)
    /// The port of the last start, kept after a stop so `restart` can listen there again.
    private let lastPort = NIOLockedValueBox<Int?>(nil)
    private let recorded = NIOLockedValueBox<[RecordedRequest]>([])
    /// Requests being answered now, and the most ever at once (concurrency tests).
    private let concurrency = NIOLockedValueBox((now: 0, peak: 0))

    init(name: String) {
        self.name = name
    }

    var baseURL: URL? { running.withLockedValue { $0?.url } }

    func requests() -> [RecordedRequest] { recorded.withLockedValue { $0 } }

    func clearRequests() { recorded.withLockedValue { $0.removeAll() } }

    /// The most requests that were being answered at the same moment (faults and latency included).
    func peakConcurrentRequests() -> Int { concurrency.withLockedValue { $0.peak } }

    /// Listens again on the port of the last start (a fresh one if it never ran): a sink that
    /// was down (connection refused) comes back at the address its clients were given.
    func restart(handler: @escaping EmulatorHandler) async throws -> URL {
        try await start(port: lastPort.withLockedValue { $0 } ?? 0, handler: handler)
    }

    /// Starts listening and returns `http://127.0.0.1:PORT` (`https://` with `tls`) once the socket
    /// is bound. Calling it again while running returns the same URL.
    /// `host`: another loopback address (127.0.0.2) stands in for a second machine.
    func start(host: String = "127.0.0.1", port requested: Int = 0, tls: EmulatorTLS? = nil, handler: @escaping EmulatorHandler) async throws -> URL {
        if let url = baseURL { return url }

        let recorded = self.recorded
        let concurrency = self.concurrency
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: Self.maxBodySize)
            let seen = RecordedRequest(
                method: request.method.rawValue,
                path: request.head.path ?? "/",
                headers: request.headers.map { (name: $0.name.rawName, value: $0.value) },
                body: Data(body.readableBytesView),
                authority: request.head.authority
            )
            recorded.withLockedValue { $0.append(seen) }
            concurrency.withLockedValue {
                $0.now += 1
                $0.peak = max($0.peak, $0.now)
            }
            defer { concurrency.withLockedValue { $0.now -= 1 } }
            return Response(await handler(seen))
        }

        // Quiet by default: the emulators run inside test output and the demo.
        var logger = Logger(label: "emulator.\(name)")
        logger.logLevel = .warning

        // The only way to learn the port picked for port 0 is the running channel.
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let server: HTTPServerBuilder
        if let tls {
            let certificates = try NIOSSLCertificate.fromPEMFile(tls.certificateChainFile)
            let key = try NIOSSLPrivateKey(file: tls.privateKeyFile, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
            if let maximum = tls.maximumVersion {
                configuration.maximumTLSVersion = maximum
                configuration.minimumTLSVersion = .tlsv1
            }
            server = try .tls(tlsConfiguration: configuration)
        } else {
            server = .http1()
        }
        let app = Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(host, port: requested)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: logger
        )
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        // A stop must be fast even with a request parked in a `.delay` fault: after 1 s the
        // requests are cancelled. No deadline on the cancellation itself: ServiceGroup enforces
        // one with fatalError, which took the whole test process down when a loaded machine
        // (the reliability suites) was slow to unwind.
        configuration.maximumGracefulShutdownDuration = .seconds(1)
        configuration.maximumCancellationDuration = nil
        let group = ServiceGroup(configuration: configuration)
        let task = Task {
            defer { portSink.finish() }
            try await group.run()
        }

        guard let port = await ports.first(where: { _ in true }), port > 0 else {
            // run() ended before listening: surface its error.
            try await task.value
            throw EmulatorError(description: "\(name) emulator stopped before listening")
        }
        let url = URL(string: "\(tls == nil ? "http" : "https")://\(host):\(port)")!
        let mine = Running(group: group, task: task, url: url)
        // Two concurrent starts: the first to finish wins, the other server goes away.
        let winner = running.withLockedValue { state -> Running in
            if let existing = state { return existing }
            state = mine
            return mine
        }
        if winner.url != url {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }
        lastPort.withLockedValue { $0 = winner.url.port }
        return winner.url
    }

    /// Graceful shutdown: stop accepting, let in-flight requests finish (at most 1 s).
    func stop() async {
        guard
            let current = running.withLockedValue({ state -> Running? in
                defer { state = nil }
                return state
            })
        else { return }
        await current.group.triggerGracefulShutdown()
        _ = try? await current.task.value
    }
}

extension Response {
    fileprivate init(_ reply: EmulatorResponse) {
        var fields = HTTPFields()
        for header in reply.headers {
            // Spelled through HTTPFields (re-exported by Hummingbird) to avoid importing HTTPTypes.
            if let name = HTTPFields.Element.Name(header.name) {
                fields.append(HTTPFields.Element(name: name, value: header.value))
            }
        }
        if let pause = reply.stallMidBody {
            let half = reply.body.count / 2
            let (first, rest) = (ByteBuffer(bytes: reply.body.prefix(half)), ByteBuffer(bytes: reply.body.dropFirst(half)))
            self.init(
                status: HTTPResponse.Status(code: reply.status),
                headers: fields,
                body: ResponseBody(contentLength: reply.body.count) { writer in
                    try await writer.write(first)
                    try await Task.sleep(for: pause)
                    try await writer.write(rest)
                    try await writer.finish(nil)
                }
            )
            return
        }
        guard let cut = reply.resetAfterBytes else {
            self.init(
                status: HTTPResponse.Status(code: reply.status),
                headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body))
            )
            return
        }
        // A body writer that throws after the head is out makes Hummingbird close the
        // connection: the client sees a `Content-Length` it never gets.
        let part = ByteBuffer(bytes: reply.body.prefix(cut))
        self.init(
            status: HTTPResponse.Status(code: reply.status),
            headers: fields,
            body: ResponseBody(contentLength: reply.body.count) { writer in
                try await writer.write(part)
                // Let the bytes leave before the close drops anything still queued.
                try await Task.sleep(for: .milliseconds(20))
                throw EmulatorError(description: "connection reset mid-body (fault)")
            }
        )
    }
}
