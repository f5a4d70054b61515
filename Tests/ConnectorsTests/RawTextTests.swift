import Foundation
import Testing

@testable import Connectors

/// An entry's own JSON text is located while its page is parsed and written as `raw` verbatim.
@Suite struct RawTextTests {
    func texts(_ json: String, at path: [String]) throws -> [String] {
        let data = Data(json.utf8)
        let (_, elements) = try JSONValue.parse(data, elementsAt: path)
        return try elements.map { String(decoding: try #require($0.text(in: data)), as: UTF8.self) }
    }

    @Test func theElementsOfTheArrayUnderThePathAreLocatedAndMadeCompact() throws {
        let page = """
            {"ok": true, "items": [0], "result": {"other": [1, 2], "items": [
              {"b": 1, "a": [ {"items": [9]} ], "s": "x y\\" ]"},
              {"z":-1.50e3,"y":"\\u00e9"} , 7, "t"
            ]}}
            """
        #expect(
            try texts(page, at: ["result", "items"]) == [
                #"{"b":1,"a":[{"items":[9]}],"s":"x y\" ]"}"#, #"{"z":-1.50e3,"y":"\u00e9"}"#, "7", #""t""#,
            ])
        #expect(try texts(page, at: ["items"]) == ["0"])
        #expect(try texts("[ {\"a\": 1} ,2]", at: []) == [#"{"a":1}"#, "2"])
        #expect(try texts(page, at: ["result", "missing"]).isEmpty)
        #expect(try texts(#"{"result": {"items": null}}"#, at: ["result", "items"]).isEmpty)
    }

    @Test func aRepeatedKeyLocatesTheArrayItsValueKeeps() throws {
        let json = #"{"items": [1, 2, 3], "items": [4]}"#
        #expect(try texts(json, at: ["items"]) == ["4"])
        #expect(try JSONValue.parse(Data(json.utf8))["items"] == .array([.integer(4)]))
    }

    @Test func compactBytesAreASliceAndOnlyWhitespaceBetweenTokensIsDropped() throws {
        let data = Data(#"[{"a":"x\\"},  { "b" : "\\\" \t" }]"#.utf8)
        let (_, elements) = try JSONValue.parse(data, elementsAt: [])
        #expect(elements.map(\.isCompact) == [true, false])
        #expect(elements[1].text(in: data).map { String(decoding: $0, as: UTF8.self) } == #"{"b":"\\\" \t"}"#)
        // Offsets count from the start of what was parsed, also for a slice of a larger buffer.
        let framed = Data("xx".utf8) + data
        let slice = framed[framed.startIndex + 2..<framed.endIndex]
        let (_, sliced) = try JSONValue.parse(slice, elementsAt: [])
        #expect(sliced[0].text(in: slice).map { String(decoding: $0, as: UTF8.self) } == #"{"a":"x\\"}"#)
    }

    @Test func textThatIsNotUTF8IsNotKeptButValidUTF8Is() throws {
        var data = Data(#"[{"a":"caf"#.utf8) + Data([0xC3, 0xA9]) + Data(#""},{"b":"x"#.utf8)
        data += Data([0xFF]) + Data(#""}]"#.utf8)
        let (value, elements) = try JSONValue.parse(data, elementsAt: [])
        #expect(elements.map(\.isASCII) == [false, false])
        #expect(elements[0].text(in: data).map { String(decoding: $0, as: UTF8.self) } == #"{"a":"café"}"#)
        #expect(elements[1].text(in: data) == nil)
        // The parsed value holds the repaired string, which the tree writer then writes.
        #expect(value.arrayValue?[1]["b"] == .string("x\u{FFFD}"))
    }

    @Test func deploysItemsKeepTheirTextAndTheNativeEncodingWritesItVerbatim() throws {
        let configuration = DeploysConfiguration(
            name: "deploys", baseURL: URL(string: "http://127.0.0.1:9")!, project: "acme", auth: .bearer(Secret("t")), pageSize: 3)
        var poll = DeploysSource(configuration: configuration).makePoll(window: PollWindow(start: Date(timeIntervalSince1970: 0), end: Date()))
        _ = try poll.nextRequest()
        // Pretty-printed, keys in the upstream's order, a number no Int64 or Double holds exactly.
        let body = """
            {"ok": true, "result": {"items": [
              {"id": 7, "createdAt": "2026-05-01T10:30:00Z", "action": "deployment.deploy",
               "quota": 123456789012345678901234567890, "outcome": "success"}
            ]}}
            """
        let entries = try poll.consume(WireResponse(status: 200, body: Data(body.utf8)), receivedAt: Date())
        let entry = try #require(entries.first)
        let expected =
            #"{"id":7,"createdAt":"2026-05-01T10:30:00Z","action":"deployment.deploy","quota":123456789012345678901234567890,"outcome":"success"}"#
        #expect(entry.rawText.map { String(decoding: $0, as: UTF8.self) } == expected)

        let line = String(decoding: try NativeEncoding.encode(entry.event, rawText: entry.rawText), as: UTF8.self)
        #expect(line.contains(#","raw":"# + expected + #","received_at":"#))
        #expect(!line.contains("\n"))
        // The line is one JSON object whose `raw` is the entry.
        let decoded = try AuditEvent(native: JSONValue.parse(Data(line.utf8)))
        let expectedRaw = try JSONValue.parse(Data(expected.utf8))
        #expect(decoded.raw == expectedRaw)
        #expect(decoded.id == entry.event.id)
        // Without the text, `raw` is written from the tree, keys sorted.
        var withTree = entry.event
        withTree.raw = decoded.raw
        let fromTree = String(decoding: try NativeEncoding.encode(withTree), as: UTF8.self)
        #expect(fromTree.contains(#""raw":{"action":"deployment.deploy","createdAt":"#))
    }

    /// The other connectors keep their entries' text too, so `raw` means the same for every source.
    @Test func deepIntShieldLogfireAndGenericEntriesKeepTheirText() throws {
        let window = PollWindow(start: RFC3339.parse("2026-05-01T00:00:00Z")!, end: RFC3339.parse("2026-05-02T00:00:00Z")!)
        let item = #"{"event_id":"e1","timestamp":"2026-05-01T01:00:00Z","action":"login","status":"success","n":1.50}"#

        var shield = DeepIntShieldSource(
            configuration: DeepIntShieldConfiguration(
                name: "shield", baseURL: URL(string: "https://shield.example")!, auth: .bearer(Secret("t")), pageSize: 2)
        ).makePoll(window: window)
        _ = try shield.nextRequest()
        let shieldPage = #"{"audit_logs": [ "# + item + #" ], "next_page": null}"#
        let shieldEntries = try shield.consume(WireResponse(status: 200, body: Data(shieldPage.utf8)), receivedAt: Date())
        #expect(shieldEntries.map { $0.rawText.map { String(decoding: $0, as: UTF8.self) } } == [item])

        var logfire = LogfireSource(
            configuration: LogfireConfiguration(
                name: "logfire", baseURL: URL(string: "https://api-us.pydantic.dev/api")!, token: Secret("lf"))
        ).makePoll(window: window)
        _ = try logfire.nextRequest()
        let logfireItem = #"{"id":"a","created_at":"2026-05-01T01:00:00Z","action":"LOGIN","user_name":"carol"}"#
        let logfireEntries = try logfire.consume(WireResponse(status: 200, body: Data(("[\n  " + logfireItem + "\n]").utf8)), receivedAt: Date())
        #expect(logfireEntries.map { $0.rawText.map { String(decoding: $0, as: UTF8.self) } } == [logfireItem])

        func generic(itemsPath: String, body: String) throws -> [String?] {
            var poll = HTTPJSONSource(
                configuration: HTTPJSONConfiguration(
                    name: "api", url: URL(string: "https://api.example/logs")!, itemsPath: itemsPath, idField: "event_id", timeField: "timestamp")
            )
            .makePoll(window: window)
            _ = try poll.nextRequest()
            return try poll.consume(WireResponse(status: 200, body: Data(body.utf8)), receivedAt: Date()).map {
                $0.rawText.map { String(decoding: $0, as: UTF8.self) }
            }
        }
        #expect(try generic(itemsPath: "data.logs", body: #"{"data": {"logs": ["# + item + "]}}") == [item])
        // A numeric part may index an array: located from the parsed value instead, no text kept.
        #expect(try generic(itemsPath: "pages.0", body: "{\"pages\": [[" + item + "]]}") == [nil])
    }
}
