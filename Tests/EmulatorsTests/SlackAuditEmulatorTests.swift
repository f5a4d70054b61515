import Emulators
import Foundation
import Testing

private let slackToken = "xoxp-slack-test-token"

private func slackID(_ n: Int) -> String { "00000000-0000-4000-8000-00000000000\(n)" }

private let bob = SlackAuditEntry.User(id: "W045F6GHI", name: "Bob Brown", email: "bob@acme.example")
private let admin = SlackAuditEntry.User(id: "W0ADMIN01", name: "Dana Admin", email: "dana.admin@acme.example")

/// Seven entries in the first 40 s of 2026-05-01T10:00Z; 2 and 3 share a second, so do 5 and 6.
private let slackEntries: [SlackAuditEntry] = [
    .init(id: slackID(1), dateCreate: at(0), ipAddress: "203.0.113.1", sessionID: "847288190001"),
    .init(
        id: slackID(2), dateCreate: at(10.7), action: "file_downloaded", actor: bob,
        entity: .file(id: "F0REPORT1", name: "q3-report.pdf", filetype: "pdf", title: "Q3 report")),
    .init(
        id: slackID(3), dateCreate: at(10), action: "user_channel_join",
        actor: .init(id: "W078J9KLM", name: "Carol Chen", email: "carol@acme.example"),
        entity: .channel(id: "C0GENERAL", name: "general")),
    .init(id: slackID(4), dateCreate: at(20), action: "user_logout"),
    .init(id: slackID(5), dateCreate: at(30), action: "user_created", actor: admin, entity: .user(bob)),
    .init(
        id: slackID(6), dateCreate: at(30), action: "app_installed", actor: admin,
        entity: .app(id: "A0JIRACLD", name: "Jira Cloud", scopes: ["chat:write"]),
        location: .init(type: "enterprise", id: "E0ACMEGRD", name: "Acme Grid", domain: "acme-grid"),
        details: #"{"reason":"request_approved"}"#),
    .init(id: slackID(7), dateCreate: at(40), actor: bob),
]

/// Starts `emulator` (seeded with `slackEntries` unless `seed` is false) and always stops it.
private func withSlack(
    _ emulator: SlackAuditEmulator = SlackAuditEmulator(),
    seed: Bool = true,
    _ body: (SlackAuditEmulator, URL) async throws -> Void
) async throws {
    let url = try await emulator.start()
    do {
        if seed { await emulator.seed(slackEntries) }
        try await body(emulator, url)
        await emulator.stop()
    } catch {
        await emulator.stop()
        throw error
    }
}

private func get(_ url: URL, _ query: String = "") async throws -> Reply {
    try await call("GET", url, "/audit/v1/logs" + (query.isEmpty ? "" : "?" + query), headers: bearer(slackToken))
}

private func entries(_ reply: Reply) -> [[String: Any]] { reply.json?["entries"] as? [[String: Any]] ?? [] }

private func ids(_ reply: Reply) -> [String] { entries(reply).compactMap { $0["id"] as? String } }

private func nextCursor(_ reply: Reply) -> String? {
    (reply.json?["response_metadata"] as? [String: Any])?["next_cursor"] as? String
}

/// 10:00:00Z plus `seconds`, as unix seconds.
private func epoch(_ seconds: Double) -> String { String(Int64(at(seconds).timeIntervalSince1970)) }

@Suite struct SlackAuditAuthTests {
    @Test func bearerTokenRequired() async throws {
        try await withSlack { (_, url) async throws in
            #expect(try await get(url).status == 200)
            let refused: [[(String, String)]] = [[], bearer("xoxp-nope"), [("Authorization", "SSWS \(slackToken)")], basic("x", slackToken)]
            for headers in refused {
                let reply = try await call("GET", url, "/audit/v1/logs", headers: headers)
                #expect(reply.status == 401)
                #expect(reply.json?["ok"] as? Bool == false)
                #expect(reply.json?["error"] as? String == "invalid_auth")
            }
            #expect(try await call("GET", url, "/audit/v1/log", headers: bearer(slackToken)).status == 404)
        }
    }
}

@Suite struct SlackAuditPagingTests {
    @Test func newestFirstCursorWalkEndsOnAnEmptyCursor() async throws {
        try await withSlack { (_, url) async throws in
            var cursor: String? = nil
            var pages: [[String]] = []
            repeat {
                let query = "limit=3" + (cursor.map { "&cursor=" + $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! } ?? "")
                let reply = try await get(url, query)
                #expect(reply.status == 200)
                pages.append(ids(reply))
                let next = try #require(nextCursor(reply))
                cursor = next.isEmpty ? nil : next
            } while cursor != nil && pages.count < 10
            // Ties in time: the larger id first.
            #expect(pages == [[7, 6, 5], [4, 3, 2], [1]].map { $0.map(slackID) })
        }
    }

    @Test func aFullLastPageEndsWithoutAnotherRequest() async throws {
        try await withSlack { (_, url) async throws in
            let reply = try await get(url, "limit=7")
            #expect(ids(reply).count == 7)
            #expect(nextCursor(reply) == "")
        }
    }

    @Test(arguments: [
        ("oldest=\(epoch(10))&latest=\(epoch(30))", [6, 5, 4, 3, 2]),
        ("oldest=\(epoch(11))", [7, 6, 5, 4]),
        ("latest=\(epoch(9))", [1]),
        ("oldest=\(epoch(30))&latest=\(epoch(20))", []),
        ("action=user_login", [7, 1]),
        ("action=user_login,user_logout", [7, 4, 1]),
        ("actor=W0ADMIN01", [6, 5]),
        ("entity=W045F6GHI", [7, 5]),
        ("entity=C0GENERAL&action=user_channel_join", [3]),
        ("action=user_deactivated", []),
    ])
    func windowsAndFilters(_ query: String, _ expected: [Int]) async throws {
        try await withSlack { (_, url) async throws in
            let reply = try await get(url, query)
            #expect(reply.status == 200)
            #expect(ids(reply) == expected.map(slackID))
        }
    }

    @Test(arguments: [
        ("limit=0", "invalid_arguments"), ("limit=10000", "invalid_arguments"), ("limit=many", "invalid_arguments"),
        ("oldest=yesterday", "invalid_arguments"), ("latest=-5", "invalid_arguments"),
        ("cursor=%21%21%21", "invalid_cursor"),
    ])
    func badParametersAre400(_ query: String, _ code: String) async throws {
        try await withSlack { (_, url) async throws in
            let reply = try await get(url, query)
            #expect(reply.status == 400)
            #expect(reply.json?["ok"] as? Bool == false)
            #expect(reply.json?["error"] as? String == code)
        }
    }

    @Test func entryWireForm() async throws {
        try await withSlack { (_, url) async throws in
            let all = entries(try await get(url))
            let app = try #require(all.first { $0["id"] as? String == slackID(6) })
            #expect(Set(app.keys) == ["id", "date_create", "action", "actor", "entity", "context", "details"])
            #expect((app["date_create"] as? NSNumber)?.int64Value == Int64(at(30).timeIntervalSince1970))
            let actor = try #require(app["actor"] as? [String: Any])
            #expect(actor["type"] as? String == "user")
            #expect(actor["user"] as? [String: String] == ["id": "W0ADMIN01", "name": "Dana Admin", "email": "dana.admin@acme.example"])
            let entity = try #require(app["entity"] as? [String: Any])
            #expect(entity["type"] as? String == "app")
            #expect((entity["app"] as? [String: Any])?["scopes"] as? [String] == ["chat:write"])
            let location = (app["context"] as? [String: Any])?["location"] as? [String: String]
            #expect(location == ["type": "enterprise", "id": "E0ACMEGRD", "name": "Acme Grid", "domain": "acme-grid"])
            #expect(app["details"] as? [String: String] == ["reason": "request_approved"])

            let login = try #require(all.first { $0["id"] as? String == slackID(1) })
            #expect(login["details"] == nil)
            let context = try #require(login["context"] as? [String: Any])
            #expect(context["ip_address"] as? String == "203.0.113.1" && context["session_id"] as? String == "847288190001")
            #expect(context["ua"] == nil)
            // A fraction of a second is dropped.
            let file = try #require(all.first { $0["id"] as? String == slackID(2) })
            #expect((file["date_create"] as? NSNumber)?.int64Value == Int64(at(10).timeIntervalSince1970))
        }
    }
}

@Suite struct SlackAuditGenerateTests {
    @Test func variedEntriesWithStableIDs() {
        let generated = SlackAuditEmulator.generate(count: 60, from: at(0), to: at(3600))
        #expect(Set(generated.map(\.action)) == Set(SlackAuditEmulator.actions))
        #expect(Set(generated.map(\.entity.type)) == ["user", "channel", "file", "workspace", "app"])
        #expect(Set(generated.map(\.location.type)) == ["workspace", "enterprise"])
        #expect(Set(generated.map(\.id)).count == 60)
        #expect(generated.map(\.id) == SlackAuditEmulator.generate(count: 60, from: at(0), to: at(3600)).map(\.id))
        #expect(generated[1].dateCreate == generated[0].dateCreate)  // a tie
        #expect(generated.allSatisfy { $0.dateCreate >= at(0) && $0.dateCreate <= at(3600) })
        #expect(generated.filter { $0.action == "file_downloaded" }.allSatisfy { $0.entity.type == "file" })
        #expect(generated.filter { $0.action == "app_installed" }.allSatisfy { $0.entity.type == "app" && $0.details != nil })
    }

    @Test func aCursorWalkOverGeneratedEntriesSeesEachOnceNewestFirst() async throws {
        try await withSlack(seed: false) { (emulator, url) async throws in
            let generated = SlackAuditEmulator.generate(count: 50, from: at(0), to: at(20))
            await emulator.seed(generated)
            var seen: [[String: Any]] = []
            var cursor = ""
            var requests = 0
            repeat {
                let query = "limit=7" + (cursor.isEmpty ? "" : "&cursor=" + cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
                let reply = try await get(url, query)
                seen += entries(reply)
                cursor = nextCursor(reply) ?? ""
                requests += 1
            } while !cursor.isEmpty && requests < 20
            #expect(requests == 8)
            #expect(Set(seen.compactMap { $0["id"] as? String }) == Set(generated.map(\.id)))
            #expect(seen.count == 50)
            let dates = seen.compactMap { ($0["date_create"] as? NSNumber)?.int64Value }
            #expect(dates == dates.sorted(by: >))
        }
    }
}

@Suite struct SlackAuditFaultTests {
    @Test func rateLimitedWithRetryAfterThenNormal() async throws {
        try await withSlack { (emulator, url) async throws in
            await emulator.rateLimit(retryAfter: 3)
            let limited = try await get(url)
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After") == "3")
            #expect(limited.json?["ok"] as? Bool == false && limited.json?["error"] as? String == "ratelimited")
            #expect(ids(try await get(url)).count == 7)
        }
    }

    @Test func statusGarbageAndEnvelopeFaults() async throws {
        try await withSlack { (emulator, url) async throws in
            await emulator.faults.enqueue(.status(503))
            await emulator.faults.enqueue(.garbage)
            await emulator.faults.enqueue(.errorEnvelope("fatal_error"))
            let unavailable = try await get(url)
            #expect(unavailable.status == 503 && unavailable.json?["error"] as? String == "service_unavailable")
            let garbage = try await get(url)
            #expect(garbage.status == 200 && garbage.json == nil)
            let fatal = try await get(url)
            #expect(fatal.status == 500 && fatal.json?["error"] as? String == "fatal_error")
            #expect(await emulator.requests().count == 3)
        }
    }
}
