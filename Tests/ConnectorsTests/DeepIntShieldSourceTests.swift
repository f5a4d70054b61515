import Foundation
import Testing

@testable import Connectors

@Suite struct DeepIntShieldSourceTests {
    let configuration = DeepIntShieldConfiguration(
        name: "shield", baseURL: URL(string: "https://shield.example")!, auth: .bearer(Secret("tok")), pageSize: 2)
    let window = PollWindow(start: RFC3339.parse("2026-05-01T00:00:00Z")!, end: RFC3339.parse("2026-05-02T00:00:00Z")!)

    func entry(_ id: String, _ time: String, type: String = "authentication", status: String = "success", severity: String = "low") -> String {
        """
        {"event_id": "\(id)", "workspace_id": "ws1", "timestamp": "\(time)", "event_type": "\(type)", "action": "login",
         "status": "\(status)", "severity": "\(severity)", "resource_type": "session", "resource_id": "r\(id)",
         "created_at": "\(time)", "actor": {"user_id": "u1", "email": "bob@acme.io", "ip_address": "203.0.113.42"},
         "details": {"browser": "firefox"}, "verification": {"hash": "sha256:ab", "verified": true, "verification_method": "hash_chain"}}
        """
    }

    func page(_ entries: [String], next: String?) -> WireResponse {
        let link = next.map { "\"\($0)\"" } ?? "null"
        let body =
            #"{"total_count": 9, "returned_count": \#(entries.count), "page": 1, "limit": 2, "audit_logs": ["#
            + entries.joined(separator: ",") + #"], "next_page": \#(link)}"#
        return WireResponse(status: 200, body: Data(body.utf8))
    }

    @Test func queriesAscendingWithTheFixedWindowAndFollowsNextPageAcrossPrefixes() throws {
        var filtered = configuration
        filtered.filters.eventTypes = ["authentication"]
        filtered.filters.userIDs = ["u1"]
        var poll = DeepIntShieldSource(configuration: filtered).makePoll(window: window)
        let first = try #require(try poll.nextRequest())
        #expect(first.method == "POST")
        #expect(first.url.absoluteString == "https://shield.example/api/audit-logs/query")
        #expect(first.header("Authorization") == "Bearer tok")
        let body = try JSONSerialization.jsonObject(with: first.body!) as! [String: Any]
        #expect((body["sort"] as? [String: String]) == ["field": "timestamp", "order": "asc"])
        #expect(body["limit"] as? Int == 2 && body["page"] as? Int == 1)
        let filters = body["filters"] as! [String: Any]
        #expect((filters["date_range"] as? [String: String]) == ["start": "2026-05-01T00:00:00.000Z", "end": "2026-05-02T00:00:00.000Z"])
        #expect((filters["event_types"] as? [String]) == ["authentication"])
        #expect(((filters["actors"] as? [String: Any])?["user_ids"] as? [String]) == ["u1"])

        let one = try poll.consume(
            page([entry("a", "2026-05-01T01:00:00.000Z"), entry("b", "2026-05-01T02:00:00.000Z")], next: "/api/enterprise/audit-logs/query?page=2"),
            receivedAt: Date())
        #expect(one.map(\.upstreamID) == ["a", "b"])
        #expect(poll.checkpoint == RFC3339.parse("2026-05-01T02:00:00Z"))
        let second = try #require(try poll.nextRequest())
        #expect(second.url.absoluteString == "https://shield.example/api/enterprise/audit-logs/query?page=2")
        #expect((try JSONSerialization.jsonObject(with: second.body!) as! [String: Any])["page"] as? Int == 2)
        _ = try poll.consume(page([entry("c", "2026-05-01T03:00:00.000Z")], next: nil), receivedAt: Date())
        #expect(try poll.nextRequest() == nil)
        #expect(poll.checkpoint == window.end)
    }

    @Test func aNextPageThatLoopsBackIsAnError() throws {
        var poll = DeepIntShieldSource(configuration: configuration).makePoll(window: window)
        _ = try poll.nextRequest()
        _ = try poll.consume(
            page([entry("a", "2026-05-01T01:00:00Z"), entry("b", "2026-05-01T01:00:00Z")], next: "/api/audit-logs/query?page=2"), receivedAt: Date())
        _ = try poll.nextRequest()
        #expect {
            try poll.consume(
                page([entry("c", "2026-05-01T01:00:00Z"), entry("d", "2026-05-01T01:00:00Z")], next: "/api/audit-logs/query?page=2"),
                receivedAt: Date())
        } throws: { ($0 as? SourceError)?.kind == .pagination && "\($0)".contains("loops back") }
    }

    @Test(arguments: [
        ("authentication", AuditEvent.EventType.authentication), ("authorization", .authorization),
        ("configuration_change", .configuration), ("data_access", .dataAccess), ("security_event", .security),
        ("security_incident", .security), ("something_new", .other),
    ])
    func eventTypesMap(upstream: String, expected: AuditEvent.EventType) throws {
        #expect(try normalized(entry("x", "2026-05-01T01:00:00Z", type: upstream)).eventType == expected)
    }

    @Test(arguments: [("success", AuditEvent.Outcome.success), ("failed", .failure), ("denied", .denied), ("blocked", .denied), ("odd", .unknown)])
    func statusesMap(upstream: String, expected: AuditEvent.Outcome) throws {
        #expect(try normalized(entry("x", "2026-05-01T01:00:00Z", status: upstream)).outcome == expected)
    }

    @Test(arguments: [("low", AuditEvent.Severity.low), ("medium", .medium), ("high", .high), ("critical", .critical), ("", .info)])
    func severitiesAreKept(upstream: String, expected: AuditEvent.Severity) throws {
        #expect(try normalized(entry("x", "2026-05-01T01:00:00Z", severity: upstream)).severity == expected)
    }

    @Test func actorResourceAndVerificationAreMapped() throws {
        let event = try normalized(entry("evt_1", "2026-05-01T01:00:00.250Z"))
        #expect(event.actor == .init(id: "u1", name: "bob@acme.io", email: "bob@acme.io", type: .user, ip: "203.0.113.42"))
        #expect(event.target == .init(type: "session", id: "revt_1"))
        #expect(event.details["verification"]?["hash"] == .string("sha256:ab"))
        #expect(event.details["browser"] == .string("firefox"))
        #expect(event.organization == "ws1")
        #expect(event.time == RFC3339.parse("2026-05-01T01:00:00.250Z"))
    }

    @Test func errorEnvelopeMessageIsSurfaced() {
        let source = DeepIntShieldSource(configuration: configuration)
        let body = #"{"is_deepintshield_error": false, "status_code": 401, "error": {"message": "invalid API key"}}"#
        #expect(source.upstreamMessage(in: WireResponse(status: 401, body: Data(body.utf8))) == "invalid API key")
    }

    private func normalized(_ json: String) throws -> AuditEvent {
        var poll = DeepIntShieldSource(configuration: configuration).makePoll(window: window)
        _ = try poll.nextRequest()
        return try #require(try poll.consume(page([json], next: nil), receivedAt: Date()).first?.event)
    }
}

@Suite struct LogfireSourceTests {
    let configuration = LogfireConfiguration(
        name: "logfire", baseURL: URL(string: "https://api-us.pydantic.dev/api")!, token: Secret("lf"), fetchDetails: true)

    func list(_ entries: [String]) -> WireResponse { WireResponse(status: 200, body: Data(("[" + entries.joined(separator: ",") + "]").utf8)) }

    func entry(_ id: String, _ time: String, action: String = "LOGIN") -> String {
        #"{"id": "\#(id)", "created_at": "\#(time)", "organization_name": "acme", "project_name": null, "user_name": "carol", "action": "\#(action)", "resource_type": "projects", "record_id": "p1", "ip_address": "198.51.100.7"}"#
    }

    @Test func aLongSpanIsSplitIntoWindowsOfAtMostNinetyDays() {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let chunks = LogfireSource.chunks(of: PollWindow(start: start, end: start.addingTimeInterval(120 * 86400)))
        #expect(chunks.count == 2)
        #expect(chunks[0] == PollWindow(start: start, end: start.addingTimeInterval(90 * 86400)))
        #expect(chunks[1] == PollWindow(start: start.addingTimeInterval(90 * 86400), end: start.addingTimeInterval(120 * 86400)))
        #expect(chunks.allSatisfy { $0.end.timeIntervalSince($0.start) <= 90 * 86400 })
    }

    @Test func requestsUseWholeSecondTimesAndTheTrailingSlash() throws {
        var poll = LogfireSource(configuration: configuration).makePoll(
            window: PollWindow(start: RFC3339.parse("2026-01-01T00:00:00.700Z")!, end: RFC3339.parse("2026-01-02T00:00:00.300Z")!))
        let request = try #require(try poll.nextRequest())
        #expect(
            request.url.absoluteString
                == "https://api-us.pydantic.dev/api/v1/audit-logs/?start_time=2026-01-01T00:00:00Z&end_time=2026-01-02T00:00:00Z")
        #expect(request.header("Authorization") == "Bearer lf")
    }

    @Test func newestFirstResultsAreOrderedAndUpdatesGetTheirDowngradePatches() throws {
        let window = PollWindow(start: RFC3339.parse("2026-01-01T00:00:00Z")!, end: RFC3339.parse("2026-01-02T00:00:00Z")!)
        var poll = LogfireSource(configuration: configuration).makePoll(window: window)
        _ = try poll.nextRequest()
        let first = try poll.consume(
            list([
                entry("c", "2026-01-01T03:00:00Z", action: "DELETE"), entry("b", "2026-01-01T02:00:00.123456Z", action: "UPDATE"),
                entry("a", "2026-01-01T01:00:00Z"),
            ]),
            receivedAt: Date())
        #expect(first.isEmpty)  // held until the UPDATE's details arrive
        let detail = try #require(try poll.nextRequest())
        #expect(detail.url.absoluteString == "https://api-us.pydantic.dev/api/v1/audit-logs/b/")
        let entries = try poll.consume(
            WireResponse(
                status: 200,
                body: Data(
                    #"{"id": "b", "downgrade_patches": [{"op": "replace", "path": "/project_name", "value": "old"}], "metadata": {"k": 1}}"#.utf8)),
            receivedAt: Date())
        #expect(entries.map(\.upstreamID) == ["a", "b", "c"])
        #expect(entries[1].event.changes == [.object(["op": .string("replace"), "path": .string("/project_name"), "value": .string("old")])])
        #expect(entries[1].event.details["metadata"]?["k"] == .integer(1))
        #expect(entries.map(\.event.eventType) == [.authentication, .configuration, .configuration])
        #expect(entries[2].event.severity == .low)
        #expect(try poll.nextRequest() == nil)
        #expect(poll.checkpoint == window.end)
    }

    /// The API does not page: a window whose answer is over `max_page_items` is asked again in
    /// halves (down to one second), and the entries of both halves arrive, the cursor after them.
    @Test func aWindowOverThePageLimitIsAskedAgainInHalves() throws {
        let window = PollWindow(start: RFC3339.parse("2026-01-01T00:00:00Z")!, end: RFC3339.parse("2026-01-01T04:00:00Z")!)
        var poll = LogfireSource(configuration: configuration).makePoll(window: window)
        var requests: [String] = []
        var spooled: [String] = []
        let answers = [
            ["d", "c", "b", "a"],  // the whole window: over the limit of 3
            ["b", "a"],  // 00:00-02:00
            ["d", "c"],  // 02:00-04:00
        ]
        try PageLimits.$current.withValue(PageLimits(maxItems: 3, maxValues: 10_000)) {
            for ids in answers {
                let request = try #require(try poll.nextRequest())
                requests.append(request.url.query ?? "")
                let times = ["a": "00:30", "b": "01:30", "c": "02:30", "d": "03:30"]
                let body = list(ids.map { entry($0, "2026-01-01T\(times[$0]!):00Z", action: "LOGIN") })
                spooled += try poll.consume(body, receivedAt: Date()).map(\.upstreamID)
            }
        }
        #expect(
            requests == [
                "start_time=2026-01-01T00:00:00Z&end_time=2026-01-01T04:00:00Z",
                "start_time=2026-01-01T00:00:00Z&end_time=2026-01-01T02:00:00Z",
                "start_time=2026-01-01T02:00:00Z&end_time=2026-01-01T04:00:00Z",
            ])
        #expect(spooled == ["a", "b", "c", "d"])
        #expect(try poll.nextRequest() == nil)
        #expect(poll.checkpoint == window.end)

        // A single second over the limit cannot be split: the page fails, naming the limit.
        var tight = LogfireSource(configuration: configuration).makePoll(
            window: PollWindow(start: RFC3339.parse("2026-01-01T00:00:00Z")!, end: RFC3339.parse("2026-01-01T00:00:01Z")!))
        _ = try tight.nextRequest()
        do {
            try PageLimits.$current.withValue(PageLimits(maxItems: 1, maxValues: 10_000)) {
                _ = try tight.consume(list([entry("x", "2026-01-01T00:00:00Z"), entry("y", "2026-01-01T00:00:00Z")]), receivedAt: Date())
            }
            Issue.record("an over-limit second was taken")
        } catch let error as SourceError {
            #expect(error.isOverLimit)
            #expect(error.message.contains("max_page_items"))
        }
    }

    @Test func aDetailThatVanishedKeepsItsEntry() throws {
        var poll = LogfireSource(configuration: configuration).makePoll(
            window: PollWindow(start: Date(timeIntervalSince1970: 1_767_225_600), end: Date(timeIntervalSince1970: 1_767_312_000)))
        _ = try poll.nextRequest()
        _ = try poll.consume(list([entry("b", "2026-01-01T02:00:00Z", action: "UPDATE")]), receivedAt: Date())
        _ = try poll.nextRequest()
        let kept = try #require(try poll.readFailure(WireResponse(status: 404, body: Data(#"{"detail": "Not found"}"#.utf8)), receivedAt: Date()))
        #expect(kept.map(\.upstreamID) == ["b"])
        #expect(kept[0].event.details["downgrade_patches_unavailable"] != nil)
        // Any other failure is the engine's to report.
        #expect(try poll.readFailure(WireResponse(status: 403), receivedAt: Date()) == nil)
    }

    @Test(arguments: [
        ("LOGIN", AuditEvent.EventType.authentication), ("LOGOUT", .authentication), ("INSERT", .configuration), ("UPDATE", .configuration),
        ("DELETE", .configuration), ("OTHER", .other),
    ])
    func actionsMap(action: String, expected: AuditEvent.EventType) throws {
        let event = try LogfireNormalizer.normalize(
            try JSONValue.parse(Data(entry("x", "2026-01-01T00:00:00Z", action: action).utf8)), configuration: configuration, receivedAt: Date())
        #expect(event.event.eventType == expected)
        #expect(event.event.actor.name == "carol" && event.event.organization == "acme" && event.event.project == nil)
    }

    @Test func detailMessagesAreSurfaced() {
        let source = LogfireSource(configuration: configuration)
        #expect(
            source.upstreamMessage(in: WireResponse(status: 400, body: Data(#"{"detail": "time window must not exceed 90 days"}"#.utf8)))
                == "time window must not exceed 90 days")
    }
}
