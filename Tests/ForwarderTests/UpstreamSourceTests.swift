import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// End to end: YAML text → configuration readers → engine → `once` against the DeepIntShield,
/// Logfire and paged-JSON emulators over loopback HTTP → a real SQLite state → a file sink, whose
/// NDJSON is what the assertions read.
@Suite struct UpstreamSourceTests {}

// MARK: - DeepIntShield

extension UpstreamSourceTests {
    @Suite struct DeepIntShield {
        /// Entries over the last `span` seconds, ending `endingAgo` seconds ago.
        static func entries(
            _ count: Int, span: TimeInterval = 3 * 3600, endingAgo: TimeInterval = 60, firstIndex: Int = 0
        )
            -> [DeepIntShieldEntry]
        {
            let now = Date()
            return DeepIntShieldEmulator.generate(
                count: count, firstIndex: firstIndex, from: now.addingTimeInterval(-endingAgo - span),
                to: now.addingTimeInterval(-endingAgo))
        }

        /// Ascending (time, id), the order the emulator pages in.
        static func ascending(_ entries: [DeepIntShieldEntry]) -> [DeepIntShieldEntry] {
            entries.sorted { a, b in
                let (ta, tb) = (a.timestamp.timeIntervalSince1970, b.timestamp.timeIntervalSince1970)
                return ta != tb ? ta < tb : a.eventID < b.eventID
            }
        }

        @Test func aThousandEntriesArriveOnceEachFollowingNextPageToTheEnterprisePrefix() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (shield, url) = try await harness.shield(nextPagePrefix: "/api/enterprise/audit-logs")
            let entries = Self.entries(1000)
            await shield.seed(entries)
            let engine = try harness.engine(sources: UpstreamHarness.shieldSource(url, "    page_size: 50"))
            #expect(await harness.once(engine) == .complete)

            let ids = try harness.fileEventIDs()
            #expect(ids.count == 1000)
            #expect(Set(ids) == UpstreamHarness.ids(entries.map(\.eventID), source: "shield"))
            // Ascending pages: the file is in time order.
            let times = try harness.fileEventTimes()
            #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })

            // Page 1 at the configured route, pages 2…20 where next_page pointed.
            let requests = await shield.requests()
            #expect(requests.map(\.path) == ["/api/audit-logs/query"] + (2...20).map { "/api/enterprise/audit-logs/query?page=\($0)" })
            let bodyPages = try requests.map { try jsonObject($0.body)["page"] as? Int }
            #expect(bodyPages == (1...20).map { Optional($0) })
            #expect(requests.allSatisfy { $0.method == "POST" && $0.header("Authorization") == "Bearer \(harness.shieldToken)" })
            // The window end is fixed when the poll starts: the same on every page.
            let ends = try requests.map { request -> String? in
                let filters = try jsonObject(request.body)["filters"] as? [String: Any]
                return (filters?["date_range"] as? [String: String])?["end"]
            }
            #expect(ends.first != nil && Set(ends).count == 1)
            #expect(try engine.store.spoolDepth() == 0)
        }

        @Test func aLateEntryInsideTheOverlapIsDeliveredOnceAndNothingRepeats() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (shield, url) = try await harness.shield()
            // Up to 10 s ago: the last ~110 s of them fall inside the next poll's 2 m overlap.
            let entries = Self.entries(200, span: 600, endingAgo: 10)
            await shield.seed(entries)
            let engine = try harness.engine(sources: UpstreamHarness.shieldSource(url, "    page_size: 50\n    overlap: 2m"))
            #expect(await harness.once(engine) == .complete)
            #expect(try harness.fileEventIDs().count == 200)

            let cursor = try #require(try harness.cursor(engine, source: "shield"))
            let reread = entries.filter { $0.timestamp >= cursor.addingTimeInterval(-120) }
            try #require(reread.count > 20, "the overlap must re-read delivered entries for this test to mean anything")
            let late = DeepIntShieldEntry(
                eventID: "late-\(UUID().uuidString)", timestamp: cursor.addingTimeInterval(-30), eventType: "security_incident",
                action: "incident_opened", status: "blocked", severity: "critical")
            await shield.insert(late)
            let firstRunRequests = await shield.requests().count
            #expect(await harness.once(engine) == .complete)

            let ids = try harness.fileEventIDs()
            #expect(ids.count == 201)
            #expect(Set(ids) == UpstreamHarness.ids(entries.map(\.eventID) + [late.eventID], source: "shield"))
            // The second poll started `overlap` before the cursor.
            let second = try #require(await shield.requests().dropFirst(firstRunRequests).first)
            let range = try #require((try jsonObject(second.body)["filters"] as? [String: Any])?["date_range"] as? [String: String])
            #expect(range["start"].flatMap(RFC3339.parse) == cursor.addingTimeInterval(-120))
        }

        @Test func aNextPageLoopFailsThePollKeepsWhatWasSpooledAndTheCursorGoesNoFurther() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (shield, url) = try await harness.shield()
            let entries = Self.entries(250)
            await shield.seed(entries)
            await shield.setNextPageLoop(fromPage: 3, toPage: 2)
            let engine = try harness.engine(sources: UpstreamHarness.shieldSource(url, "    page_size: 50"))

            let failure = try #require(await harness.once(engine).failureText)
            #expect(failure.contains("next_page loops back"))
            #expect(await shield.requests().count == 3)
            #expect(try engine.store.sourceStates().first?.lastError?.contains("loops back") == true)
            // Pages 1 and 2 were spooled and delivered; page 3 (the looping one) was not used.
            let sorted = Self.ascending(entries)
            let ids = try harness.fileEventIDs()
            #expect(ids.count == 100)
            #expect(Set(ids) == UpstreamHarness.ids(sorted.prefix(100).map(\.eventID), source: "shield"))
            // Ascending pages move the cursor page by page (by design): it is at the newest entry
            // spooled, never at the window end, and before everything not yet read.
            let cursor = try #require(try harness.cursor(engine, source: "shield"))
            #expect(abs(cursor.timeIntervalSince(sorted[99].timestamp)) < 0.001)
            #expect(cursor < sorted[100].timestamp)

            // Honest links again: everything arrives, each entry once.
            await shield.clearNextPageLoop()
            #expect(await harness.once(engine) == .complete)
            let after = try harness.fileEventIDs()
            #expect(after.count == 250)
            #expect(Set(after) == UpstreamHarness.ids(entries.map(\.eventID), source: "shield"))
        }

        @Test func tooManyRequestsWithRetryAfterIsWaitedOutAndEverythingArrives() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (shield, url) = try await harness.shield()
            let entries = Self.entries(120)
            await shield.seed(entries)
            // The second page is refused once.
            await shield.faults.enqueue(.delay(.zero))
            await shield.faults.enqueue(.status(429, retryAfter: "2"))
            let clock = VirtualClock(requestCount: { await shield.requests().count })
            // 30 s per request (the harness default): under the whole suite on 2 cores a 5 s
            // timeout once retried the first page, and the count below would be off by that retry.
            let engine = try harness.engine(sources: UpstreamHarness.shieldSource(url, "    page_size: 50"), clock: clock)
            #expect(await harness.once(engine) == .complete)

            #expect(clock.countedWaits == [.init(duration: .seconds(2), afterRequests: 2)])
            let requests = await shield.requests()
            #expect(requests.count == 4)
            // The refused request was sent again as it was.
            #expect(requests[1].path == requests[2].path && requests[1].body == requests[2].body)
            let ids = try harness.fileEventIDs()
            #expect(ids.count == 120)
            #expect(Set(ids) == UpstreamHarness.ids(entries.map(\.eventID), source: "shield"))
        }

        @Test func aWrongTokenFailsWithTheUpstreamMessage() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (shield, url) = try await harness.shield()
            await shield.seed(Self.entries(10))
            let engine = try harness.engine(
                sources: UpstreamHarness.shieldSource(url), environment: ["SHIELD_TOKEN": "not-the-token"])
            let failure = try #require(await harness.once(engine).failureText)
            #expect(failure.contains("HTTP 401"))
            #expect(failure.contains("invalid or missing token"))  // the upstream's own message
            #expect(failure.contains("check the source's token"))
            #expect(try harness.cursor(engine, source: "shield") == nil)
            #expect(try harness.fileEventIDs().isEmpty)
        }

        @Test func configuredFiltersAreSentUpstream() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (shield, url) = try await harness.shield()
            let entries = Self.entries(600)
            await shield.seed(entries)
            let filters = """
                    page_size: 20
                    filters:
                      event_types: [security_event, security_incident]
                      actions: [suspicious_login, rate_limit_exceeded, incident_opened, incident_resolved]
                      resource_types: [api_key, workspace]
                      severity: [high, critical]
                      status: [failed, denied, blocked]
                      user_ids: [usr_alice, usr_bob]
                      emails: [alice@acme.example, bob@acme.example]
                      ip_addresses: ["203.0.113.10", "198.51.100.7"]
                      query: req_
                """
            let engine = try harness.engine(sources: UpstreamHarness.shieldSource(url, filters))
            #expect(await harness.once(engine) == .complete)

            let body = try jsonObject(try #require(await shield.requests().first).body)
            let sent = try #require(body["filters"] as? [String: Any])
            #expect(sent["event_types"] as? [String] == ["security_event", "security_incident"])
            #expect(sent["actions"] as? [String] == ["suspicious_login", "rate_limit_exceeded", "incident_opened", "incident_resolved"])
            #expect(sent["resource_types"] as? [String] == ["api_key", "workspace"])
            #expect(sent["severity"] as? [String] == ["high", "critical"])
            #expect(sent["status"] as? [String] == ["failed", "denied", "blocked"])
            let actors = try #require(sent["actors"] as? [String: Any])
            #expect(actors["user_ids"] as? [String] == ["usr_alice", "usr_bob"])
            #expect(actors["emails"] as? [String] == ["alice@acme.example", "bob@acme.example"])
            #expect(actors["ip_addresses"] as? [String] == ["203.0.113.10", "198.51.100.7"])
            #expect(sent["query"] as? String == "req_")
            #expect((sent["date_range"] as? [String: String])?.keys.sorted() == ["end", "start"])
            #expect(body["sort"] as? [String: String] == ["field": "timestamp", "order": "asc"])
            #expect(body["limit"] as? Int == 20)
            #expect(body["include_details"] as? Bool == true)

            // What the upstream filtered is what arrived (several pages of it).
            let expected = entries.filter { entry in
                ["security_event", "security_incident"].contains(entry.eventType) && ["high", "critical"].contains(entry.severity)
                    && entry.status != "success" && ["usr_alice", "usr_bob"].contains(entry.actor.userID)
            }
            try #require(expected.count > 20 && expected.count < entries.count)
            let ids = try harness.fileEventIDs()
            #expect(ids.count == expected.count)
            #expect(Set(ids) == UpstreamHarness.ids(expected.map(\.eventID), source: "shield"))
        }

        @Test func everyEnumValueIsNormalizedInTheDeliveredJSON() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (shield, url) = try await harness.shield()
            // upstream (event_type, status, severity) → schema (event_type, outcome, severity)
            let cases: [(String, String, String, String, String, String)] = [
                ("authentication", "success", "low", "authentication", "success", "low"),
                ("authorization", "failed", "medium", "authorization", "failure", "medium"),
                ("configuration_change", "denied", "high", "configuration", "denied", "high"),
                ("data_access", "blocked", "critical", "data_access", "denied", "critical"),
                ("security_event", "failed", "critical", "security", "failure", "critical"),
                ("security_incident", "blocked", "high", "security", "denied", "high"),
                ("quantum_event", "pending", "urgent", "other", "unknown", "info"),
            ]
            let start = Date().addingTimeInterval(-600)
            let entries = cases.enumerated().map { index, c in
                DeepIntShieldEntry(
                    eventID: "norm-\(index)", workspaceID: "ws_norm", timestamp: start.addingTimeInterval(Double(index) * 10),
                    eventType: c.0, action: "act_\(index)", status: c.1, severity: c.2, resourceType: "res_\(index)",
                    resourceID: "rid_\(index)",
                    actor: .init(userID: "usr_\(index)", email: "u\(index)@acme.example", ipAddress: "192.0.2.\(index + 1)"),
                    details: #"{"note":"n\#(index)"}"#)
            }
            await shield.seed(entries)
            let engine = try harness.engine(sources: UpstreamHarness.shieldSource(url))
            #expect(await harness.once(engine) == .complete)

            let events = try harness.fileEvents()
            try #require(events.count == cases.count)
            let byID = Dictionary(uniqueKeysWithValues: events.map { ($0["id"] as? String ?? "", $0) })
            for (index, c) in cases.enumerated() {
                let event = try #require(byID[AuditEvent.stableID(sourceName: "shield", upstreamID: "norm-\(index)")], "norm-\(index)")
                #expect(event["event_type"] as? String == c.3, "\(c.0)")
                #expect(event["outcome"] as? String == c.4, "\(c.1)")
                #expect(event["severity"] as? String == c.5, "\(c.2)")
                #expect(event["action"] as? String == "act_\(index)")
                #expect(event["time"] as? String == RFC3339.format(entries[index].timestamp))
                #expect(event["organization"] as? String == "ws_norm")
                #expect(event["source"] as? [String: String] == ["name": "shield", "type": "deepintshield", "event_id": "norm-\(index)"])
                let actor = try #require(event["actor"] as? [String: String])
                #expect(
                    actor == [
                        "id": "usr_\(index)", "name": "u\(index)@acme.example", "email": "u\(index)@acme.example", "type": "user",
                        "ip": "192.0.2.\(index + 1)",
                    ])
                #expect(event["target"] as? [String: String] == ["type": "res_\(index)", "id": "rid_\(index)"])
                let details = try #require(event["details"] as? [String: Any])
                #expect(details["upstream_event_type"] as? String == c.0)
                #expect(details["upstream_status"] as? String == c.1)
                #expect(details["note"] as? String == "n\(index)")
                #expect((details["verification"] as? [String: Any])?["hash"] as? String == entries[index].verification.hash)
                #expect((event["raw"] as? [String: Any])?["event_id"] as? String == "norm-\(index)")
            }
        }
    }
}

// MARK: - Logfire

extension UpstreamSourceTests {
    @Suite struct Logfire {
        static let day: TimeInterval = 86400

        /// Entries spread from `from` seconds ago to a minute ago.
        static func entries(_ count: Int, from: TimeInterval) -> [LogfireEntry] {
            let now = Date()
            return LogfireEmulator.generate(count: count, from: now.addingTimeInterval(-from), to: now.addingTimeInterval(-60))
        }

        /// Oldest first, ties by id: the order the connector spools in.
        static func oldestFirst(_ entries: [LogfireEntry]) -> [LogfireEntry] {
            entries.sorted { a, b in
                let (ta, tb) = (a.createdAt.timeIntervalSince1970, b.createdAt.timeIntervalSince1970)
                return ta != tb ? ta < tb : a.id < b.id
            }
        }

        @Test func aHundredAndTwentyDayLookbackIsAskedInWindowsOfAtMostNinetyDays() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (logfire, url) = try await harness.logfire()
            let entries = Self.entries(40, from: 119 * Self.day)
            await logfire.seed(entries)
            let engine = try harness.engine(sources: UpstreamHarness.logfireSource(url, "    lookback: 120d"))
            let before = Date()
            #expect(await harness.once(engine) == .complete)
            let after = Date()

            let windows = await logfire.windowsAsked()
            #expect(await logfire.refusedLongWindows() == 0)
            #expect(windows.count == 2)
            let ends = try windows.map { try #require($0.end, "every window has an end_time") }
            for (window, end) in zip(windows, ends) {
                #expect(end > window.start)
                #expect(end.timeIntervalSince(window.start) <= 90 * Self.day)
            }
            // Consecutive, no gap and no overlap, from 120 days ago to the poll's start.
            #expect(zip(ends, windows.dropFirst()).allSatisfy { $0 == $1.start })
            let first = try #require(windows.first).start
            #expect(first >= before.addingTimeInterval(-120 * Self.day - 1) && first <= after.addingTimeInterval(-120 * Self.day))
            let last = try #require(ends.last)
            #expect(last >= before.addingTimeInterval(-1) && last <= after)

            // Every entry once, oldest first across both windows.
            #expect(try harness.fileEventIDs() == Self.oldestFirst(entries).map { AuditEvent.stableID(sourceName: "logfire", upstreamID: $0.id) })
            #expect(try harness.cursor(engine, source: "logfire").map { $0 >= last } == true)
        }

        @Test(arguments: [true, false])
        func fetchDetailsPutsDowngradePatchesIntoChanges(fetchDetails: Bool) async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (logfire, url) = try await harness.logfire()
            let entries = Self.entries(25, from: 10 * Self.day)
            await logfire.seed(entries)
            let engine = try harness.engine(
                sources: UpstreamHarness.logfireSource(url, "    lookback: 30d\n    fetch_details: \(fetchDetails)"))
            #expect(await harness.once(engine) == .complete)

            let updates = entries.filter { $0.action == "UPDATE" }
            try #require(updates.count == 5)
            let events = try harness.fileEvents()
            #expect(events.count == 25)
            for event in events {
                let raw = try #require(event["raw"] as? [String: Any])
                let id = try #require(raw["id"] as? String)
                let entry = try #require(entries.first { $0.id == id })
                let details = event["details"] as? [String: Any]
                if fetchDetails, entry.action == "UPDATE" {
                    let patches = try JSONSerialization.jsonObject(with: Data(try #require(entry.downgradePatches).utf8)) as? NSArray
                    #expect(event["changes"] as? NSArray == patches, "\(id)")
                    let metadata = try JSONSerialization.jsonObject(with: Data(try #require(entry.metadata).utf8)) as? NSDictionary
                    #expect(details?["metadata"] as? NSDictionary == metadata, "\(id)")
                } else {
                    #expect(event["changes"] == nil, "\(id) \(entry.action)")
                }
            }
            // One detail request per UPDATE entry, trailing slash included; none without fetch_details.
            let detailPaths = await logfire.requests().map(\.path).filter { $0 != "/api/v1/audit-logs/" && !$0.hasPrefix("/api/v1/audit-logs/?") }
            #expect(Set(detailPaths) == (fetchDetails ? Set(updates.map { "/api/v1/audit-logs/\($0.id)/" }) : []))
        }

        @Test func aForbiddenTokenFailsClearly() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (logfire, url) = try await harness.logfire()
            await logfire.seed(Self.entries(5, from: Self.day / 2))
            await logfire.setForbidden(true)
            let engine = try harness.engine(sources: UpstreamHarness.logfireSource(url))
            let failure = try #require(await harness.once(engine).failureText)
            #expect(failure.contains("HTTP 403"))
            #expect(failure.contains("token lacks access to the organization"))
            #expect(try harness.cursor(engine, source: "logfire") == nil)
            #expect(try harness.fileEventIDs().isEmpty)
        }

        /// The malformed answer comes for the first window (nothing read yet) or the second one
        /// (the first window is in: the cursor may move to its end, no further).
        @Test(arguments: [0, 1])
        func aMalformedPageFailsThePollAndTheNextRunDeliversAll(brokenWindow: Int) async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (logfire, url) = try await harness.logfire()
            let entries = Self.entries(40, from: 119 * Self.day)
            await logfire.seed(entries)
            await logfire.faults.enqueue(.delay(.zero), times: brokenWindow)
            await logfire.faults.enqueue(.garbage)
            let engine = try harness.engine(sources: UpstreamHarness.logfireSource(url, "    lookback: 120d"))

            let failure = try #require(await harness.once(engine).failureText)
            #expect(failure.contains("Logfire audit log page is"))
            #expect(failure.contains("502 Bad Gateway"))  // the bytes are quoted
            // The malformed answer is a fault, sent before the emulator looks at the window.
            #expect(await logfire.requests().count == brokenWindow + 1)
            let windows = await logfire.windowsAsked()
            #expect(windows.count == brokenWindow)
            let cursor = try harness.cursor(engine, source: "logfire")
            if brokenWindow == 0 {
                #expect(cursor == nil)
                #expect(try harness.fileEventIDs().isEmpty)
            } else {
                let firstEnd = try #require(windows.first?.end)
                #expect(cursor == firstEnd)
                let inFirst = Self.oldestFirst(entries).filter { $0.createdAt < firstEnd }
                #expect(try harness.fileEventIDs() == inFirst.map { AuditEvent.stableID(sourceName: "logfire", upstreamID: $0.id) })
            }

            #expect(await harness.once(engine) == .complete)
            let ids = try harness.fileEventIDs()
            #expect(ids.count == 40)
            #expect(Set(ids) == UpstreamHarness.ids(entries.map(\.id), source: "logfire"))
        }
    }
}

// MARK: - http_json against the paged JSON API

extension UpstreamSourceTests {
    @Suite struct HTTPJSON {
        /// One route of the paged emulator and the source keys that read it (besides the common ones).
        struct Route: Sendable, CustomTestStringConvertible {
            var path: String
            var yaml: String
            var testDescription: String { path }
            var isPOST: Bool { path == "/search" }
        }

        static let routes: [Route] = [
            Route(
                path: "/next-link",
                yaml: """
                        url: {BASE}/next-link?per_page=7
                        items: data.items
                        pagination: { type: next_link, path: links.next }
                    """),
            Route(
                path: "/link-header",
                yaml: """
                        url: {BASE}/link-header?per_page=7
                        items: ""
                        pagination: { type: link_header }
                    """),
            Route(
                path: "/page-number",
                yaml: """
                        url: {BASE}/page-number
                        items: results
                        pagination: { type: page, param: page, size_param: per_page, size: 7 }
                    """),
            Route(
                path: "/offset",
                yaml: """
                        url: {BASE}/offset
                        items: items
                        pagination: { type: offset, param: offset, size_param: per_page, size: 7 }
                    """),
            Route(
                path: "/cursor",
                yaml: """
                        url: {BASE}/cursor?per_page=7
                        items: entries
                        pagination: { type: cursor, param: cursor, path: next_cursor }
                    """),
            Route(
                path: "/newest",
                yaml: """
                        url: {BASE}/newest?per_page=7
                        items: data.items
                        order: newest_first
                        pagination: { type: next_link, path: links.next }
                    """),
            Route(
                path: "/search",
                yaml: """
                        method: POST
                        url: {BASE}/search
                        body: { per_page: 7 }
                        items: entries
                        pagination: { type: cursor, param: cursor, path: next_cursor, in: body }
                    """),
        ]

        static func source(_ route: Route, _ url: URL) -> String {
            """
              - name: paged
                type: http_json
            \(route.yaml.replacingOccurrences(of: "{BASE}", with: url.absoluteString))
                auth: { type: header, name: X-API-Key, value: "${PAGED_KEY}" }
                window: { start_param: since, end_param: until, in: \(route.isPOST ? "body" : "query"), format: rfc3339 }
                id_field: uuid
                time_field: ts
                mapping: { action: kind, actor_name: who.login, message: detail }
                lookback: 1d
                timeout: 30s
            """
        }

        @Test(arguments: routes)
        func everyItemArrivesOnceThroughThisPaginationStyle(route: Route) async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (paged, url) = try await harness.paged()
            let now = Date()
            // 45 items over 20 s (two or three per second, so page boundaries fall inside a second),
            // plus items before the lookback and after now that the window must leave out.
            let inside = await paged.seed(count: 45, from: now.addingTimeInterval(-40), to: now.addingTimeInterval(-20))
            await paged.seed(count: 5, from: now.addingTimeInterval(-3 * 86400), to: now.addingTimeInterval(-2 * 86400))
            await paged.seed(count: 5, from: now.addingTimeInterval(3600), to: now.addingTimeInterval(7200))
            let engine = try harness.engine(sources: Self.source(route, url))
            let before = Date()
            #expect(await harness.once(engine) == .complete)
            let after = Date()

            let events = try harness.fileEvents()
            let ids = events.compactMap { $0["id"] as? String }
            #expect(ids.count == 45)
            #expect(Set(ids) == UpstreamHarness.ids(inside.map(\.uuid), source: "paged"))
            // The mapping applied.
            let first = try #require(inside.first)
            let event = try #require(events.first { $0["id"] as? String == AuditEvent.stableID(sourceName: "paged", upstreamID: first.uuid) })
            #expect(event["action"] as? String == first.kind)
            #expect((event["actor"] as? [String: Any])?["name"] as? String == first.login)
            #expect(event["message"] as? String == first.detail)

            let requests = await paged.requests()
            #expect(requests.count >= 7)  // 45 items, 7 per page
            #expect(requests.allSatisfy { $0.pathWithoutQueryString == route.path && $0.method == (route.isPOST ? "POST" : "GET") })
            #expect(requests.allSatisfy { $0.header("X-API-Key") == harness.pagedKey })
            for request in requests {
                let window: [String: String]
                if route.isPOST {
                    let body = try jsonObject(request.body)
                    #expect(body["per_page"] as? Int == 7)
                    window = body.compactMapValues { $0 as? String }
                } else {
                    window = queryParameters(request.path)
                }
                let since = try #require(window["since"].flatMap(RFC3339.parse), "since in \(request.path)")
                let until = try #require(window["until"].flatMap(RFC3339.parse), "until in \(request.path)")
                #expect(since >= before.addingTimeInterval(-86400 - 1) && since <= after.addingTimeInterval(-86400))
                #expect(until >= before.addingTimeInterval(-1) && until <= after)
            }
        }

        @Test func aWrongKeyFails() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (paged, url) = try await harness.paged()
            let now = Date()
            await paged.seed(count: 10, from: now.addingTimeInterval(-60), to: now.addingTimeInterval(-30))
            let engine = try harness.engine(sources: Self.source(Self.routes[4], url), environment: ["PAGED_KEY": "wrong-key"])
            let failure = try #require(await harness.once(engine).failureText)
            #expect(failure.contains("HTTP 401"))
            #expect(failure.contains("invalid API key"))
            #expect(try harness.cursor(engine, source: "paged") == nil)
            #expect(try harness.fileEventIDs().isEmpty)
        }
    }
}

// MARK: - Rate limits, one place for every source

extension UpstreamSourceTests {
    @Suite struct RateLimits {
        enum Kind: String, Sendable, CaseIterable {
            case deepintshield, logfire, httpJSON = "http_json"
        }

        /// Seeds an emulator of `kind` so that one poll takes exactly `requests` requests; `start`
        /// serves it (directly, or through a front) and returns the URL the source is given. Returns
        /// the source's YAML, its name and the ids it must deliver.
        static func prepare(
            _ kind: Kind, requests: Int, extra: String, harness: UpstreamHarness,
            start: (Any) async throws -> URL
        ) async throws -> (yaml: String, name: String, ids: Set<String>) {
            let now = Date()
            switch kind {
            case .deepintshield:
                let shield = DeepIntShieldEmulator(token: harness.shieldToken)
                let entries = DeepIntShieldEmulator.generate(
                    count: 5 * (requests - 1) + 2, from: now.addingTimeInterval(-3600), to: now.addingTimeInterval(-60))
                await shield.seed(entries)
                let url = try await start(shield)
                return (
                    UpstreamHarness.shieldSource(url, "    page_size: 5\n" + extra), "shield",
                    UpstreamHarness.ids(entries.map(\.eventID), source: "shield")
                )
            case .logfire:
                // One request per window: 90-day windows and a shorter last one.
                let days = 90 * (requests - 1) + 20
                let logfire = LogfireEmulator(token: harness.logfireToken)
                let entries = LogfireEmulator.generate(
                    count: 12, from: now.addingTimeInterval(-Double(days - 1) * 86400), to: now.addingTimeInterval(-60))
                await logfire.seed(entries)
                let url = try await start(logfire)
                return (
                    UpstreamHarness.logfireSource(url, "    lookback: \(days)d\n" + extra), "logfire",
                    UpstreamHarness.ids(entries.map(\.id), source: "logfire")
                )
            case .httpJSON:
                let paged = PagedJSONEmulator(apiKey: harness.pagedKey)
                let items = PagedJSONEmulator.generate(
                    count: 5 * (requests - 1) + 2, from: now.addingTimeInterval(-600), to: now.addingTimeInterval(-60))
                await paged.seed(items)
                let url = try await start(paged)
                let yaml = """
                      - name: paged
                        type: http_json
                        url: \(url.absoluteString)/cursor?per_page=5
                        auth: { type: header, name: X-API-Key, value: "${PAGED_KEY}" }
                        window: { start_param: since, end_param: until }
                        items: entries
                        id_field: uuid
                        time_field: ts
                        pagination: { type: cursor, param: cursor, path: next_cursor }
                        lookback: 1d
                        timeout: 30s
                    \(extra)
                    """
                return (yaml, "paged", UpstreamHarness.ids(items.map(\.uuid), source: "paged"))
            }
        }

        /// `rate_limit: { requests: 2, per: 1s }` and a poll of three requests: the third waits for
        /// the first to leave the window (on virtual time: the wait is recorded, not slept).
        @Test(arguments: Kind.allCases)
        func aClientSideRateLimitMakesTheThirdRequestWait(kind: Kind) async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let counter = RequestCounter()
            let (yaml, name, ids) = try await Self.prepare(
                kind, requests: 3, extra: "    rate_limit: { requests: 2, per: 30s }", harness: harness
            ) { emulator in
                let url: URL
                switch emulator {
                case let shield as DeepIntShieldEmulator:
                    url = try await shield.start()
                    counter.set { await shield.requests().count }
                    harness.onFinish { await shield.stop() }
                case let logfire as LogfireEmulator:
                    url = try await logfire.start()
                    counter.set { await logfire.requests().count }
                    harness.onFinish { await logfire.stop() }
                case let paged as PagedJSONEmulator:
                    url = try await paged.start()
                    counter.set { await paged.requests().count }
                    harness.onFinish { await paged.stop() }
                default:
                    throw UnexpectedEmulator(emulator: "\(emulator)")
                }
                return url
            }
            let clock = VirtualClock(requestCount: { await counter.count() })
            let engine = try harness.engine(sources: yaml, clock: clock)
            #expect(await harness.once(engine) == .complete)

            #expect(await counter.count() == 3)
            let waits = clock.countedWaits
            #expect(waits.count == 1)
            #expect(waits.first?.afterRequests == 2)
            #expect(waits.first.map { $0.duration > .seconds(20) && $0.duration <= .seconds(30) } == true)
            #expect(Set(try harness.fileEventIDs()) == ids)
            #expect(try engine.store.sourceStates().first { $0.source == name }?.lastError == nil)
        }

        /// Every other answer says the upstream's budget is spent (`X-RateLimit-Remaining: 0`), with
        /// `X-RateLimit-Reset` as seconds from now (2) or as epoch seconds (3 whole seconds ahead: at
        /// least 2 s, so a loaded machine's delay before the next request still leaves a wait to see):
        /// the request after it waits for the reset, the one after the next (unspent) answer does not.
        /// The block is kept as a calendar instant, read from the engine's (virtual) clock.
        @Test(arguments: [(Kind.deepintshield, "delay"), (.logfire, "delay"), (.httpJSON, "delay"), (.httpJSON, "epoch")])
        func anExhaustedUpstreamBudgetMakesTheNextRequestWaitForItsReset(kind: Kind, resetStyle: String) async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let front = RateLimitHeaderFront(budget: 2) {
                resetStyle == "epoch" ? String(Int(Date().timeIntervalSince1970) + 3) : "2"
            }
            harness.front(front)
            let (yaml, _, ids) = try await Self.prepare(kind, requests: 4, extra: "", harness: harness) { emulator in
                switch emulator {
                case let shield as DeepIntShieldEmulator: return try await front.start(shield)
                case let logfire as LogfireEmulator: return try await front.start(logfire)
                case let paged as PagedJSONEmulator: return try await front.start(paged)
                default: throw UnexpectedEmulator(emulator: "\(emulator)")
                }
            }
            let clock = VirtualClock(requestCount: { front.requests().count })
            let engine = try harness.engine(sources: yaml, clock: clock)
            #expect(await harness.once(engine) == .complete)

            #expect(front.requests().count == 4)
            // Answers 2 and 4 said "spent"; only request 3 came after one.
            let waits = clock.countedWaits
            #expect(waits.count == 1, "\(waits)")
            #expect(waits.first?.afterRequests == 2)
            #expect(waits.first.map { $0.duration > .milliseconds(500) && $0.duration <= .seconds(3) } == true, "\(waits)")
            #expect(Set(try harness.fileEventIDs()) == ids)
        }
    }
}

/// Counts an emulator's requests once the emulator is known.
private final class RequestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var source: (@Sendable () async -> Int)?

    func set(_ source: @escaping @Sendable () async -> Int) {
        lock.withLock { self.source = source }
    }

    func count() async -> Int {
        guard let source = lock.withLock({ self.source }) else { return 0 }
        return await source()
    }
}

extension RecordedRequest {
    /// The request target without its query string.
    var pathWithoutQueryString: String {
        String(path.prefix { $0 != "?" })
    }
}

/// `RateLimits.prepare` handed a `start` closure something it does not serve.
private struct UnexpectedEmulator: Error {
    var emulator: String
}
