import Foundation

/// A URL's origin: scheme, host and port (RFC 6454). A connector's credentials belong to the
/// origin of its configured URL and are never sent to another one, whatever a page links to.
public struct Origin: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int

    public init(_ url: URL) {
        scheme = url.scheme?.lowercased() ?? ""
        host = (url.host ?? "").lowercased()
        port = url.port ?? (scheme == "https" ? 443 : 80)
    }

    /// `https://host:port`: no path, no query, no userinfo, so it is safe to print.
    public var description: String { "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

extension URL {
    /// The URL as it may be printed: no userinfo, no fragment, and every query value replaced by
    /// `<redacted>` (APIs take tokens there: Datadog's `dd-api-key`, a webhook's `?token=`).
    public var redactedForDisplay: String {
        guard var components = URLComponents(url: self, resolvingAgainstBaseURL: false) else {
            return Origin(self).description
        }
        components.user = nil
        components.password = nil
        components.fragment = nil
        if let items = components.queryItems, !items.isEmpty {
            let names = items.map { "\($0.name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "?")=<redacted>" }
            components.percentEncodedQuery = nil
            return (components.string ?? Origin(self).description) + "?" + names.joined(separator: "&")
        }
        return components.string ?? Origin(self).description
    }
}

/// A request refused before it was sent: it would have carried a connector's credentials to
/// another origin than the configured one (a pagination link to another host, https → http).
public struct ForeignOriginError: Error, CustomStringConvertible, Sendable {
    public var connector: String
    public var requested: Origin
    public var configured: Origin

    public init?(connector: String, request: URL, configured: URL) {
        let requested = Origin(request)
        let configured = Origin(configured)
        guard requested != configured else { return nil }
        self.connector = connector
        self.requested = requested
        self.configured = configured
    }

    public var description: String {
        "\(connector): refusing to send a request to \(requested.host) (\(requested)): its credentials belong to "
            + "\(configured) only, the configured URL's origin (a pagination link to another host or from https "
            + "to http); nothing was sent there, and the poll stops at this page"
    }
}
