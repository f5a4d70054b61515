import Foundation
import Testing

@testable import Connectors

/// Okta events are read straight from their bytes (`OktaEventReader`) when they can be, else into a
/// tree; the two must give the same normalized event, and the tree keeps wording the errors.
@Suite struct OktaEventReaderTests {
    let configuration = OktaConfiguration(name: "okta", baseURL: URL(string: "https://acme.okta.com")!, auth: .bearer(Secret("t")))
    let receivedAt = Date(timeIntervalSince1970: 1_800_000_000)

    static let full = #"""
        {"uuid":"f1e2d3c4-0000-4000-8000-000000000001","published":"2026-12-01T10:00:00.123Z","eventType":"user.session.start","version":"0","severity":"WARN","displayMessage":"User login to Okta","actor":{"id":"00u1","type":"User","alternateId":"ann@example.com","displayName":"Ann","detailEntry":null},"client":{"userAgent":{"rawUserAgent":"Mozilla/5.0","os":"Mac OS X","browser":"SAFARI"},"zone":"null","device":"Computer","id":null,"ipAddress":"198.51.100.7","geographicalContext":{"city":"Berlin","state":"Berlin","country":"Germany","postalCode":"10115","geolocation":{"lat":52.52,"lon":13.4}}},"outcome":{"result":"FAILURE","reason":"INVALID_CREDENTIALS"},"target":[{"id":"0oa1","type":"AppInstance","alternateId":"Slack","displayName":"Slack","detailEntry":null},{"id":"00u2","type":"User","alternateId":"bob@example.com","displayName":"Bob"}],"transaction":{"type":"WEB","id":"Xyz123","detail":{}},"debugContext":{"debugData":{"requestUri":"/api/v1/authn","threatSuspected":"false"}},"authenticationContext":{"authenticationStep":0,"externalSessionId":"abc"},"request":{"ipChain":[{"ip":"198.51.100.7","version":"V4"}]}}
        """#

    /// Variations a hostile or odd upstream may send: each must read the same both ways.
    static let variations = [
        full,
        #"{"uuid":"u2","published":"2026-12-01T10:00:00Z"}"#,
        #"{"uuid":42,"published":"2026-12-01T10:00:00Z","actor":"not an object","client":[1,2],"outcome":null,"target":{"id":"x"}}"#,
        #"{"uuid":"u3","published":"2026-12-01T10:00:00Z","actor":{"id":"a1","type":"SystemPrincipal"},"actor":{"displayName":"Second"}}"#,
        #"{"uuid":"u4","published":"2026-12-01T10:00:00Z","outcome":{"result":"ALLOW","reason":null},"transaction":{"id":null}}"#,
        #"{"uuid":"u5","published":"2026-12-01T10:00:00Z","client":{"userAgent":{"rawUserAgent":null},"geographicalContext":null,"ipAddress":7}}"#,
        #"{"uuid":"u6","published":"2026-12-01T10:00:00Z","target":[{"alternateId":"only-alternate"}],"severity":"ERROR","eventType":"user.account.lock"}"#,
        #"{"uuid":"u7","uuid":"u8","published":"2026-12-01T10:00:00+02:00","displayMessage":"ünïcödé \u00e9 \ud83d\ude00"}"#,
    ]

    @Test(arguments: variations) func readingTheBytesGivesWhatTheTreeGives(_ json: String) throws {
        let fields = try #require(
            try JSONParser.reading(Data(json.utf8)) { parser throws(JSONParser.Failure) in try OktaEventReader.fields(&parser) })
        let tree = try JSONValue.parse(Data(json.utf8))
        #expect(fields == OktaEventFields(tree))
        let typed = try OktaNormalizer.normalize(fields, raw: .null, configuration: configuration, receivedAt: receivedAt)
        var fromTree = try OktaNormalizer.normalize(tree, configuration: configuration, receivedAt: receivedAt)
        fromTree.event.raw = .null
        #expect(typed == fromTree)
    }

    @Test func theFullEventKeepsWhatTheSchemaNeeds() throws {
        let event = try #require(try page([Self.full]).first?.event)
        #expect(event.actor.email == "ann@example.com")
        #expect(event.target?.name == "Slack")
        #expect(event.outcome == .failure)
        #expect(event.severity == .medium)
        #expect(event.details["geo"]?["city"] == .string("Berlin"))
        #expect(event.details["targets"]?.arrayValue?.count == 2)
        #expect(event.details["transaction_id"] == .string("Xyz123"))
        #expect(event.raw == .null)
    }

    /// Entries the bytes reader declines go the tree way, which words the error as before.
    @Test func anEntryWithoutUuidIsStillAMalformedPageQuotingIt() throws {
        #expect(throws: SourceError.self) { try page([Self.full, #"{"published":"2026-12-01T10:00:00Z","eventType":"x"}"#]) }
        do {
            _ = try page([#"{"uuid":"","published":"2026-12-01T10:00:00Z"}"#])
            Issue.record("an empty uuid was taken")
        } catch let error as SourceError {
            #expect(error.message.contains("has no uuid"))
            #expect(error.message.contains("published"), "the entry is quoted: \(error.message)")
        }
        #expect(throws: SourceError.self) { try page([#"{"uuid":"u1","published":"yesterday"}"#]) }
    }

    /// Each entry's text is kept as sent, whichever way it was read.
    @Test func everyEntryKeepsItsOwnText() throws {
        let entries = try page(Self.variations)
        #expect(entries.map { $0.rawText.map { String(decoding: $0, as: UTF8.self) } } == Self.variations.map { $0 })
    }

    private func page(_ entries: [String]) throws -> [NormalizedEntry] {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        var poll = OktaSource(configuration: configuration).makePoll(window: PollWindow(start: start, end: start.addingTimeInterval(3600)))
        _ = try poll.nextRequest()
        let body = Data(("[" + entries.joined(separator: ",") + "]").utf8)
        return try poll.consume(WireResponse(status: 200, body: body), receivedAt: receivedAt)
    }
}
