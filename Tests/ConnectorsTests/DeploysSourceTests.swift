import Foundation
import Testing

@testable import Connectors

@Suite struct DeploysSourceTests {
    let configuration = DeploysConfiguration(
        name: "deploys", baseURL: URL(string: "http://127.0.0.1:9/api")!, project: "acme", auth: .bearer(Secret("t0k")),
        pageSize: 3)

    func item(_ id: Int, _ time: String, outcome: String = "success", action: String = "deployment.deploy", actorType: String = "User") -> String {
        """
        {"id": \(id), "resource": {"type": "deployment", "id": "d\(id)", "name": "web", "locationId": "gke.cluster-rcf2"},
         "actor": {"email": "a@acme.io", "type": "\(actorType)", "label": "Alice"}, "channel": "console",
         "action": "\(action)", "outcome": "\(outcome)", "detail": "", "createdAt": "\(time)"}
        """
    }

    func page(_ items: [String]) -> WireResponse {
        WireResponse(status: 200, body: Data((#"{"ok": true, "result": {"items": ["# + items.joined(separator: ",") + "]}}").utf8))
    }

    func body(_ request: WireRequest?) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try #require(request?.body)) as! [String: Any]
    }

    @Test func firstRequestIsAnAuthenticatedPostWithTheFixedWindow() throws {
        let window = PollWindow(start: RFC3339.parse("2026-05-01T10:00:00Z")!, end: RFC3339.parse("2026-05-01T11:00:00Z")!)
        var poll = DeploysSource(configuration: configuration).makePoll(window: window)
        let request = try #require(try poll.nextRequest())
        #expect(request.method == "POST")
        #expect(request.url.absoluteString == "http://127.0.0.1:9/api/auditLog.list")
        #expect(request.header("Authorization") == "Bearer t0k")
        let fields = try body(request)
        #expect(fields["project"] as? String == "acme")
        #expect(fields["before"] as? String == "2026-05-01T11:00:00Z")
        #expect(fields["after"] as? String == "2026-05-01T09:59:59Z")
        #expect(fields["limit"] as? Int == 3)
        // Absent filters are omitted, never sent as "".
        #expect(fields["resourceType"] == nil && fields["actor"] == nil)
        #expect(poll.checkpoint == nil)
    }

    @Test func pagesBackwardsReAskingTheBoundarySecondWithoutRepeats() throws {
        let window = PollWindow(start: RFC3339.parse("2026-05-01T00:00:00Z")!, end: RFC3339.parse("2026-05-02T00:00:00Z")!)
        var poll = DeploysSource(configuration: configuration).makePoll(window: window)
        _ = try poll.nextRequest()
        // Full page; its oldest second (10:00:05) has more rows upstream.
        let first = try poll.consume(
            page([item(9, "2026-05-01T10:00:07Z"), item(8, "2026-05-01T10:00:05Z"), item(7, "2026-05-01T10:00:05Z")]), receivedAt: Date())
        #expect(first.map(\.upstreamID) == ["9", "8", "7"])
        #expect(poll.checkpoint == nil)
        let second = try poll.nextRequest()
        #expect(try body(second)["before"] as? String == "2026-05-01T10:00:06Z")
        // The server repeats 8 and 7 (same second) and gives 6 from that second too.
        let repeated = try poll.consume(
            page([item(8, "2026-05-01T10:00:05Z"), item(7, "2026-05-01T10:00:05Z"), item(6, "2026-05-01T10:00:05Z")]), receivedAt: Date())
        #expect(repeated.map(\.upstreamID) == ["6"])
        _ = try poll.nextRequest()
        let last = try poll.consume(
            page([item(7, "2026-05-01T10:00:05Z"), item(6, "2026-05-01T10:00:05Z"), item(5, "2026-05-01T10:00:05Z")]), receivedAt: Date())
        #expect(last.map(\.upstreamID) == ["5"])
        _ = try poll.nextRequest()
        let tail = try poll.consume(page([item(5, "2026-05-01T10:00:05Z"), item(4, "2026-05-01T09:00:00Z")]), receivedAt: Date())
        #expect(tail.map(\.upstreamID) == ["4"])
        #expect(try poll.nextRequest() == nil)
        #expect(poll.checkpoint == window.end)
        #expect(poll.warnings.isEmpty)
    }

    /// A poll over a long backlog remembers only the boundary second's ids, not every id it saw.
    @Test func aLongWalkRemembersOnlyTheBoundarySecond() throws {
        let end = RFC3339.parse("2026-05-02T00:00:00Z")!
        var poll = DeploysPoll(configuration: configuration, window: PollWindow(start: end.addingTimeInterval(-86400), end: end))
        var delivered = 0
        for pageIndex in 0..<200 {
            _ = try #require(try poll.nextRequest())
            // Three rows a page, one second apart, newest first; the oldest row is re-asked next time.
            let rows = (0..<3).map { row in
                let second = 3 * pageIndex + row
                return item(100_000 - second, RFC3339.formatSeconds(end.addingTimeInterval(-Double(10 + second))))
            }
            delivered += try poll.consume(page(rows), receivedAt: Date()).count
            #expect(poll.boundaryIDs.count <= 2, "page \(pageIndex) remembers \(poll.boundaryIDs.count) ids")
        }
        #expect(delivered == 600)
    }

    @Test func aSecondWithMoreRowsThanPageSizeIsAskedAgainWithTheLargestPage() throws {
        let window = PollWindow(start: Date(timeIntervalSince1970: 0), end: RFC3339.parse("2026-05-02T00:00:00Z")!)
        var poll = DeploysSource(configuration: configuration).makePoll(window: window)
        _ = try poll.nextRequest()
        let rows = [item(9, "2026-05-01T10:00:05Z"), item(8, "2026-05-01T10:00:05Z"), item(7, "2026-05-01T10:00:05Z")]
        _ = try poll.consume(page(rows), receivedAt: Date())
        _ = try poll.nextRequest()
        #expect(try poll.consume(page(rows), receivedAt: Date()).isEmpty)
        let wider = try body(try poll.nextRequest())
        #expect(wider["limit"] as? Int == 100)
        #expect(wider["before"] as? String == "2026-05-01T10:00:06Z")
        let rest = try poll.consume(page(rows + [item(6, "2026-05-01T10:00:05Z"), item(5, "2026-05-01T09:00:00Z")]), receivedAt: Date())
        #expect(rest.map(\.upstreamID) == ["6", "5"])
        #expect(poll.warnings.isEmpty)
    }

    @Test func aSecondWithMoreRowsThanTheAPIMaximumIsSteppedOverWithAWarning() throws {
        var wide = configuration
        wide.pageSize = 100
        let window = PollWindow(start: Date(timeIntervalSince1970: 0), end: RFC3339.parse("2026-05-02T00:00:00Z")!)
        var poll = DeploysSource(configuration: wide).makePoll(window: window)
        _ = try poll.nextRequest()
        let rows = (1...100).reversed().map { item($0, "2026-05-01T10:00:05Z") }
        #expect(try poll.consume(page(rows), receivedAt: Date()).count == 100)
        _ = try poll.nextRequest()
        #expect(try poll.consume(page(rows), receivedAt: Date()).isEmpty)
        #expect(poll.warnings.count == 1)
        #expect(try body(try poll.nextRequest())["before"] as? String == "2026-05-01T10:00:05Z")
    }

    @Test(arguments: [("success", AuditEvent.Outcome.success), ("forbidden", .denied), ("error", .failure), ("weird", .unknown)])
    func outcomesMapToTheSchema(upstream: String, expected: AuditEvent.Outcome) throws {
        var poll = DeploysSource(configuration: configuration).makePoll(window: PollWindow(start: Date(timeIntervalSince1970: 0), end: Date()))
        _ = try poll.nextRequest()
        let entries = try poll.consume(page([item(1, "2026-05-01T10:00:00Z", outcome: upstream)]), receivedAt: Date())
        #expect(entries.first?.event.outcome == expected)
    }

    @Test func normalizesAnItemIntoTheSchema() throws {
        var poll = DeploysSource(configuration: configuration).makePoll(window: PollWindow(start: Date(timeIntervalSince1970: 0), end: Date()))
        _ = try poll.nextRequest()
        let entries = try poll.consume(page([item(81234, "2026-05-01T10:30:00Z", actorType: "ServiceAccount")]), receivedAt: Date())
        let event = try #require(entries.first?.event)
        #expect(event.id == AuditEvent.stableID(sourceName: "deploys", upstreamID: "81234"))
        #expect(event.id.count == 64)
        #expect(event.source == .init(name: "deploys", type: "deploys", eventID: "81234"))
        #expect(event.time == RFC3339.parse("2026-05-01T10:30:00Z"))
        #expect(event.eventType == .configuration)
        #expect(event.action == "deployment.deploy")
        #expect(event.actor == .init(id: "a@acme.io", name: "Alice", email: "a@acme.io", type: .serviceAccount))
        #expect(event.target == .init(type: "deployment", id: "d81234", name: "web", location: "gke.cluster-rcf2"))
        #expect(event.project == "acme")
        #expect(event.details["channel"] == .string("console"))
        // Read without a tree: the item is its own text.
        let rawText = try #require(entries.first?.rawText)
        let raw = try JSONValue.parse(rawText)
        #expect(raw["id"] == .integer(81234))
        // The native encoding round-trips.
        let decoded = try JSONDecoder().decode(AuditEvent.self, from: try NativeEncoding.encode(event, rawText: rawText))
        #expect(decoded.id == event.id && decoded.raw == raw && decoded.actor == event.actor)
    }

    @Test(arguments: [
        ("deployment.deploy", nil as String?, AuditEvent.EventType.configuration), ("role.grant", "role", .authorization),
        ("user.login", "user", .authentication), ("serviceAccount.createKey", "serviceAccount", .authorization),
        ("secret.export", "secret", .dataAccess), ("", nil, .other),
    ])
    func eventTypesFollowTheAction(action: String, resource: String?, expected: AuditEvent.EventType) {
        #expect(DeploysNormalizer.eventType(action: action, resourceType: resource) == expected)
        #expect(DeploysNormalizer.eventType(action: action, resourceType: resource) == expected, "the remembered answer is the same")
    }

    @Test func severityAndTheMessageWithoutDetail() throws {
        #expect(DeploysNormalizer.severity(outcome: .success, action: "project.DELETE") == .low)
        #expect(DeploysNormalizer.severity(outcome: .success, action: "project.delete") == .low)
        #expect(DeploysNormalizer.severity(outcome: .success, action: "project.deleted") == .info)
        #expect(DeploysNormalizer.severity(outcome: .success, action: "elete") == .info)
        #expect(DeploysNormalizer.severity(outcome: .denied, action: "project.delete") == .medium)
        let item = { (json: String) in
            try DeploysNormalizer.normalize(JSONValue.parse(Data(json.utf8)), configuration: configuration, receivedAt: Date()).event.message
        }
        #expect(
            try item(#"{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "action": "a.b", "actor": {"email": "x@y"}, "resource": {"id": "r"}}"#)
                == "x@y a.b r")
        #expect(try item(#"{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "action": "a.b"}"#) == "unknown actor a.b")
        #expect(try item(#"{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "actor": {"email": ""}, "resource": {"name": "web"}}"#) == "web")
        #expect(try item(#"{"id": 1, "createdAt": "2026-05-01T10:00:00Z", "detail": "said so"}"#) == "said so")
    }

    @Test func theRememberedEventTypeDependsOnTheResourceTypeToo() {
        // The same action, under a resource family that grants access, and under one that does not.
        #expect(DeploysNormalizer.eventType(action: "thing.update", resourceType: "deployment") == .configuration)
        #expect(DeploysNormalizer.eventType(action: "thing.update", resourceType: "role") == .authorization)
        #expect(DeploysNormalizer.eventType(action: "thing.update", resourceType: nil) == .configuration)
        #expect(DeploysNormalizer.eventType(action: "thing.update", resourceType: "deployment") == .configuration)
    }

    @Test func errorEnvelopesAnswered200AreErrorsWithTheUpstreamMessage() throws {
        var poll = DeploysSource(configuration: configuration).makePoll(window: PollWindow(start: Date(timeIntervalSince1970: 0), end: Date()))
        _ = try poll.nextRequest()
        #expect {
            try poll.consume(
                WireResponse(status: 200, body: Data(#"{"ok": false, "error": {"message": "api: unauthorized"}}"#.utf8)), receivedAt: Date())
        } throws: { error in
            (error as? SourceError)?.kind == .upstream && "\(error)".contains("api: unauthorized")
        }
        #expect {
            try poll.consume(
                WireResponse(status: 200, body: Data(#"{"ok": false, "error": {"message": "api: validate error", "items": ["limit"]}}"#.utf8)),
                receivedAt: Date())
        } throws: { "\($0)".contains("api: validate error (limit)") }
    }

    @Test(arguments: [
        "<html>oops", #"{"ok": true, "result": {"items": "nope"}}"#, #"{"ok": true}"#, "[1,2]",
        #"{"ok": true, "result": {"items": [{"id": "x1", "createdAt": "2026-05-01T10:00:00Z"}]}}"#,
        #"{"ok": true, "result": {"items": [{"id": 5, "createdAt": "yesterday"}]}}"#, #"{"ok": true, "result": {"items": [{"id": 5"#,
    ])
    func malformedPagesAreErrorsQuotingTheBytes(body: String) throws {
        var poll = DeploysSource(configuration: configuration).makePoll(window: PollWindow(start: Date(timeIntervalSince1970: 0), end: Date()))
        _ = try poll.nextRequest()
        #expect {
            try poll.consume(WireResponse(status: 200, body: Data(body.utf8)), receivedAt: Date())
        } throws: { error in
            (error as? SourceError)?.kind == .malformed && "\(error)".count > 20
        }
    }
}

extension DeploysSourceTests {
    @Test func pagingIsDecidedBeforeTheEntriesAreNormalized() throws {
        let window = PollWindow(start: RFC3339.parse("2026-05-01T09:00:00Z")!, end: RFC3339.parse("2026-05-01T11:00:00Z")!)
        var poll = DeploysSource(configuration: configuration).makePoll(window: window)
        _ = try poll.nextRequest()
        let first = try poll.read(
            page([item(9, "2026-05-01T10:00:07Z"), item(8, "2026-05-01T10:00:05Z"), item(7, "2026-05-01T10:00:05Z")]), receivedAt: Date())
        // The next request is known while the first page's entries are still to be made.
        let second = try #require(try poll.nextRequest())
        #expect(try body(second)["before"] as? String == "2026-05-01T10:00:06Z")
        let repeated = try poll.read(
            page([item(8, "2026-05-01T10:00:05Z"), item(7, "2026-05-01T10:00:05Z"), item(6, "2026-05-01T10:00:05Z")]), receivedAt: Date())
        #expect(try first.make().map(\.upstreamID) == ["9", "8", "7"])
        #expect(try repeated.make().map(\.upstreamID) == ["6"], "repeats of the boundary second are dropped at paging time")
        #expect(try repeated.make().first?.event.outcome == .success)
    }

    @Test func aMalformedItemFailsThePageAtPagingTime() throws {
        var poll = DeploysSource(configuration: configuration).makePoll(window: PollWindow(start: Date(timeIntervalSince1970: 0), end: Date()))
        _ = try poll.nextRequest()
        #expect(throws: SourceError.self) {
            try poll.read(page([item(9, "2026-05-01T10:00:07Z"), #"{"id": 8}"#]), receivedAt: Date())
        }
    }
}

@Suite struct JSONParserTests {
    @Test func aRepeatedKeyKeepsItsLastValueAndNestedObjectsKeepTheirOwnMembers() throws {
        let value = try JSONValue.parse(Data(#"{"a": 1, "b": {"a": 2, "c": [{"a": 3}, {}]}, "a": 4, "d": {}}"#.utf8))
        #expect(value["a"] == .integer(4))
        #expect(value["b"]?["a"] == .integer(2))
        #expect(value["b"]?["c"]?.arrayValue == [.object(["a": .integer(3)]), .object([:])])
        #expect(value["d"] == .object([:]))
        #expect(value.objectValue?.count == 3)
    }

    @Test(arguments: [
        ("0", JSONValue.integer(0)), ("-0", .integer(0)), ("-12", .integer(-12)),
        ("999999999999999999", .integer(999_999_999_999_999_999)), ("-999999999999999999", .integer(-999_999_999_999_999_999)),
        ("9223372036854775807", .integer(.max)), ("-9223372036854775808", .integer(.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)), ("1.5", .double(1.5)), ("2e3", .double(2000)),
    ])
    func integersAreExactUpToInt64AndLargerOnesBecomeDoubles(text: String, expected: JSONValue) throws {
        #expect(try JSONValue.parse(Data("[\(text)]".utf8)) == .array([expected]))
    }

    @Test func oneMemberIsReadAndTheOthersOnlyChecked() throws {
        let text = #"{"items": [{"a": "x\"]"}, [1, 2e3, null]], "errors": true, "n": {"errors": false}, "errors": false}"#
        #expect(try JSONParser.member("errors", of: Data(text.utf8)) == .bool(false))
        #expect(try JSONParser.member("missing", of: Data(text.utf8)) == nil)
        #expect(try JSONParser.member("errors", of: Data("[1]".utf8)) == nil)
        for broken in [#"{"items": [1,], "errors": false}"#, #"{"errors": false, "items": {"a" 1}}"#, #"{"errors": false"#] {
            #expect(throws: JSONParser.Failure.self, "\(broken)") { try JSONParser.member("errors", of: Data(broken.utf8)) }
        }
    }

    @Test func aFailureInsideANestedObjectLeavesNothingBehind() throws {
        #expect(throws: (any Error).self) { try JSONValue.parse(Data(#"{"a": {"b": 1, "c": }}"#.utf8)) }
        #expect(try JSONValue.parse(Data(#"{"x": {"y": 1}}"#.utf8))["x"]?["y"] == .integer(1))
    }
}

@Suite struct SchemaTests {
    @Test func stableIDDependsOnSourceAndUpstreamIdOnly() {
        let a = AuditEvent.stableID(sourceName: "deploys", upstreamID: "1")
        #expect(a == AuditEvent.stableID(sourceName: "deploys", upstreamID: "1"))
        #expect(a != AuditEvent.stableID(sourceName: "deploys2", upstreamID: "1"))
        // The separator keeps ("ab","c") and ("a","bc") apart.
        #expect(AuditEvent.stableID(sourceName: "ab", upstreamID: "c") != AuditEvent.stableID(sourceName: "a", upstreamID: "bc"))
        // The exact digest (Python: sha256(b"deploys\x0081234").hexdigest()): ids never change
        // between versions, or an upgrade would deliver every re-read event again.
        #expect(AuditEvent.stableID(sourceName: "deploys", upstreamID: "81234") == "d9afd914b650d3ff4ee9913d0cd22d47a253115c3ddd2497b6c8ab76d7636b9b")
        #expect(AuditEvent.stableID(sourceName: "dé ploys", upstreamID: "x") == "87064391c958efacb57facfa4d5df6d7c691e8a00a01e9c91329fab66b1aade6")
        #expect(AuditEvent.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
    }

    @Test func secretsNeverPrint() {
        let secret = Secret("hunter2")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(secret.reveal() == "hunter2")
    }

    @Test func rfc3339AcceptsFractionsAndOffsets() {
        #expect(RFC3339.parse("2026-05-01T10:30:00Z") == Date(timeIntervalSince1970: 1_777_631_400))
        #expect(RFC3339.parse("2026-05-01T12:30:00+02:00") == Date(timeIntervalSince1970: 1_777_631_400))
        #expect(RFC3339.parse("2026-05-01T10:30:00.250Z") == Date(timeIntervalSince1970: 1_777_631_400.25))
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_777_631_400.25)) == "2026-05-01T10:30:00.250Z")
        #expect(RFC3339.parse("May 1st") == nil)
    }

    /// The byte-by-byte writer agrees with Foundation's formatter across the calendar, before and
    /// after 1970, and reads back to the same millisecond.
    @Test func rfc3339WritingAgreesWithFoundation() {
        let reference = ISO8601DateFormatter()
        reference.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        reference.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        let edges: [Double] = [0, -0.001, 951_782_400, 4_102_444_799.999, -2_208_988_800]
        for seconds in edges + (0..<2000).map({ _ in Double(Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &generator)) / 1000 }) {
            let date = Date(timeIntervalSince1970: seconds)
            let written = RFC3339.format(date)
            #expect(written == reference.string(from: date), "\(seconds)")
            #expect(RFC3339.parse(written).map { ($0.timeIntervalSince1970 * 1000).rounded() } == (seconds * 1000).rounded())
            #expect(RFC3339.formatSeconds(date) == String(written.prefix(19)) + "Z")
        }
    }
}
