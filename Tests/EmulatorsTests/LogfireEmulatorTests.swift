import Emulators
import Foundation
import Testing

private func uuid(_ n: Int) -> String { "00000000-0000-4000-8000-00000000000\(n)" }

/// The server clock of these tests: ten days after the records.
private let serverNow = at(10 * 86_400)

private let logfireEntries: [LogfireEntry] = [
    .init(
        id: uuid(3), createdAt: at(60), projectName: "web", userName: "bob", action: "INSERT",
        resourceType: "write_tokens", recordID: "rec-3", ipAddress: "198.51.100.3"),
    .init(id: uuid(1), createdAt: at(0), userName: "alice", action: "LOGIN", ipAddress: "198.51.100.1", metadata: #"{"method":"github"}"#),
    .init(
        id: uuid(2), createdAt: at(1.5), projectName: "web", userName: "bob", action: "UPDATE", resourceType: "projects",
        recordID: "rec-2", ipAddress: nil,
        downgradePatches: #"[{"op":"replace","path":"/project_name","value":"old"}]"#, metadata: #"{"changed_fields":["project_name"]}"#),
    .init(id: uuid(5), createdAt: at(7200), userName: "alice", action: "LOGOUT"),
    .init(id: uuid(4), createdAt: at(3600), userName: "carol", action: "DELETE"),
    // Another organization's record: never served to this token.
    .init(id: uuid(6), createdAt: at(30), organizationName: "other-org", userName: "mallory", action: "LOGIN"),
]

private let token = "logfire-test-token"

private func seeded(_ body: (LogfireEmulator, URL) async throws -> Void) async throws {
    try await withRunning(LogfireEmulator(now: { serverNow })) { (emulator, url) async throws in
        await emulator.seed(logfireEntries)
        try await body(emulator, url)
    }
}

private func get(_ url: URL, _ target: String) async throws -> Reply {
    try await call("GET", url, "/api/v1/audit-logs/" + target, headers: bearer(token))
}

private func ids(_ reply: Reply) -> [String] { reply.array.compactMap { $0["id"] as? String } }

/// `YYYY-MM-DDTHH:MM:SSZ`.
private func wire(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
}

@Suite struct LogfireAuthTests {
    @Test func bearerTokenRequiredThenForbiddenSwitch() async throws {
        try await seeded { (emulator, url) async throws in
            let target = "/api/v1/audit-logs/?start_time=2026-05-01T10:00:00Z"
            #expect(try await call("GET", url, target, headers: bearer(token)).status == 200)
            let missing = try await call("GET", url, target)
            #expect(missing.status == 401 && missing.detail != nil)
            #expect(try await call("GET", url, target, headers: bearer("nope")).status == 401)
            #expect(try await call("GET", url, target, headers: basic("x", token)).status == 401)

            await emulator.setForbidden(true)
            for path in [target, "/api/v1/audit-logs/\(uuid(1))/"] {
                let forbidden = try await call("GET", url, path, headers: bearer(token))
                #expect(forbidden.status == 403)
                #expect(forbidden.detail == "token lacks access to the organization")
            }
            await emulator.setForbidden(false)
            #expect(try await call("GET", url, target, headers: bearer(token)).status == 200)
        }
    }
}

@Suite struct LogfireListTests {
    @Test func bareArrayNewestFirstWithoutDetailFields() async throws {
        try await seeded { (_, url) async throws in
            let reply = try await get(url, "?start_time=2026-05-01T10:00:00Z&end_time=2026-05-02T00:00:00Z")
            #expect(reply.status == 200)
            #expect(ids(reply) == [uuid(5), uuid(4), uuid(3), uuid(2), uuid(1)])
            let update = try #require(reply.array.first { $0["action"] as? String == "UPDATE" })
            #expect(
                Set(update.keys) == [
                    "id", "created_at", "organization_name", "project_name", "user_name", "action",
                    "resource_type", "record_id", "ip_address",
                ])
            #expect(update["created_at"] as? String == "2026-05-01T10:00:01.500000Z")
            #expect(update["ip_address"] is NSNull)
            let login = try #require(reply.array.last)
            #expect(login["created_at"] as? String == "2026-05-01T10:00:00Z")
            #expect(login["project_name"] is NSNull && login["resource_type"] is NSNull && login["record_id"] is NSNull)
            #expect(login["organization_name"] as? String == "acme-org")
        }
    }

    @Test(arguments: [
        ("?start_time=2026-05-01T10:00:00Z&end_time=2026-05-01T12:00:00Z", [4, 3, 2, 1]),
        ("?start_time=2026-05-01T10:00:00Z&end_time=2026-05-01T12:00:01Z", [5, 4, 3, 2, 1]),
        ("?start_time=2026-05-01T10:00:01Z&end_time=2026-05-01T10:01:00Z", [2]),
        ("?start_time=2026-05-01T10:00:00Z&action=UPDATE", [2]),
        ("?start_time=2026-05-01T10:00:00Z&action=LOGIN&end_time=2026-05-01T10:00:01Z", [1]),
        ("?start_time=2026-05-01T12:00:01Z", []),
        // A missing end_time means the server's now, after every record.
        ("?start_time=2026-04-01T00:00:00Z", [5, 4, 3, 2, 1]),
        ("?start_time=2026-05-01T10:00:00Z&end_time=2026-05-01T10:00:00Z", []),
    ])
    func windowStartInclusiveEndExclusive(_ query: String, _ expected: [Int]) async throws {
        try await seeded { (_, url) async throws in
            let reply = try await get(url, query)
            #expect(reply.status == 200)
            #expect(ids(reply) == expected.map(uuid))
        }
    }

    @Test(arguments: [
        ("", "start_time"),
        ("?end_time=2026-05-02T00:00:00Z", "start_time"),
        ("?start_time=2026-05-01T10:00:00%2B00:00", "start_time"),
        ("?start_time=2026-05-01T10:00:00.000Z", "start_time"),
        ("?start_time=2026-05-01", "start_time"),
        ("?start_time=2026-05-01%2010:00:00Z", "start_time"),
        ("?start_time=2026-05-01t10:00:00z", "start_time"),
        ("?start_time=1777629600", "start_time"),
        ("?start_time=2026-05-01T10:00:00Z&end_time=2026-05-02T00:00:00", "end_time"),
        ("?start_time=2026-05-01T10:00:00Z&end_time=", "end_time"),
        ("?start_time=2026-05-01T10:00:00Z&action=login", "action"),
        ("?start_time=2026-05-02T10:00:00Z&end_time=2026-05-01T10:00:00Z", "end_time"),
    ])
    func badParametersAre400NamingTheParameter(_ query: String, _ name: String) async throws {
        try await seeded { (_, url) async throws in
            let reply = try await get(url, query)
            #expect(reply.status == 400)
            #expect(reply.detail?.contains(name) == true, "\(reply.detail ?? "no detail")")
        }
    }

    @Test func windowsLongerThan90DaysAreRefusedAndCounted() async throws {
        try await seeded { (emulator, url) async throws in
            #expect(try await get(url, "?start_time=2026-05-01T10:00:00Z&end_time=2026-07-30T10:00:00Z").status == 200)
            let long = try await get(url, "?start_time=2026-05-01T10:00:00Z&end_time=2026-07-30T10:00:01Z")
            #expect(long.status == 400)
            #expect(long.detail == "time window must not exceed 90 days")
            // Without end_time the window runs to now.
            let ninetyOne = wire(serverNow.addingTimeInterval(-91 * 86_400))
            #expect(try await get(url, "?start_time=" + ninetyOne).status == 400)
            let eightyNine = wire(serverNow.addingTimeInterval(-89 * 86_400))
            #expect(try await get(url, "?start_time=" + eightyNine).status == 200)
            #expect(await emulator.refusedLongWindows() == 2)

            let windows = await emulator.windowsAsked()
            #expect(windows.count == 4)
            #expect(windows.map(\.start) == [at(0), at(0), serverNow.addingTimeInterval(-91 * 86_400), serverNow.addingTimeInterval(-89 * 86_400)])
            #expect(windows.map(\.end) == [at(90 * 86_400), at(90 * 86_400 + 1), nil, nil])
        }
    }

    @Test func theListNeedsItsTrailingSlash() async throws {
        try await seeded { (_, url) async throws in
            let reply = try await call("GET", url, "/api/v1/audit-logs?start_time=2026-05-01T10:00:00Z", headers: bearer(token))
            #expect(reply.status == 404)
            #expect(try await call("GET", url, "/v1/audit-logs/?start_time=2026-05-01T10:00:00Z", headers: bearer(token)).status == 404)
        }
    }
}

@Suite struct LogfireRecordTests {
    @Test func recordAddsDowngradePatchesAndMetadata() async throws {
        try await seeded { (_, url) async throws in
            let reply = try await get(url, uuid(2) + "/")
            #expect(reply.status == 200)
            let record = try #require(reply.json)
            #expect(record["id"] as? String == uuid(2))
            #expect(record["action"] as? String == "UPDATE")
            let patches = try #require(record["downgrade_patches"] as? [[String: String]])
            #expect(patches == [["op": "replace", "path": "/project_name", "value": "old"]])
            #expect(record["metadata"] as? [String: [String]] == ["changed_fields": ["project_name"]])
            let delete = try await get(url, uuid(4) + "/")
            #expect(delete.json?["downgrade_patches"] is NSNull)
            #expect(delete.json?["metadata"] is NSNull)
        }
    }

    @Test func trailingSlashRequiredAndUnknownIDs() async throws {
        try await seeded { (_, url) async throws in
            let noSlash = try await get(url, uuid(2))
            #expect(noSlash.status == 404)
            let unknown = try await get(url, uuid(9) + "/")
            #expect(unknown.status == 404)
            #expect(unknown.detail == "Not found")
            #expect(try await get(url, uuid(6) + "/").status == 404)  // another organization's
            #expect(try await get(url, uuid(2) + "/extra/").status == 404)
        }
    }
}

@Suite struct LogfireGenerateTests {
    @Test func variedActionsResourcesAndNulls() async throws {
        let entries = LogfireEmulator.generate(count: 60, from: at(0), to: at(3600))
        #expect(Set(entries.map(\.action)) == ["LOGIN", "LOGOUT", "INSERT", "UPDATE", "DELETE"])
        #expect(Set(entries.map(\.resourceType)) == ["projects", "read_tokens", "write_tokens", nil])
        #expect(entries.contains { $0.ipAddress == nil } && entries.contains { $0.projectName == nil })
        #expect(Set(entries.map(\.id)).count == 60)
        #expect(entries.allSatisfy { $0.createdAt >= at(0) && $0.createdAt <= at(3600) })
        for update in entries where update.action == "UPDATE" {
            let patches = try #require(update.downgradePatches.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [[String: Any]])
            #expect(patches.first?["op"] as? String == "replace")
            #expect(update.metadata != nil)
        }
        #expect(entries.filter { $0.action != "UPDATE" }.allSatisfy { $0.downgradePatches == nil })
    }

    @Test func generatedRecordsServeBack() async throws {
        try await withRunning(LogfireEmulator(now: { serverNow })) { (emulator, url) async throws in
            let entries = LogfireEmulator.generate(count: 30, from: at(0), to: at(600))
            await emulator.seed(entries)
            let reply = try await get(url, "?start_time=2026-05-01T10:00:00Z")
            #expect(Set(ids(reply)) == Set(entries.map(\.id)))
            let times = reply.array.compactMap { $0["created_at"] as? String }
            #expect(times.contains { !$0.contains(".") } && times.contains { $0.contains(".") })
            #expect(times == times.sorted(by: >))
        }
    }
}

@Suite struct LogfireFaultTests {
    @Test func statusAndEnvelopeInFastAPIShape() async throws {
        try await seeded { (emulator, url) async throws in
            await emulator.faults.enqueue(.status(429, retryAfter: "7"))
            await emulator.faults.enqueue(.errorEnvelope("upstream timeout"))
            let throttled = try await get(url, "?start_time=2026-05-01T10:00:00Z")
            #expect(throttled.status == 429 && throttled.header("Retry-After") == "7")
            #expect(throttled.detail == "rate limit exceeded")
            let failed = try await get(url, "?start_time=2026-05-01T10:00:00Z")
            #expect(failed.status == 500 && failed.detail == "upstream timeout")
            #expect(ids(try await get(url, "?start_time=2026-05-01T10:00:00Z")).count == 5)
        }
    }

    @Test func resetMidBodySendsHeadersAndPartOfTheBody() async throws {
        try await seeded { (emulator, url) async throws in
            await emulator.faults.enqueue(.resetMidBody)
            let clock = ContinuousClock()
            let started = clock.now
            let raw = try await rawGET(url, "/api/v1/audit-logs/?start_time=2026-05-01T10:00:00Z", headers: bearer(token))
            // Closed by the server, not by the socket's 30 s read timeout (on 2 cores under the
            // whole suite the close has taken up to 5 s to arrive).
            #expect(clock.now - started < .seconds(20))
            let parts = raw.components(separatedBy: "\r\n\r\n")
            #expect(parts[0].hasPrefix("HTTP/1.1 200"))
            let length = parts[0].split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
            let body = parts.dropFirst().joined(separator: "\r\n\r\n")
            #expect(body.hasPrefix("[{\"id\":"))
            #expect(length != nil && body.utf8.count < length!)
            #expect(body.utf8.count > 0)
        }
    }
}
