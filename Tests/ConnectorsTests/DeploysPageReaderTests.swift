import Foundation
import Testing

@testable import Connectors

/// deploys.app pages read without a tree must normalize exactly as the tree reader's, and every
/// page the fast path cannot take must be left to the tree reader (which words its errors).
@Suite struct DeploysPageReaderTests {
    let configuration = DeploysConfiguration(
        name: "deploys", baseURL: URL(string: "http://127.0.0.1:9")!, project: "acme", auth: .bearer(Secret("t")), pageSize: 100)

    /// Both readers' entries for a page: the tree reader's raw is its tree, the other's its text.
    func entries(_ page: String) throws -> (typed: [NormalizedEntry], tree: [NormalizedEntry]) {
        let body = Data(page.utf8)
        let receivedAt = Date(timeIntervalSince1970: 1_777_700_000)
        let typed = try #require(DeploysPageReader.items(of: body), "the fast path refused \(page)").map {
            DeploysNormalizer.normalize(
                $0.fields, raw: .null, upstreamID: $0.upstreamID, time: $0.time, configuration: configuration, receivedAt: receivedAt,
                rawText: $0.text)
        }
        let tree = try DeploysEnvelope.items(of: body).map { item in
            let (id, time) = try DeploysNormalizer.identify(item.json)
            return DeploysNormalizer.normalize(
                item.json, upstreamID: id, time: time, configuration: configuration, receivedAt: receivedAt, rawText: item.text)
        }
        return (typed, tree)
    }

    /// Pages the fast path takes, odd in every way it must read right (the writer's tests use them too).
    static let oddPages: [String] = [
        #"{"ok":true,"result":{"items":[]}}"#,
        #"{"ok": true, "result": {"items": [{"id": 5, "createdAt": "2026-05-01T10:00:00Z"}]}}"#,
        // Whitespace, unknown members, repeated keys, string and float ids, numbers and bools as resource text,
        // an object channel, non-ASCII, escapes, a resource that is not an object.
        """
        {"result": {"next": null, "items": [
          {"id": "0042", "createdAt": "2026-05-01T10:00:01.250Z", "action": "role.grant", "outcome": "forbidden",
           "resource": {"type": "role", "id": 17, "name": true, "locationId": 1.5, "extra": [1, {"a": "b"}]},
           "actor": {"email": "é@acme.io", "type": "ServiceAccount", "label": "Zoë \\"ops\\""}, "channel": {"kind": "api"},
           "detail": "granted\\nadmin", "unknown": {"deep": [[[]]]}},
          {"id": 7.0, "createdAt": "2026-05-01T10:00:00Z", "resource": "none", "actor": {"email": null}, "channel": null,
           "action": "first", "action": "deployment.delete"}
        ]}, "ok": false, "ok": true}
        """,
    ]

    @Test(arguments: oddPages)
    func normalizesAsTheTreeReaderDoes(page: String) throws {
        let (typed, tree) = try entries(page)
        #expect(typed.count == tree.count)
        for (fast, slow) in zip(typed, tree) {
            #expect(fast.rawText == slow.rawText)
            let fastRaw = try fast.rawText.map { try JSONValue.parse($0) }
            #expect(fastRaw == slow.event.raw)
            var expected = slow.event
            expected.raw = .null
            #expect(fast.event == expected)
        }
    }

    @Test(arguments: [
        #"{"ok": false, "error": {"message": "denied"}}"#,
        #"{"ok": true, "result": {"items": null}}"#,
        #"{"ok": true, "result": {}}"#,
        #"{"ok": true}"#,
        #"[{"id": 1}]"#,
        #"{"ok": true, "result": {"items": [{"createdAt": "2026-05-01T10:00:00Z"}]}}"#,
        #"{"ok": true, "result": {"items": [{"id": 1, "createdAt": "yesterday"}]}}"#,
        #"{"ok": true, "result": {"items": [{"id": "x1", "createdAt": "2026-05-01T10:00:00Z"}]}}"#,
        #"{"ok": true, "result": {"items": [7]}}"#,
        #"{"ok": true, "result": {"items": [{"id": 1, "createdAt": "2026-05-01T10:00:00Z"},]}}"#,
        #"{"ok": true, "result": {"items": []}} trailing"#,
        // Escapes the full parse refuses, in members the fast path steps over: an item's text is
        // written into its payload as it is, so it must be JSON the tree reader would take.
        #"{"ok": true, "result": {"items": [{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "x": "\q"}]}}"#,
        #"{"ok": true, "result": {"items": [{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "x": "\u12G4"}]}}"#,
        #"{"ok": true, "result": {"items": [{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "x": "\ud800"}]}}"#,
        #"{"ok": true, "result": {"items": [{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "x": "\udc00\ud800"}]}}"#,
        #"{"ok": true, "result": {"items": [{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "x": {"y": ["\x"]}}]}}"#,
    ])
    func pagesTheFastPathCannotTakeAreLeftToTheTreeReader(page: String) {
        #expect(DeploysPageReader.items(of: Data(page.utf8)) == nil)
    }

    /// An item that is not valid UTF-8: its text cannot be kept, so the tree (repaired) is written.
    @Test func anItemThatIsNotUTF8IsLeftToTheTreeReader() {
        var body = Data(#"{"ok": true, "result": {"items": [{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "x": ""#.utf8)
        body.append(contentsOf: [0xFF, 0xFE])
        body.append(contentsOf: Data(#""}]}}"#.utf8))
        #expect(DeploysPageReader.items(of: body) == nil)
        #expect((try? DeploysEnvelope.items(of: body))?.first?.text == nil)
    }

    @Test func moreItemsThanThePageLimitAreLeftToTheTreeReader() throws {
        let items = (1...5).map { #"{"id": \#($0), "createdAt": "2026-05-01T10:00:00Z"}"# }.joined(separator: ",")
        let page = Data((#"{"ok": true, "result": {"items": ["# + items + "]}}").utf8)
        #expect(DeploysPageReader.items(of: page)?.count == 5)
        PageLimits.$current.withValue(PageLimits(maxItems: 4, maxValues: 1000)) {
            #expect(DeploysPageReader.items(of: page) == nil)
        }
    }
}
