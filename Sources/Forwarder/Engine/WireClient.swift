import AsyncHTTPClient
import Connectors
import Foundation
import NIOCore
import NIOSSL

/// Sends connectors' requests over AsyncHTTPClient. One client per TLS setting; redirects are
/// never followed (a webhook redirect must not carry our signature elsewhere).
public final class WireClient: Sendable {
    private let client: HTTPClient
    /// At least the widest backfill (`--concurrency` 16) plus a live poll and a sink.
    static let connectionsPerHost = 32
    /// Responses larger than this are an error, not a memory blow-up. Default: 64 MiB.
    let maxResponseBytes: Int

    public init(tls: TLSOptions = .standard, maxResponseBytes: Int = 64 << 20) throws {
        var configuration = HTTPClient.Configuration()
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
    public func send(_ request: WireRequest, timeout: Duration) async throws -> WireResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = .init(rawValue: request.method)
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let deadline = ContinuousClock.now + timeout
        do {
            let response = try await client.execute(outgoing, timeout: .milliseconds(timeout.milliseconds))
            // `execute`'s deadline ends when the headers arrive; a body that stalls or trickles
            // must not hold the request past `timeout` either, so the rest of the time bounds it.
            let body = response.body
            let limit = maxResponseBytes
            let bytes = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await body.collect(upTo: limit) }
                group.addTask {
                    try await Task.sleep(until: deadline)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let bytes = first else { throw HTTPClientError.deadlineExceeded }
                return bytes
            }
            return WireResponse(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: Data(bytes.readableBytesView))
        } catch is CancellationError {
            throw CancellationError()
        } catch where Task.isCancelled {
            // A cancelled request surfaces as HTTPClientError.cancelled: report the cancellation,
            // not a failed request to retry.
            throw CancellationError()
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw WireError(url: request.url, reason: "timed out after \(DurationText.format(timeout))")
        } catch {
            throw WireError(url: request.url, reason: TLSFailure.describe(error, host: request.url.host ?? "") ?? String(describing: error))
        }
    }

    public func shutdown() async {
        try? await client.shutdown()
    }
}

/// No HTTP response: connection refused or reset, TLS failure, timeout, oversize body. Always retried.
public struct WireError: Error, CustomStringConvertible {
    public var url: URL
    public var reason: String
    public var description: String {
        // Never the query string: some APIs take credentials there.
        "\(url.scheme ?? "http")://\(url.host ?? "?")\(url.port.map { ":\($0)" } ?? "")\(url.path): \(reason)"
    }
}
