import Foundation
import Testing

@testable import Connectors

/// The shared reading of a page every upstream uses: where the entries are, and the malformed-page
/// errors (named, quoted, never a crash) when they are not.
@Suite struct UpstreamPageTests {
    private func read(_ body: String, at path: [String], check: (JSONValue) throws -> Void = { _ in }) throws -> UpstreamPage.Parsed {
        try UpstreamPage.read(Data(body.utf8), what: "Test page", itemsAt: path, check: check)
    }

    private func message(_ body: String, at path: [String]) -> String? {
        do {
            _ = try read(body, at: path)
            return nil
        } catch let error as SourceError {
            #expect(error.kind == .malformed)
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func findsTheEntriesAndKeepsEachOnesText() throws {
        let page = try read(#"{"data": {"logs": [{"id": 1}, {"id":  2}]}}"#, at: ["data", "logs"])
        #expect(page.count == 2)
        let entries = try page.entries { item in
            NormalizedEntry(upstreamID: item["id"]?.scalarText ?? "?", event: AuditEventSamples.event())
        }
        #expect(entries.map(\.upstreamID) == ["1", "2"])
        #expect(entries.map { $0.rawText.map { String(decoding: $0, as: UTF8.self) } } == [#"{"id":1}"#, #"{"id":2}"#])
    }

    /// A page's entries are located, not built, while the page is read: each is parsed from its
    /// own bytes as it is normalized, so a large page never exists as one tree.
    @Test func entriesAreParsedOneByOneFromTheirOwnBytes() throws {
        let page = try read(#"{"next": "c2", "logs": [{"id": 1, "tags": ["a", {"b": null}]}, {"id": 2}]}"#, at: ["logs"])
        #expect(page.json["logs"] == .array([]), "the page's tree holds no entries")
        #expect(page.json["next"] == .string("c2"))
        var seen: [JSONValue] = []
        _ = try page.entries { item in
            seen.append(item)
            return NormalizedEntry(upstreamID: item["id"]?.scalarText ?? "?", event: AuditEventSamples.event())
        }
        #expect(seen == [.object(["id": .integer(1), "tags": .array([.string("a"), .object(["b": .null])])]), .object(["id": .integer(2)])])
    }

    /// Locating an entry checks it as the full parse would (its text is written out as it is):
    /// an escape the full parse refuses is a malformed page, named, already when the page is read.
    @Test(arguments: [#"[{"id": 1}, {"id": "\x"}]"#, #"[{"id": 1}, {"id": "\ud800"}]"#, #"[{"a": {"b": ["\u00G0"]}}]"#])
    func anEntryWithABadEscapeIsAMalformedPage(body: String) throws {
        #expect {
            _ = try read(body, at: [])
        } throws: { error in
            (error as? SourceError)?.kind == .malformed && "\(error)".hasPrefix("Test page is not valid JSON")
        }
    }

    /// The page's value budget is the page's, however its entries are parsed: entries each under
    /// it but over it together are a page over its limits, as one parse of the page found.
    @Test func theEntriesShareThePagesValueBudget() throws {
        let body = "[" + Array(repeating: "[1, 2, 3, 4, 5, 6, 7, 8, 9]", count: 10).joined(separator: ", ") + "]"
        let limits = PageLimits(maxItems: 100, maxValues: 60)
        #expect(throws: (any Error).self) { try PageLimits.$current.withValue(limits) { try JSONValue.parse(Data(body.utf8)) } }
        let page = try PageLimits.$current.withValue(limits) { try read(body, at: []) }
        #expect(page.count == 10)
        #expect {
            try PageLimits.$current.withValue(limits) {
                _ = try page.entries { _ in NormalizedEntry(upstreamID: "x", event: AuditEventSamples.event()) }
            }
        } throws: { error in
            (error as? SourceError)?.kind == .malformed && "\(error)".contains("more than 60 JSON values in one page")
        }
        let roomy = PageLimits(maxItems: 100, maxValues: 101)
        let entries = try PageLimits.$current.withValue(roomy) {
            try read(body, at: []).entries { _ in NormalizedEntry(upstreamID: "x", event: AuditEventSamples.event()) }
        }
        #expect(entries.count == 10, "one array and ten of ten values: 101 in all")
    }

    /// Members stepped over (`keeping`) still count against the page's limits: a page the whole
    /// parse would refuse is refused.
    @Test func membersSteppedOverStillCountAgainstThePageLimits() throws {
        let body = #"[{"id": 1, "big": [1, 2, 3, 4, 5, 6]}, {"id": 2, "deep": {"a": {"b": [7, 8, 9, 10, 11, 12]}}}]"#
        let limits = PageLimits(maxItems: 5, maxValues: 1000)
        #expect(throws: (any Error).self) { try PageLimits.$current.withValue(limits) { try JSONValue.parse(Data(body.utf8)) } }
        #expect {
            try PageLimits.$current.withValue(limits) {
                _ = try read(body, at: []).entries(keeping: ["id"]) { item in
                    NormalizedEntry(upstreamID: item["id"]?.scalarText ?? "?", event: AuditEventSamples.event())
                }
            }
        } throws: { error in
            (error as? SourceError)?.kind == .malformed && "\(error)".contains("more than 5 items in one array")
        }
        let few = PageLimits(maxItems: 100, maxValues: 20)
        #expect {
            try PageLimits.$current.withValue(few) {
                _ = try read(body, at: []).entries(keeping: ["id"]) { item in
                    NormalizedEntry(upstreamID: item["id"]?.scalarText ?? "?", event: AuditEventSamples.event())
                }
            }
        } throws: { error in
            "\(error)".contains("more than 20 JSON values in one page")
        }
    }

    @Test func aBodyThatIsTheArray() throws {
        #expect(try read("[1, 2, 3]", at: []).count == 3)
        #expect(message(#"{"ok": true}"#, at: []) == #"Test page is a JSON object, not an array: "{"ok": true}""#)
    }

    @Test func namesTheMissingOrMistypedPath() {
        #expect(message(#"{"data": {}}"#, at: ["data", "logs"])?.contains("Test page has no data.logs array: ") == true)
        #expect(message(#"{"data": {"logs": "x"}}"#, at: ["data", "logs"])?.contains("Test page: data.logs is a string, not an array") == true)
        #expect(message("<html>", at: ["logs"])?.hasPrefix("Test page is ") == true)
    }

    @Test func theCheckSeesTheEnvelopeBeforeTheEntriesAreLookedFor() {
        #expect(throws: SourceError.self) {
            try read(#"{"ok": false}"#, at: ["entries"]) { json in
                if json["ok"] == .bool(false) { throw SourceError(.upstream, "refused") }
            }
        }
        do {
            _ = try read(#"{"ok": false}"#, at: ["entries"]) { _ in throw SourceError(.upstream, "refused") }
        } catch let error as SourceError {
            #expect(error.kind == .upstream)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func anItemExcerptIsBoundedAndPrintable() {
        let item = JSONValue.object(["note": .string(String(repeating: "a", count: 500) + "\n")])
        #expect(item.excerpt.count < 120)
        #expect(!item.excerpt.contains("\n"))
    }
}
