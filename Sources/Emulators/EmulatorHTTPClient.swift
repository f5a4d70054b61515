import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny HTTP/1.1 client for plain `http://` URLs, one connection per request.
///
/// It exists so the emulator tests and the demo can talk to the emulators without
/// `FoundationNetworking` (libcurl) and without the forwarder's own HTTP stack, which the
/// emulators must stay independent of.
public enum EmulatorHTTPClient {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Sends one request and returns the whole response. `Host`, `Content-Length` (unless
    /// given) and `Connection: close` are added. Throws on a connection error or after `timeout`.
    public static func send(
        method: String = "GET",
        url: URL,
        headers: [(String, String)] = [],
        body: Data = Data(),
        timeout: Duration = .seconds(30)
    ) async throws -> (status: Int, headers: [(String, String)], body: Data) {
        guard url.scheme == "http", let host = url.host,
            let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        else { throw Failure(description: "only http:// URLs are supported: \(url)") }
        let port = url.port ?? 80
        var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { target += "?" + query }

        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if !head.headers.contains(name: "Content-Length") {
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        head.headers.add(name: "Connection", value: "close")
        let request = head

        return try await withThrowingTaskGroup(of: (status: Int, headers: [(String, String)], body: Data).self) { group in
            group.addTask { try await exchange(host: host, port: port, head: request, body: body) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure(description: "no response from \(url) within \(timeout)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private static func exchange(
        host: String,
        port: Int,
        head: HTTPRequestHead,
        body: Data
    ) async throws -> (status: Int, headers: [(String, String)], body: Data) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }

        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.head(head))
            if !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))

            var status = 0
            var headers: [(String, String)] = []
            var data = Data()
            for try await part in inbound {
                switch part {
                case .head(let response):
                    status = Int(response.status.code)
                    headers = response.headers.map { ($0.name, $0.value) }
                case .body(let chunk):
                    data.append(contentsOf: chunk.readableBytesView)
                case .end:
                    return (status, headers, data)
                }
            }
            throw Failure(description: "connection closed before the response ended")
        }
    }
}
