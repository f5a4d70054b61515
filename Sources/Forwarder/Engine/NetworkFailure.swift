import AsyncHTTPClient
import Foundation

/// Says in an operator's words why no connection was made, and what to check; nil for other
/// errors. NIO's own text ("connection reset (error set): Connection refused) (errno: 111)")
/// names neither the address nor the setting.
enum NetworkFailure {
    static func describe(_ error: any Error, url: URL) -> String? {
        let host = url.host ?? "?"
        let address = "\(host):\(url.port ?? (url.scheme == "https" ? 443 : 80))"
        if let client = error as? HTTPClientError, client == .connectTimeout {
            return
                "could not connect to \(address) within the 10 s connect timeout (a firewall dropping packets, or the wrong address or port in the URL)"
        }
        let text = String(reflecting: error)
        if text.contains("Connection refused") || text.contains("errno: 111") {
            return "connection refused by \(address): nothing listens there (is the service up, and is the URL's port right?)"
        }
        if text.contains("dnsAError") || text.contains("dnsAAAAError") || text.contains("SocketAddressError") || text.contains("unknown(host:") {
            return "cannot resolve the host name \(host) (check the URL's host and this machine's DNS)"
        }
        if text.contains("Network is unreachable") || text.contains("errno: 101") || text.contains("No route to host") {
            return "no route to \(address) (check this machine's network and any proxy: HTTPS_PROXY, or the proxy key)"
        }
        return nil
    }
}
