import Foundation

// A loopback server whose every answer the test writes: pagination links to other hosts, pages
// too large to take. Internal emulator plumbing, hence the testable import, kept to this file.
@testable import Emulators

/// Answers each request with what `respond` returns and records it. `host` may be another
/// loopback address (127.0.0.2) standing in for a second machine.
final class HostileServer: Sendable {
    private let server = EmulatorServer(name: "hostile")
    private let respond: @Sendable (_ path: String, _ baseURL: URL) -> (status: Int, headers: [(String, String)], body: Data)

    init(_ respond: @escaping @Sendable (_ path: String, _ baseURL: URL) -> (status: Int, headers: [(String, String)], body: Data)) {
        self.respond = respond
    }

    func start(host: String = "127.0.0.1", tls: EmulatorTLS? = nil) async throws -> URL {
        let (server, respond) = (server, respond)
        return try await server.start(host: host, tls: tls) { request in
            let answer = respond(request.path, server.baseURL!)
            return EmulatorResponse(status: answer.status, headers: answer.headers, body: answer.body)
        }
    }

    func stop() async { await server.stop() }

    /// Every request received: path (with query) and headers.
    var requests: [(path: String, headers: [(name: String, value: String)])] {
        server.requests().map { ($0.path, $0.headers) }
    }
}
