import Foundation

/// An HTTP request a connector wants sent. Connectors only translate; the engine does the I/O.
public struct WireRequest: Sendable, Equatable {
    public var method: String
    public var url: URL
    public var headers: [Header]
    public var body: Data?

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        /// Carries a credential: dry-run and logs show it as `<redacted>`.
        public var isSecret: Bool

        public init(_ name: String, _ value: String, isSecret: Bool = false) {
            self.name = name
            self.value = value
            self.isSecret = isSecret
        }
    }

    public init(method: String, url: URL, headers: [Header] = [], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// An HTTP response as the engine received it.
public struct WireResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public static func == (lhs: WireResponse, rhs: WireResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body
            && lhs.headers.map { "\($0.name):\($0.value)" } == rhs.headers.map { "\($0.name):\($0.value)" }
    }
}

extension URL {
    /// `base` + `path`, keeping any path prefix of the base (e.g. a reverse-proxy mount).
    public func appendingEndpoint(_ path: String) -> URL {
        var text = absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return URL(string: text + (path.hasPrefix("/") ? path : "/" + path))!
    }
}
