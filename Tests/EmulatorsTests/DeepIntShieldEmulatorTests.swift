import Emulators
import Foundation
import Testing

/// Seven entries over four seconds; b–c and f–g share a millisecond timestamp.
private let shieldEntries: [DeepIntShieldEntry] = [
    .init(
        eventID: "evt-f", timestamp: at(4.125), eventType: "authorization", action: "access_denied", status: "denied",
        severity: "low", actor: .init(userID: "usr_bob", email: "bob@acme.example", ipAddress: "198.51.100.7")),
    .init(eventID: "evt-a", timestamp: at(0), details: #"{"reason":"first"}"#),
    .init(
        eventID: "evt-c", timestamp: at(1.25), eventType: "security_event", action: "suspicious_login", status: "blocked",
        severity: "high", actor: .init(userID: "usr_carol", email: "carol@acme.example", ipAddress: "2001:db8::42")),
    .init(
        eventID: "evt-b", timestamp: at(1.25), eventType: "data_access", action: "export_created", status: "failed",
        severity: "medium", resourceType: "dataset", resourceID: "ds_9",
        actor: .init(userID: "usr_bob", email: "bob@acme.example", ipAddress: "198.51.100.7")),
    .init(
        eventID: "evt-e", timestamp: at(3), eventType: "configuration_change", action: "policy_changed", severity: "medium",
        resourceType: "policy", resourceID: "pol_1"),
    .init(
        eventID: "evt-d", workspaceID: "ws_beta", timestamp: at(2.5), eventType: "security_incident",
        action: "incident_opened", status: "denied", severity: "critical", details: #"{"ticket":"SEC-1"}"#),
    .init(eventID: "evt-g", timestamp: at(4.125), eventType: "data_access", action: "record_viewed", resourceType: "dataset"),
]

private let token = "shield-test-token"

private extension Reply {
    var logs: [[String: Any]] { (json?["audit_logs"] as? [[String: Any]]) ?? [] }
    var eventIDs: [String] { logs.compactMap { $0["event_id"] as? String } }
    /// `nil` for JSON null or absent.
    var nextPage: String? { json?["next_page"] as? String }
    var shieldError: (Bool?, Int?, String?) {
        (
            json?["is_deepintshield_error"] as? Bool, json?["status_code"] as? Int,
            (json?["error"] as? [String: Any])?["message"] as? String
        )
    }
}

private func seeded(
    _ emulator: DeepIntShieldEmulator = DeepIntShieldEmulator(), _ body: (DeepIntShieldEmulator, URL) async throws -> Void
) async throws {
    try await withRunning(emulator) { (emulator, url) async throws in
        await emulator.seed(shieldEntries)
        try await body(emulator, url)
    }
}

private func get(_ url: URL, _ target: String) async throws -> Reply {
    try await call("GET", url, target, headers: bearer(token))
}

private func query(_ url: URL, _ body: [String: Any], path: String = "/api/audit-logs/query") async throws -> Reply {
    try await call("POST", url, path, headers: bearer(token), json: body)
}

@Suite struct DeepIntShieldAuthTests {
    @Test func bearerOrBasicWithTheTokenAsPassword() async throws {
        try await seeded { (_, url) async throws in
            #expect(try await call("GET", url, "/api/audit-logs", headers: bearer(token)).status == 200)
            #expect(try await call("GET", url, "/api/audit-logs", headers: basic("anyone", token)).status == 200)
            #expect(try await call("GET", url, "/api/audit-logs", headers: basic(token, "nope")).status == 401)
            let wrong = try await call("GET", url, "/api/audit-logs", headers: bearer("nope"))
            #expect(wrong.status == 401)
            #expect(wrong.shieldError.0 == false && wrong.shieldError.1 == 401 && wrong.shieldError.2 != nil)
            #expect(try await call("POST", url, "/api/audit-logs/query", json: [String: Any]()).status == 401)
        }
    }

    @Test func unknownRoutesAndMethods() async throws {
        try await seeded { (_, url) async throws in
            #expect(try await get(url, "/api/audit-log").status == 404)
            #expect(try await get(url, "/api/audit-logs/query").status == 405)
            #expect(try await call("POST", url, "/api/audit-logs", headers: bearer(token), json: [String: Any]()).status == 405)
        }
    }
}

@Suite struct DeepIntShieldListTests {
    @Test func getIsNewestFirstWithTiesByEventID() async throws {
        try await seeded { (_, url) async throws in
            let reply = try await get(url, "/api/audit-logs")
            #expect(reply.status == 200)
            #expect(reply.eventIDs == ["evt-g", "evt-f", "evt-e", "evt-d", "evt-c", "evt-b", "evt-a"])
            #expect(reply.json?["total_count"] as? Int == 7)
            #expect(reply.json?["returned_count"] as? Int == 7)
            #expect(reply.json?["page"] as? Int == 1)
            #expect(reply.json?["limit"] as? Int == 25)
            #expect(reply.json?["next_page"] is NSNull)
        }
    }

    @Test func entryWireForm() async throws {
        try await seeded { (_, url) async throws in
            let entry = try #require(try await get(url, "/api/audit-logs?search=SEC-1").logs.first)
            #expect(
                Set(entry.keys) == [
                    "event_id", "workspace_id", "timestamp", "event_type", "action", "status", "severity",
                    "resource_type", "resource_id", "created_at", "actor", "details", "verification",
                ])
            #expect(entry["timestamp"] as? String == "2026-05-01T10:00:02.500Z")
            #expect(entry["created_at"] as? String == "2026-05-01T10:00:02.500Z")
            #expect(entry["workspace_id"] as? String == "ws_beta")
            #expect(entry["actor"] as? [String: String] == ["user_id": "usr_alice", "email": "alice@acme.example", "ip_address": "203.0.113.10"])
            #expect(entry["details"] as? [String: String] == ["ticket": "SEC-1"])
            let verification = try #require(entry["verification"] as? [String: Any])
            #expect((verification["hash"] as? String)?.hasPrefix("sha256:") == true)
            #expect(verification["verified"] as? Bool == true)
            #expect(verification["verification_method"] as? String == "hash_chain")
        }
    }

    @Test(arguments: [
        ("event_type=data_access,security_event", ["evt-g", "evt-c", "evt-b"]),
        ("action=access_denied", ["evt-f"]),
        ("resource_type=dataset", ["evt-g", "evt-b"]),
        ("status=denied", ["evt-f", "evt-d"]),
        ("severity=medium,critical", ["evt-e", "evt-d", "evt-b"]),
        ("user_id=usr_bob", ["evt-f", "evt-b"]),
        ("email=carol%40acme.example", ["evt-c"]),
        ("ip_address=2001%3Adb8%3A%3A42", ["evt-c"]),
        ("workspace_id=ws_beta", ["evt-d"]),
        ("search=EXPORT", ["evt-b"]),
        ("start_date=2026-05-01T10:00:01.250Z&end_date=2026-05-01T10:00:04.125Z", ["evt-e", "evt-d", "evt-c", "evt-b"]),
        ("start_date=2026-05-01T12:00:03%2B02:00", ["evt-g", "evt-f", "evt-e"]),
        ("end_date=2026-05-01", [String]()),
        ("start_date=2026-05-01&status=success", ["evt-g", "evt-e", "evt-a"]),
    ])
    func getFilters(_ parameters: String, _ expected: [String]) async throws {
        try await seeded { (_, url) async throws in
            let reply = try await get(url, "/api/audit-logs?" + parameters)
            #expect(reply.status == 200)
            #expect(reply.eventIDs == expected)
        }
    }

    @Test func getPagesByPageAndOffset() async throws {
        try await seeded { (_, url) async throws in
            var target: String? = "/api/audit-logs?status=success,denied,failed,blocked&limit=2"
            var seen: [String] = []
            var pages = 0
            while let next = target {
                let reply = try await get(url, next)
                #expect(reply.json?["total_count"] as? Int == 7)
                seen += reply.eventIDs
                target = reply.nextPage
                pages += 1
                if pages == 1 { #expect(target == "/api/audit-logs?status=success%2Cdenied%2Cfailed%2Cblocked&limit=2&page=2") }
            }
            #expect(pages == 4)
            #expect(seen == ["evt-g", "evt-f", "evt-e", "evt-d", "evt-c", "evt-b", "evt-a"])

            let offset = try await get(url, "/api/audit-logs?limit=2&offset=3")
            #expect(offset.eventIDs == ["evt-d", "evt-c"])
            #expect(offset.json?["page"] as? Int == 2)
            #expect(offset.nextPage == "/api/audit-logs?limit=2&offset=5")
        }
    }

    @Test func limitDefaultsTo25AndCapsAt100() async throws {
        try await withRunning(DeepIntShieldEmulator()) { (emulator, url) async throws in
            await emulator.seed(DeepIntShieldEmulator.generate(count: 130, from: at(0), to: at(60)))
            #expect(try await get(url, "/api/audit-logs").logs.count == 25)
            #expect(try await get(url, "/api/audit-logs?limit=100").logs.count == 100)
            #expect(try await query(url, ["limit": 100]).logs.count == 100)
            for bad in ["limit=101", "limit=0", "limit=ten", "page=0", "offset=-1", "start_date=yesterday", "end_date=2026-05-01T10:00:00"] {
                let reply = try await get(url, "/api/audit-logs?" + bad)
                #expect(reply.status == 400, "\(bad)")
                #expect(reply.shieldError.1 == 400)
            }
            let tooMany = try await query(url, ["limit": 101])
            #expect(tooMany.status == 400)
            #expect(tooMany.shieldError.2?.contains("limit") == true)
        }
    }

    @Test func summaryAndVerify() async throws {
        try await seeded { (emulator, url) async throws in
            let summary = try await get(url, "/api/audit-logs/summary")
            #expect(summary.json?["total_count"] as? Int == 7)
            #expect(summary.json?["by_status"] as? [String: Int] == ["success": 3, "denied": 2, "failed": 1, "blocked": 1])
            #expect((summary.json?["by_event_type"] as? [String: Int])?["data_access"] == 2)
            #expect(try await get(url, "/api/audit-logs/summary?severity=critical").json?["total_count"] as? Int == 1)

            #expect(try await get(url, "/api/audit-logs/verify").json?["verified"] as? Bool == true)
            await emulator.insert(.init(eventID: "evt-x", timestamp: at(9), verification: .init(hash: "sha256:00", verified: false)))
            let verify = try await get(url, "/api/audit-logs/verify")
            #expect(verify.json?["verified"] as? Bool == false)
            #expect(verify.json?["total_checked"] as? Int == 8)
        }
    }
}

@Suite struct DeepIntShieldQueryTests {
    @Test func ascendingWithTiesByEventID() async throws {
        try await seeded { (_, url) async throws in
            let reply = try await query(url, ["sort": ["field": "timestamp", "order": "asc"]])
            #expect(reply.eventIDs == ["evt-a", "evt-b", "evt-c", "evt-d", "evt-e", "evt-f", "evt-g"])
            // Default order is newest first.
            #expect(try await query(url, [:]).eventIDs.first == "evt-g")
        }
    }

    @Test(arguments: [
        (#"{"event_types": ["security_event", "security_incident"]}"#, ["evt-c", "evt-d"]),
        (#"{"actions": ["record_viewed", "login"]}"#, ["evt-a", "evt-g"]),
        (#"{"resource_types": ["policy"]}"#, ["evt-e"]),
        (#"{"status": ["failed", "blocked"]}"#, ["evt-b", "evt-c"]),
        (#"{"severity": ["low"]}"#, ["evt-a", "evt-f", "evt-g"]),
        (#"{"actors": {"user_ids": ["usr_bob"]}}"#, ["evt-b", "evt-f"]),
        (#"{"actors": {"emails": ["carol@acme.example"]}}"#, ["evt-c"]),
        (#"{"actors": {"ip_addresses": ["198.51.100.7", "2001:db8::42"]}}"#, ["evt-b", "evt-c", "evt-f"]),
        (#"{"query": "sec-1", "event_types": []}"#, ["evt-d"]),
        // start inclusive, end exclusive, at the millisecond.
        (#"{"date_range": {"start": "2026-05-01T10:00:01.250Z", "end": "2026-05-01T10:00:04.125Z"}}"#, ["evt-b", "evt-c", "evt-d", "evt-e"]),
        (#"{"date_range": {"start": "2026-05-01T10:00:01.251Z"}}"#, ["evt-d", "evt-e", "evt-f", "evt-g"]),
        (#"{"date_range": {"end": "2026-05-01T10:00:01.250Z"}}"#, ["evt-a"]),
    ])
    func bodyFilters(_ filters: String, _ expected: [String]) async throws {
        try await seeded { (_, url) async throws in
            let parsed = try JSONSerialization.jsonObject(with: Data(filters.utf8))
            let reply = try await query(url, ["filters": parsed, "sort": ["field": "timestamp", "order": "asc"]])
            #expect(reply.status == 200)
            #expect(reply.eventIDs == expected)
        }
    }

    @Test func includeDetailsFalseLeavesDetailsOut() async throws {
        try await seeded { (_, url) async throws in
            let reply = try await query(url, ["include_details": false, "limit": 1])
            #expect(reply.logs.count == 1)
            #expect(reply.logs.first?["details"] == nil)
            #expect(reply.logs.first?["verification"] != nil)
        }
    }

    @Test(arguments: [
        Data("{not json".utf8),
        Data(),
        Data(#"{"filters":{"status":"failed"}}"#.utf8),
        Data(#"{"limit":"100"}"#.utf8),
        Data(#"{"page":0}"#.utf8),
        Data(#"{"sort":{"field":"timestamp","order":"ascending"}}"#.utf8),
        Data(#"{"sort":{"field":"created"}}"#.utf8),
        Data(#"{"filters":{"date_range":{"start":"2026-05-01T10:00:00"}}}"#.utf8),
    ])
    func badBodiesAre400WithTheEnvelope(_ body: Data) async throws {
        try await seeded { (_, url) async throws in
            let reply = try await call(
                "POST", url, "/api/audit-logs/query", headers: bearer(token) + [("Content-Type", "application/json")], body: body)
            #expect(reply.status == 400)
            #expect(reply.shieldError.0 == false && reply.shieldError.1 == 400)
        }
    }

    /// Walks POST pages the way a cursoring client does: the same body re-POSTed to `next_page`.
    private func walk(_ url: URL, _ body: [String: Any], maxPages: Int = 10) async throws -> (ids: [String], paths: [String]) {
        var path: String? = "/api/audit-logs/query"
        var ids: [String] = []
        var paths: [String] = []
        while let next = path, paths.count < maxPages {
            paths.append(next)
            let reply = try await query(url, body, path: next)
            #expect(reply.status == 200)
            ids += reply.eventIDs
            path = reply.nextPage
        }
        return (ids, paths)
    }

    @Test func postPagesFollowNextPageWithTheSameBody() async throws {
        try await seeded { (_, url) async throws in
            let body: [String: Any] = ["sort": ["field": "timestamp", "order": "asc"], "limit": 3, "page": 1]
            let (ids, paths) = try await walk(url, body)
            #expect(ids == ["evt-a", "evt-b", "evt-c", "evt-d", "evt-e", "evt-f", "evt-g"])
            #expect(paths == ["/api/audit-logs/query", "/api/audit-logs/query?page=2", "/api/audit-logs/query?page=3"])
            // The page in the URL wins over the body's.
            let third = try await query(url, body, path: "/api/audit-logs/query?page=3")
            #expect(third.eventIDs == ["evt-g"])
            #expect(third.json?["page"] as? Int == 3)
            #expect(third.json?["returned_count"] as? Int == 1)
            #expect(third.json?["next_page"] is NSNull)
        }
    }

    @Test func nextPageOnTheEnterprisePrefix() async throws {
        try await seeded(DeepIntShieldEmulator(nextPagePrefix: "/api/enterprise/audit-logs")) { (_, url) async throws in
            let body: [String: Any] = ["sort": ["field": "timestamp", "order": "asc"], "limit": 4]
            let (ids, paths) = try await walk(url, body)
            #expect(ids == ["evt-a", "evt-b", "evt-c", "evt-d", "evt-e", "evt-f", "evt-g"])
            #expect(paths == ["/api/audit-logs/query", "/api/enterprise/audit-logs/query?page=2"])
            let get = try await call("GET", url, "/api/enterprise/audit-logs?limit=4", headers: bearer(token))
            #expect(get.eventIDs.count == 4)
            #expect(get.nextPage == "/api/enterprise/audit-logs?limit=4&page=2")
        }
    }

    @Test func nextPageLoopPointsBack() async throws {
        try await seeded { (emulator, url) async throws in
            await emulator.setNextPageLoop(fromPage: 3, toPage: 1)
            let body: [String: Any] = ["sort": ["field": "timestamp", "order": "asc"], "limit": 3]
            let (ids, paths) = try await walk(url, body, maxPages: 5)
            // A client that does not notice the loop reads the same entries again and again.
            #expect(
                paths == [
                    "/api/audit-logs/query", "/api/audit-logs/query?page=2", "/api/audit-logs/query?page=3",
                    "/api/audit-logs/query?page=1", "/api/audit-logs/query?page=2",
                ])
            #expect(Set(ids).count == 7)
            #expect(ids.count == 13)
            await emulator.clearNextPageLoop()
            #expect(try await walk(url, body).paths.count == 3)
        }
    }
}

@Suite struct DeepIntShieldGenerateTests {
    @Test func coversEveryEnumValueWithTiesAndAHashChain() async throws {
        let entries = DeepIntShieldEmulator.generate(count: 120, from: at(0), to: at(600))
        #expect(entries.count == 120)
        #expect(
            Set(entries.map(\.eventType)) == [
                "authentication", "authorization", "configuration_change", "data_access", "security_event", "security_incident",
            ])
        #expect(Set(entries.map(\.status)) == ["success", "failed", "denied", "blocked"])
        #expect(Set(entries.map(\.severity)) == ["low", "medium", "high", "critical"])
        #expect(Set(entries.map(\.eventID)).count == 120)
        #expect(Set(entries.map(\.timestamp)).count < 120)
        #expect(entries.allSatisfy { $0.timestamp >= at(0) && $0.timestamp <= at(600) })
        #expect(entries.allSatisfy { $0.verification.hash.hasPrefix("sha256:") && $0.verification.hash.count == 71 && $0.verification.verified })
        #expect(entries.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.details.utf8))) is [String: Any] })
        // Ids are not in time order: clients must not cursor on them.
        #expect(entries.map(\.eventID) != entries.map(\.eventID).sorted())
        let more = DeepIntShieldEmulator.generate(count: 10, firstIndex: 120, from: at(600), to: at(700))
        #expect(Set(entries.map(\.eventID)).isDisjoint(with: more.map(\.eventID)))
    }

    @Test func servedTimestampsMatchTheGeneratedOnes() async throws {
        try await withRunning(DeepIntShieldEmulator()) { (emulator, url) async throws in
            let entries = DeepIntShieldEmulator.generate(count: 40, from: at(0.5), to: at(33.333))
            await emulator.seed(entries)
            let reply = try await query(url, ["sort": ["order": "asc"], "limit": 100])
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let served = reply.logs.compactMap { ($0["timestamp"] as? String).flatMap(formatter.date) }
            #expect(served.count == 40)
            #expect(
                Set(served.map { Int(($0.timeIntervalSince1970 * 1000).rounded()) })
                    == Set(entries.map { Int(($0.timestamp.timeIntervalSince1970 * 1000).rounded()) }))
        }
    }
}

@Suite struct DeepIntShieldFaultTests {
    @Test func statusErrorEnvelopeAndFormatFaults() async throws {
        try await seeded { (emulator, url) async throws in
            await emulator.faults.enqueue(.status(503, retryAfter: "2"))
            await emulator.faults.enqueue(.errorEnvelope("database unavailable"))
            await emulator.faults.enqueue(.garbage)
            await emulator.faults.enqueue(.truncatedJSON)
            let unavailable = try await get(url, "/api/audit-logs")
            #expect(unavailable.status == 503)
            #expect(unavailable.header("Retry-After") == "2")
            #expect(unavailable.shieldError.1 == 503)
            let envelope = try await query(url, [:])
            #expect(envelope.status == 500)
            #expect(envelope.shieldError.0 == false && envelope.shieldError.1 == 500 && envelope.shieldError.2 == "database unavailable")
            #expect(try await get(url, "/api/audit-logs").json == nil)
            #expect(try await get(url, "/api/audit-logs").json == nil)
            #expect(try await get(url, "/api/audit-logs").eventIDs.count == 7)
        }
    }

    @Test func resetMidBodyAndDelayPastTheTimeout() async throws {
        try await seeded { (emulator, url) async throws in
            await emulator.faults.enqueue(.resetMidBody)
            await #expect(throws: (any Error).self) { _ = try await get(url, "/api/audit-logs") }
            await emulator.faults.enqueue(.delay(.milliseconds(400)))
            await #expect(throws: EmulatorHTTPClient.Failure.self) {
                _ = try await call("GET", url, "/api/audit-logs", headers: bearer(token), timeout: .milliseconds(100))
            }
            #expect(try await get(url, "/api/audit-logs").eventIDs.count == 7)
        }
    }
}
