import Foundation
import Testing

@testable import Forwarder

/// docs/configuration.md is the operator's reference: every key the configuration reader accepts
/// must be named there (as its full path in backticks), so a key added to a reader without a line
/// in the reference fails here.
@Suite struct ConfigurationReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each example of config/, plus the variants the examples do not show (every pagination type,
    /// every auth type), so each conditional key is asked for at least once.
    static func documents() throws -> [String] {
        let examples = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("config").path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
            .map { try String(contentsOf: root.appendingPathComponent("config/\($0)"), encoding: .utf8) }
        let paginations = [
            "{ type: none }", "{ type: next_link, path: next }", "{ type: link_header }",
            "{ type: page, param: p, start: 1, size_param: s, size: 10 }", "{ type: offset, param: o, size_param: s, size: 10 }",
            "{ type: cursor, param: c, path: c, in: query }",
        ]
        let auths = ["{ type: bearer, token: t }", "{ type: basic, username: u, password: p }", "{ type: header, name: X-Key, value: v }"]
        let variants = zip(paginations, auths + auths).map { pagination, auth in
            """
            sources:
              - { name: h, type: http_json, url: "https://x/y", auth: \(auth), items: items, id_field: id, time_field: t, pagination: \(pagination) }
              - { name: d, type: deploys, project: p, username: u, password: p }
            sinks:
              - { name: w, type: webhook, url: "https://x/h", auth: \(auth) }
              - { name: e, type: elastic, endpoint: "https://x", index: i, username: u, password: p, integrity: { signing_key: k } }
            """
        }
        return examples + variants
    }

    @Test func everyKeyTheReaderAcceptsIsInTheReference() throws {
        let reference = try String(contentsOf: Self.root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        var asked: Set<String> = []
        let environment = ProcessInfo.processInfo.environment.merging(
            [
                "DEPLOYS_TOKEN": "t", "WEBHOOK_AUTH_TOKEN": "t", "WEBHOOK_SIGNING_SECRET": "whsec_dGVzdA==", "SPLUNK_HEC_TOKEN": "t",
                "DATADOG_API_KEY": "t", "ELASTIC_API_KEY": "t", "DEEPINTSHIELD_TOKEN": "t", "LOGFIRE_TOKEN": "t", "OKTA_TOKEN": "t",
                "OP_EVENTS_TOKEN": "t", "GITHUB_TOKEN": "t", "SLACK_AUDIT_TOKEN": "t", "VENDOR_TOKEN": "t",
                "STATE_URL": "postgresql://u:p@h/d?sslmode=verify-full",
            ]) { $1 }
        for document in try Self.documents() {
            asked.formUnion(ConfigurationLoader.askedKeys(document, environment: environment))
        }
        #expect(asked.count > 120, "the readers asked for only \(asked.count) keys: the samples do not reach them")
        let missing = asked.filter { !reference.contains("`\($0)`") }.sorted()
        #expect(missing.isEmpty, "keys the reader accepts that docs/configuration.md does not name: \(missing)")
    }

    /// The README's "Adding a connector" promise: a connector registered in `ConnectorRegistry`
    /// has an example under config/ and its row in the README's tables.
    @Test func everyRegisteredConnectorHasAnExampleAndAREADMERow() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let examples = try Self.documents().prefix { !$0.hasPrefix("sources:\n  - { name: h") }.joined(separator: "\n")
        let sources = ConnectorRegistry.sources.map(\.type)
        let sinks = ConnectorRegistry.sinks.map(\.type)
        #expect(sources.count == 8 && sinks.count == 5)
        for type in sources + sinks {
            #expect(examples.contains("type: \(type)"), "no example under config/ uses type \(type)")
        }
        for type in sources { #expect(readme.contains("| `\(type)` |"), "the README's table of sources has no row for \(type)") }
        for type in sinks { #expect(readme.contains("`\(type)` ("), "the README's sinks row does not name \(type)") }
    }
}
