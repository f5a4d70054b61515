import Emulators
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One request to `base` + `target` (a path with its query, or an absolute URL). The default
/// timeout is the client's own 30 s: these tests check answers, not speed, and once, with the
/// whole suite on two cores, a five-second stall failed a hundred of them at once.
func call(
    _ method: String = "GET",
    _ base: URL,
    _ target: String,
    headers: [(String, String)] = [],
    json: Any? = nil,
    body: Data? = nil,
    timeout: Duration = .seconds(30)
) async throws -> Reply {
    let url = URL(string: target.hasPrefix("http") ? target : base.absoluteString + target)!
    var all = headers
    var data = body ?? Data()
    if let json {
        data = try JSONSerialization.data(withJSONObject: json)
        all.append(("Content-Type", "application/json"))
    }
    let (status, replyHeaders, replyBody) = try await EmulatorHTTPClient.send(
        method: method, url: url, headers: all, body: data, timeout: timeout)
    return Reply(status: status, headers: replyHeaders, body: replyBody)
}

func bearer(_ token: String) -> [(String, String)] {
    [("Authorization", "Bearer \(token)")]
}

func basic(_ user: String, _ password: String) -> [(String, String)] {
    [("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())]
}

extension Reply {
    /// The body as a JSON array of objects (empty when it is not one).
    var array: [[String: Any]] {
        ((try? JSONSerialization.jsonObject(with: body)) as? [[String: Any]]) ?? []
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// `detail` of a FastAPI error.
    var detail: String? { json?["detail"] as? String }
}

/// The raw bytes a server sends for one `GET`, read over a plain socket until it closes, so a
/// test can see a response cut short (which `EmulatorHTTPClient` turns into an error).
/// The blocking socket runs on its own thread: on the cooperative pool it would starve the
/// emulator's handlers on a 2-core machine.
func rawGET(_ base: URL, _ target: String, headers: [(String, String)]) async throws -> String {
    var request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(base.port!)\r\nConnection: close\r\n"
    for (name, value) in headers { request += "\(name): \(value)\r\n" }
    request += "\r\n"
    let (port, message) = (UInt16(base.port!), request)
    return try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try blockingExchange(port: port, message: message) })
        }
    }
}

private func blockingExchange(port: UInt16, message: String) throws -> String {
    #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw SocketFailure.failed }
    defer { close(fd) }
    // Long enough that a close by the server (the reset faults) is never mistaken for this
    // timeout, even on a loaded machine: the tests bound the time well below it.
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw SocketFailure.failed }
    _ = message.withCString { send(fd, $0, strlen($0), 0) }
    var received = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { break }
        received += buffer[0..<count]
    }
    return String(decoding: received, as: UTF8.self)
}

private enum SocketFailure: Error { case failed }
