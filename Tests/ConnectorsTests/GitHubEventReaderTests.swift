import Foundation
import Testing

@testable import Connectors

/// GitHub audit events are read straight from their bytes (`GitHubEventReader`) when they can be,
/// else into a tree; the two must give the same normalized event, and the tree words the errors.
@Suite struct GitHubEventReaderTests {
    let configuration = GitHubConfiguration(name: "github", scope: .enterprise("acme"), token: Secret("t"))
    let receivedAt = Date(timeIntervalSince1970: 1_800_000_000)

    static let full = #"""
        {"@timestamp":1764583200123,"_document_id":"Xf3-aB9cD_eF1gH2","action":"repo.destroy","actor":"octocat","actor_id":583231,"actor_ip":"198.51.100.7","actor_location":{"country_code":"DE"},"business":"acme","business_id":7,"created_at":1764583200000,"operation_type":"remove","org":"acme-org","org_id":9,"repo":"acme-org/widgets","repo_id":1296269,"user_agent":"Mozilla/5.0","hashed_token":"abc=","programmatic_access_type":"OAuth access token","request_id":"8D6E:1B2F","visibility":"private"}
        """#

    static let variations = [
        full,
        #"{"_document_id":"d2","created_at":1764583200000}"#,
        #"{"_document_id":42,"@timestamp":"1764583200000","actor":"dependabot[bot]","user":"bob","user_id":"17","operation_type":null}"#,
        #"{"_document_id":"d3","@timestamp":1764583200000,"created_at":1,"org":null,"business":"acme","action":"org.disable_two_factor_requirement"}"#,
        #"{"_document_id":"d4","_document_id":"d5","@timestamp":1.5e12,"repo":7,"actor":["not","a","string"],"operation_type":{"k":1}}"#,
        #"{"_document_id":"d6","@timestamp":1764583200000,"action":"git.clone","repo":"ü/\u00e9","actor_location":{"country_code":"DE","nested":[{"deep":[1,2,{"x":null}]}]}}"#,
    ]

    @Test(arguments: variations) func readingTheBytesGivesWhatTheTreeGives(_ json: String) throws {
        let fields = try #require(
            try JSONParser.reading(Data(json.utf8)) { parser throws(JSONParser.Failure) in try GitHubEventReader.fields(&parser) })
        let tree = try JSONValue.parse(Data(json.utf8))
        #expect(fields == GitHubEventFields(tree))
        let typed = try GitHubNormalizer.normalize(fields, raw: .null, configuration: configuration, receivedAt: receivedAt)
        var fromTree = try GitHubNormalizer.normalize(tree, configuration: configuration, receivedAt: receivedAt)
        fromTree.event.raw = .null
        #expect(typed == fromTree)
    }

    @Test func theFullEventKeepsWhatTheSchemaNeeds() throws {
        let event = try #require(try page([Self.full]).first?.event)
        #expect(event.action == "repo.destroy")
        #expect(event.actor.id == "583231")
        #expect(event.target?.name == "acme-org/widgets")
        #expect(event.organization == "acme-org")
        #expect(event.details["operation_type"] == .string("remove"))
        #expect(event.time == Date(timeIntervalSince1970: 1_764_583_200.123))
    }

    /// Entries the bytes reader declines, or whose fields do not normalize, go the tree way, which
    /// words the error as before (quoting the entry where it always did).
    @Test func malformedEventsAreStillWordedByTheTree() throws {
        do {
            _ = try page([Self.full, #"{"action":"x","@timestamp":1}"#])
            Issue.record("an event without _document_id was taken")
        } catch let error as SourceError {
            #expect(error.message.contains("has no _document_id"))
            #expect(error.message.contains(#""action":"x""#), "the entry is quoted: \(error.message)")
        }
        #expect(throws: SourceError.self) { try page([#"{"_document_id":"d1","@timestamp":null,"created_at":1}"#]) }
        #expect(throws: SourceError.self) { try page([#"{"_document_id":"d1"}"#]) }
    }

    @Test func everyEntryKeepsItsOwnText() throws {
        let entries = try page(Self.variations)
        #expect(entries.map { $0.rawText.map { String(decoding: $0, as: UTF8.self) } } == Self.variations.map { $0 })
    }

    private func page(_ entries: [String]) throws -> [NormalizedEntry] {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        var poll = GitHubSource(configuration: configuration).makePoll(window: PollWindow(start: start, end: start.addingTimeInterval(3600)))
        _ = try poll.nextRequest()
        let body = Data(("[" + entries.joined(separator: ",") + "]").utf8)
        return try poll.consume(WireResponse(status: 200, body: body), receivedAt: receivedAt)
    }
}
