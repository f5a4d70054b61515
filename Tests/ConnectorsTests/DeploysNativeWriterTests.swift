import Foundation
import Testing

@testable import Connectors

/// deploys.app entries written for the spool straight from the page (`DeploysNativeWriter`) must
/// be, byte for byte, what normalizing them and encoding the events gives.
@Suite struct DeploysNativeWriterTests {
    let configuration = DeploysConfiguration(
        name: "deploys", baseURL: URL(string: "http://127.0.0.1:9")!, project: "acme", auth: .bearer(Secret("t")), pageSize: 100)

    /// A page read by a poll both ways; `direct` says whether the page was written straight.
    func bothWays(
        _ body: Data, configuration: DeploysConfiguration? = nil
    ) throws -> (direct: [EncodedEntry], viaEvents: [EncodedEntry], wroteDirectly: Bool) {
        let configuration = configuration ?? self.configuration
        var poll = DeploysPoll(configuration: configuration, window: PollWindow(start: .distantPast, end: .distantFuture))
        let entries = try poll.read(WireResponse(status: 200, headers: [], body: body), receivedAt: Date(timeIntervalSince1970: 1_777_700_000.125))
        let items = try DeploysPoll.items(of: body)
        let wrote = DeploysNativeWriter.encode(items, configuration: configuration, receivedAt: Date()) != nil
        return (try entries.encode(), try entries.make().map(EncodedEntry.init), wrote)
    }

    @Test(
        arguments: DeploysPageReaderTests.oddPages + [
            """
            {"ok": true, "result": {"items": [
              {"id": 8, "createdAt": "2026-05-01T09:59:59.999999Z", "outcome": "weird", "channel": ["a", 1],
               "resource": {"id": "r-1"}, "actor": {"type": "robot", "label": "\\u0000\\t\\u001f\\/"}}
            ]}}
            """,
            // Escapes in members stepped over, and members after the items.
            #"{"ok": true, "result": {"items": [{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "x": "\u00e9"}], "more": {"a": [1, 2]}}}"#,
        ])
    func oddPagesAreWrittenAsTheirEventsEncode(page: String) throws {
        let (direct, viaEvents, wroteDirectly) = try bothWays(Data(page.utf8))
        #expect(wroteDirectly)
        #expect(direct == viaEvents)
    }

    /// Pages of items made at random: every field there or not, of every kind the mapping tells apart.
    @Test func generatedPagesAreWrittenAsTheirEventsEncode() throws {
        var random = SystemRandomNumberGenerator()
        func maybe(_ text: String) -> String? { Bool.random(using: &random) ? text : nil }
        func pick(_ choices: [String?]) -> String? { choices.randomElement(using: &random)! }
        let texts = ["plain", "", "with \\\"quotes\\\"", "tab\\there", "ünïcødé ✓", "\\u00e9\\u4e2d", "slash/\\/", "x\\\\y"]
        for round in 0..<50 {
            var items: [String] = []
            for index in 0..<Int.random(in: 1...30, using: &random) {
                var members = [#""id": \#(round * 100 + index)"#, #""createdAt": "2026-05-01T10:\#(10 + index % 50):00.\#(index)Z""#]
                func add(_ key: String, _ value: String?) { if let value { members.append("\"\(key)\": \(value)") } }
                func string(_ choices: [String]) -> String? { maybe("\"\(choices.randomElement(using: &random)!)\"") }
                add("action", string(["deployment.deploy", "role.grant", "user.login", "secret.export", "thing.Delete", "", "a.b.c"] + texts))
                add("outcome", string(["success", "forbidden", "error", "failure", "", "other"]))
                add("detail", string(texts))
                add("channel", pick([nil, "null", #""api""#, #"{"via": "cli"}"#, "[1, 2]", "3"]))
                var resource: [String] = []
                for key in ["type", "id", "name", "locationId"] {
                    if let value = pick([nil, #""role""#, #""\#(texts.randomElement(using: &random)!)""#, "17", "true", "null"]) {
                        resource.append("\"\(key)\": \(value)")
                    }
                }
                add("resource", maybe("{" + resource.joined(separator: ", ") + "}"))
                var actor: [String] = []
                add2: for (key, choices) in [
                    ("email", ["a@b.c", "", "é@x.io"]), ("label", texts), ("type", ["User", "user", "ServiceAccount", "serviceAccount", "bot"]),
                ] {
                    guard let value = string(choices) else { continue add2 }
                    actor.append("\"\(key)\": \(value)")
                }
                add("actor", maybe("{" + actor.joined(separator: ", ") + "}"))
                items.append("{" + members.shuffled(using: &random).joined(separator: ", ") + "}")
            }
            let page = Data(#"{"ok": true, "result": {"items": [\#(items.joined(separator: ", "))]}}"#.utf8)
            var configuration = self.configuration
            configuration.project = pick(["acme", "ü \" q", ""])!
            configuration.name = pick(["deploys", "prod/deploys é"])!
            let (direct, viaEvents, wroteDirectly) = try bothWays(page, configuration: configuration)
            #expect(wroteDirectly, "these pages are written straight")
            #expect(direct.count == items.count)
            #expect(direct == viaEvents, "page \(String(decoding: page, as: UTF8.self))")
        }
    }

    /// An item whose text could not be kept (not UTF-8) goes through its event, whose raw is the tree.
    @Test func anItemWithoutItsTextIsEncodedThroughItsEvent() throws {
        var body = Data(#"{"ok": true, "result": {"items": [{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "x": ""#.utf8)
        body.append(contentsOf: [0xFF, 0xFE])
        body.append(contentsOf: Data(#""}]}}"#.utf8))
        let (direct, viaEvents, wroteDirectly) = try bothWays(body)
        #expect(!wroteDirectly)
        #expect(direct.count == 1)
        #expect(direct == viaEvents)
    }
}
