import Connectors
import Foundation

/// An HTTP proxy that requests to one source or sink go through (HTTPS through it by CONNECT, so
/// the proxy sees only the host name). From the endpoint's `proxy` key, else from the
/// environment: `HTTPS_PROXY` for https:// endpoints, `HTTP_PROXY` for http://, unless the host
/// matches `NO_PROXY` (lower-case names too, as curl reads them).
public struct ProxyServer: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: Secret?

    /// `http://[user:password@]host[:port]`; the port defaults to 80. nil: not such a URL.
    public init?(_ text: String) {
        var text = text.trimmingCharacters(in: .whitespaces)
        if !text.contains("://") { text = "http://" + text }
        guard let url = URL(string: text), url.scheme?.lowercased() == "http", let host = url.host, !host.isEmpty,
            url.path.isEmpty || url.path == "/", url.query == nil
        else { return nil }
        self.host = host
        port = url.port ?? 80
        username = url.user.flatMap { $0.removingPercentEncoding ?? $0 }
        password = url.password.map { Secret($0.removingPercentEncoding ?? $0) }
    }

    /// Never the credentials.
    public var description: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    /// What the `proxy` key says: not set (the environment decides), `none` (direct), or a server.
    enum Choice: Equatable {
        case environment
        case direct
        case server(ProxyServer)
    }

    /// The proxy for requests to `url`, or nil to connect directly. Throws the name of an
    /// environment variable that holds no usable proxy URL.
    static func resolve(for url: URL, choice: Choice, environment: [String: String]) throws(InvalidVariable) -> ProxyServer? {
        switch choice {
        case .direct: return nil
        case .server(let server): return server
        case .environment: break
        }
        let host = (url.host ?? "").lowercased()
        if let noProxy = variable("NO_PROXY", in: environment), bypasses(host: host, noProxy: noProxy.value) { return nil }
        let https = url.scheme?.lowercased() == "https"
        guard let (name, value) = variable(https ? "HTTPS_PROXY" : "HTTP_PROXY", in: environment), !value.isEmpty else {
            return nil
        }
        guard let server = ProxyServer(value) else { throw InvalidVariable(name: name) }
        return server
    }

    struct InvalidVariable: Error {
        var name: String
    }

    /// The upper-case name first, then the lower-case one.
    private static func variable(_ name: String, in environment: [String: String]) -> (name: String, value: String)? {
        if let value = environment[name] { return (name, value) }
        if let value = environment[name.lowercased()] { return (name.lowercased(), value) }
        return nil
    }

    /// `NO_PROXY`: comma-separated host names, domain suffixes (`.corp`, `corp`) and `*` for
    /// every host; a `:port` on an entry is ignored; IP addresses match exactly.
    static func bypasses(host: String, noProxy: String) -> Bool {
        for rawEntry in noProxy.split(separator: ",") {
            var entry = rawEntry.trimmingCharacters(in: .whitespaces).lowercased()
            if entry == "*" { return true }
            if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
                entry = String(entry[entry.index(after: entry.startIndex)..<close])
            } else if let colon = entry.lastIndex(of: ":"), entry.filter({ $0 == ":" }).count == 1 {
                entry = String(entry[..<colon])
            }
            while entry.hasPrefix(".") || entry.hasPrefix("*") { entry.removeFirst() }
            guard !entry.isEmpty else { continue }
            if host == entry || host.hasSuffix("." + entry) { return true }
        }
        return false
    }
}

extension ConfigReader {
    /// `proxy`: an `http://host:port` URL, or `none` to bypass the environment's proxy; unset,
    /// `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` decide. Resolved for `endpoint` now, so a bad proxy
    /// is a configuration error.
    func proxy(for endpoint: URL?) -> ProxyServer? {
        var choice = ProxyServer.Choice.environment
        if let text = string("proxy") {
            if text.lowercased() == "none" {
                choice = .direct
            } else if let server = ProxyServer(text) {
                choice = .server(server)
            } else {
                fail("proxy", "must be an http://host:port URL (HTTPS goes through it by CONNECT) or none")
                return nil
            }
        }
        guard let endpoint else { return nil }
        do {
            return try ProxyServer.resolve(for: endpoint, choice: choice, environment: environmentVariables)
        } catch {
            fail("proxy", "the environment variable \(error.name) is not an http://host:port URL; fix it, or set proxy (a URL or none)")
            return nil
        }
    }
}
