import Connectors
import Foundation

extension ForwarderConfiguration {
    /// What an operator should fix before trusting this configuration with production tokens.
    /// None of it stops the forwarder: `run`, `once` and `backfill` log each at start, `check`
    /// prints them.
    /// Up to five keys, then how many more: a thousand sources must not make a 30 KB log line.
    static func keyList(_ keys: [String]) -> String {
        keys.count <= 5 ? keys.joined(separator: ", ") : keys.prefix(5).joined(separator: ", ") + " and \(keys.count - 5) more"
    }

    public var securityWarnings: [String] {
        var warnings: [String] = []
        if fileReadableByOthers, !inlineSecretKeys.isEmpty {
            warnings.append(
                "the configuration file is readable by every user and holds secrets inline (\(Self.keyList(inlineSecretKeys))): "
                    + "chmod o-r it, or move them to ${VARIABLES} (an EnvironmentFile) or *_file keys")
        }
        for (index, source) in sources.enumerated() {
            let key = "sources[\(index)] (\(source.name))"
            if source.tls.insecureSkipVerify {
                warnings.append(
                    "\(key): tls.insecure_skip_verify is on: any server can pose as \(Origin(source.connector.origin)) and read its token")
            }
            if Self.isPlainHTTPOffHost(source.connector.origin), Self.sendsCredentials(source.connector) {
                warnings.append("\(key): its credentials go over plain http:// to \(Origin(source.connector.origin)); use https://")
            }
        }
        for (index, sink) in sinks.enumerated() {
            guard let origin = sink.target.origin else { continue }
            let key = "sinks[\(index)] (\(sink.name))"
            if sink.tls.insecureSkipVerify {
                warnings.append("\(key): tls.insecure_skip_verify is on: any server can pose as \(Origin(origin)) and read its key and the events")
            }
            if Self.isPlainHTTPOffHost(origin), sink.target.sendsCredentials {
                warnings.append("\(key): its credentials go over plain http:// to \(Origin(origin)); use https://")
            }
        }
        return warnings
    }

    /// `http://` to another machine: loopback traffic (a local relay, the emulators) never
    /// crosses a network, so only the rest is worth a warning.
    private static func isPlainHTTPOffHost(_ url: URL) -> Bool {
        guard url.scheme?.lowercased() == "http", let host = url.host?.lowercased() else { return false }
        return !(host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]")
    }

    /// Whether the source's first request carries a credential (a header marked secret).
    private static func sendsCredentials(_ connector: any SourceConnector) -> Bool {
        var poll = connector.makePoll(window: PollWindow(start: Date(), end: Date()))
        return ((try? poll.nextRequest()) ?? nil)?.headers.contains(where: \.isSecret) ?? false
    }

}
