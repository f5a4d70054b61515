import Foundation

/// A request as an emulator saw it, recorded before any fault or check applies,
/// so a test can assert the exact bytes a client sent.
public struct RecordedRequest: Sendable {
    /// The HTTP method, e.g. `POST`.
    public var method: String
    /// The request target as sent, query string included.
    public var path: String
    /// Every header in the order received, names as sent.
    public var headers: [(name: String, value: String)]
    /// The exact body bytes.
    public var body: Data
    /// The `Host` the client addressed (`127.0.0.1:PORT`, `localhost:PORT`); the server takes it
    /// out of `headers`.
    public var authority: String?

    public init(method: String, path: String, headers: [(name: String, value: String)], body: Data, authority: String? = nil) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.authority = authority
    }

    /// The first value of a header; names compare case-insensitively as HTTP requires.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The path without its query string.
    var pathWithoutQuery: String {
        path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
    }

    /// The `Authorization` header split into a lowercased scheme and its credentials.
    var authorization: (scheme: String, credentials: String)? {
        guard let header = header("Authorization"), let space = header.firstIndex(of: " ") else { return nil }
        return (header[..<space].lowercased(), header[space...].trimmingCharacters(in: .whitespaces))
    }

    /// The `user:password` of a Basic `Authorization` header.
    var basicCredentials: String? {
        guard let auth = authorization, auth.scheme == "basic", let decoded = Data(base64Encoded: auth.credentials) else { return nil }
        return String(decoding: decoded, as: UTF8.self)
    }
}
