import AsyncHTTPClient
import Connectors
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// Sends connectors' requests over AsyncHTTPClient. One client per TLS setting; redirects are
/// never followed (a webhook redirect must not carry our signature elsewhere).
public final class WireClient: Sendable {
    private let client: HTTPClient
    private let isShutDown = Mutex(false)
    /// At least the widest backfill (`--concurrency` 16) plus a live poll and a sink.
    static let connectionsPerHost = 32
    /// Responses larger than this are an error, not a memory blow-up. Default: 64 MiB.
    let maxResponseBytes: Int

    public init(tls: TLSOptions = .standard, proxy: ProxyServer? = nil, maxResponseBytes: Int = 64 << 20) throws {
        var configuration = HTTPClient.Configuration()
        if let proxy {
            let authorization = proxy.username.map { HTTPClient.Authorization.basic(username: $0, password: proxy.password?.reveal() ?? "") }
            configuration.proxy = .server(host: proxy.host, port: proxy.port, authorization: authorization)
        }
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .enabled(limit: .ratio(100))
        configuration.tlsConfiguration = try Self.tlsConfiguration(tls)
        // No idle read timeout: each request's `timeout` bounds it whole, body included (`send`).
        configuration.timeout = .init(connect: .seconds(10), read: nil)
        // One client serves every source and sink of a TLS setting, and a backfill fetches up to
        // 16 windows at once: AsyncHTTPClient's default of 8 connections per host queued the rest,
        // which then failed after the connect timeout.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: Self.connectionsPerHost)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.maxResponseBytes = maxResponseBytes
    }

    static func tlsConfiguration(_ options: TLSOptions) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = options.minimumVersion == .tls13 ? .tlsv13 : .tlsv12
        if let caFile = options.caFile {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        }
        if let certFile = options.certFile, let keyFile = options.keyFile {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        if options.insecureSkipVerify {
            tls.certificateVerification = .none
        } else if !options.verifyHostname {
            tls.certificateVerification = .noHostnameVerification
        }
        return tls
    }

    /// Sends `request`; throws `WireError` for anything that produced no HTTP response.
    ///
    /// Through AsyncHTTPClient's delegate API: its deadline stays armed until the whole body has
    /// arrived (the async API's ends at the headers, so a body that stalls or trickles was bounded
    /// by a racing timer task), and the body is gathered on the event loop and handed over once,
    /// not chunk by chunk. Cancelling the calling task cancels the request.
    /// `maxBytes`: this request's own bound on the body (a source's `max_page_bytes`); at most the client's.
    public func send(_ request: WireRequest, timeout: Duration, maxBytes: Int? = nil) async throws -> WireResponse {
        let limit = min(maxBytes ?? maxResponseBytes, maxResponseBytes)
        do {
            let outgoing = try HTTPClient.Request(
                url: request.url.absoluteString, method: HTTPMethod(rawValue: request.method),
                headers: HTTPHeaders(request.headers.map { ($0.name, $0.value) }),
                body: request.body.map(RequestBody.make))
            let accumulator = ResponseAccumulator(request: outgoing, maxBodySize: limit)
            let task = client.execute(request: outgoing, delegate: accumulator, deadline: .now() + .milliseconds(timeout.milliseconds))
            let response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            return WireResponse(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: response.body.map { Data($0.readableBytesView) } ?? Data())
        } catch is CancellationError {
            throw CancellationError()
        } catch  where Task.isCancelled {
            // A cancelled request surfaces as HTTPClientError.cancelled: report the cancellation,
            // not a failed request to retry.
            throw CancellationError()
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw WireError(url: request.url, reason: "timed out after \(DurationText.format(timeout))")
        } catch is ResponseAccumulator.ResponseTooBigError {
            throw WireError(url: request.url, reason: "response larger than \(limit) bytes", isOverLimit: true)
        } catch {
            throw WireError(
                url: request.url,
                reason: TLSFailure.describe(error, host: request.url.host ?? "") ?? NetworkFailure.describe(error, url: request.url)
                    ?? String(describing: error))
        }
    }

    public func shutdown() async {
        isShutDown.withLock { $0 = true }
        try? await client.shutdown()
    }

    /// A client freed without `shutdown()` (a caller that threw first) is shut down here: the
    /// shutdown keeps AsyncHTTPClient's client alive until it is done, instead of its debug
    /// builds trapping on a client freed while running (which took a whole test run down).
    deinit {
        if !isShutDown.withLock({ $0 }) { client.shutdown { _ in } }
    }
}

/// No HTTP response: connection refused or reset, TLS failure, timeout, oversize body. Always retried.
public struct WireError: Error, CustomStringConvertible {
    public var url: URL
    public var reason: String
    /// The body passed the size bound: sending again would only fetch the same page again.
    public var isOverLimit = false
    public var description: String {
        // Never the query string: some APIs take credentials there.
        "\(url.scheme ?? "http")://\(url.host ?? "?")\(url.port.map { ":\($0)" } ?? "")\(url.path): \(reason)"
    }
}
