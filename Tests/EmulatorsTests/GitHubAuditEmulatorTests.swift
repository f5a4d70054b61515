import Emulators
import Foundation
import Testing

extension GitHubAuditEmulator: RunnableEmulator {}

private let token = "ghp-test-token"
private let githubHeaders = bearer(token) + [("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")]

/// Seven events around 2026-05-01T10:00Z: two git events, one enterprise-level event (no
/// org), one in the second organization; G3 and G4 share a millisecond.
private let githubEvents: [GitHubAuditEvent] = [
    .init(documentID: "G6", timestamp: at(86_400), action: "org.remove_member", user: "bob", operationType: "remove"),
    .init(documentID: "G1", timestamp: at(0), action: "org.add_member", actorIP: "203.0.113.10", actorCountryCode: "US", user: "alice"),
    .init(documentID: "G2", timestamp: at(60), action: "git.clone", repo: "acme-org/web", operationType: "access", transportProtocolName: "ssh"),
    .init(documentID: "G4", timestamp: at(120), action: "git.push", repo: "acme-org/web", operationType: "modify", transportProtocolName: "http"),
    .init(documentID: "G3", timestamp: at(120), action: "repo.create", actor: "hubot", org: "acme-labs", repo: "acme-labs/api"),
    .init(documentID: "G5", timestamp: at(3600), action: "business.set_actions_retention_limit", org: nil, operationType: "modify"),
    .init(documentID: "G7", timestamp: at(-60), action: "repo.destroy", repo: "acme-org/old", operationType: "remove"),
]

private func seeded(_ emulator: GitHubAuditEmulator = GitHubAuditEmulator(), _ body: (GitHubAuditEmulator, URL) async throws -> Void) async throws {
    try await withRunning(emulator) { (emulator, url) async throws in
        await emulator.seed(githubEvents)
        try await body(emulator, url)
    }
}

private func get(_ url: URL, _ target: String) async throws -> Reply {
    try await call("GET", url, target, headers: githubHeaders)
}

/// Percent-encodes everything but unreserved characters, as a careful client does (`+`, `:`,
/// `>` and spaces included).
private func encoded(_ text: String) -> String {
    text.addingPercentEncoding(
        withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
}

private extension Reply {
    var githubIDs: [String] { array.compactMap { $0["_document_id"] as? String } }
    var githubMessage: String? { json?["message"] as? String }

    /// The URL of the `Link` header's relation `rel`.
    func githubLink(_ rel: String) -> String? {
        guard let value = self.header("Link") else { return nil }
        for part in value.components(separatedBy: ", ") {
            let pieces = part.components(separatedBy: ">; rel=")
            if pieces.count == 2, pieces[1] == "\"\(rel)\"" { return String(pieces[0].dropFirst()) }
        }
        return nil
    }
}

/// A clock the rate-limit tests move by hand.
private final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func advance(_ seconds: TimeInterval) {
        lock.lock()
        defer { lock.unlock() }
        current = current.addingTimeInterval(seconds)
    }
}

@Suite struct GitHubAuditAuthTests {
    @Test func badCredentialsUnknownScopesAndVersions() async throws {
        try await seeded { (_, url) async throws in
            let missing = try await call("GET", url, "/enterprises/acme/audit-log")
            #expect(missing.status == 401 && missing.githubMessage == "Bad credentials")
            #expect(missing.json?["documentation_url"] as? String == "https://docs.github.com/rest")
            #expect(missing.header("X-RateLimit-Limit") == "1750")
            #expect(try await call("GET", url, "/enterprises/acme/audit-log", headers: bearer("nope")).status == 401)
            #expect(try await call("GET", url, "/enterprises/acme/audit-log", headers: [("Authorization", "token \(token)")]).status == 200)

            let unknownOrg = try await get(url, "/orgs/nope/audit-log")
            #expect(unknownOrg.status == 404 && unknownOrg.githubMessage == "Not Found")
            #expect(try await get(url, "/enterprises/other/audit-log").status == 404)
            #expect(try await get(url, "/orgs/ACME-ORG/audit-log").status == 200)
            #expect(try await get(url, "/orgs/acme-org/audit-logs").status == 404)
            let version = try await call("GET", url, "/orgs/acme-org/audit-log", headers: bearer(token) + [("X-GitHub-Api-Version", "2020-01-01")])
            #expect(version.status == 400)
        }
    }

    @Test func enterpriseServerPathPrefix() async throws {
        try await seeded(GitHubAuditEmulator(pathPrefix: "/api/v3")) { (_, url) async throws in
            #expect(try await get(url, "/api/v3/enterprises/acme/audit-log").status == 200)
            #expect(try await get(url, "/api/v3/orgs/acme-org/audit-log").status == 200)
            #expect(try await get(url, "/enterprises/acme/audit-log").status == 404)
        }
    }
}

@Suite struct GitHubAuditQueryTests {
    @Test func includeOrderAndScopes() async throws {
        try await seeded { (_, url) async throws in
            let web = try await get(url, "/enterprises/acme/audit-log")
            #expect(web.status == 200)
            #expect(web.githubIDs == ["G6", "G5", "G3", "G1", "G7"])
            #expect(try await get(url, "/enterprises/acme/audit-log?include=git").githubIDs == ["G4", "G2"])
            #expect(try await get(url, "/enterprises/acme/audit-log?include=all&order=asc").githubIDs == ["G7", "G1", "G2", "G3", "G4", "G5", "G6"])
            #expect(try await get(url, "/orgs/acme-org/audit-log?include=all&order=asc").githubIDs == ["G7", "G1", "G2", "G4", "G6"])
            #expect(try await get(url, "/orgs/acme-labs/audit-log?include=all").githubIDs == ["G3"])

            let two = try await get(url, "/enterprises/acme/audit-log?order=asc&per_page=2")
            let first = try #require(two.array.dropFirst().first)
            #expect(first["_document_id"] as? String == "G1")
            #expect(first["@timestamp"] as? Int == 1_777_629_600_000 && first["created_at"] as? Int == 1_777_629_600_000)
            #expect(first["actor_ip"] as? String == "203.0.113.10" && first["user"] as? String == "alice")
            #expect((first["actor_location"] as? [String: Any])?["country_code"] as? String == "US")
            #expect(
                Set(first.keys) == [
                    "@timestamp", "_document_id", "action", "actor", "actor_id", "actor_ip", "actor_location",
                    "business", "created_at", "operation_type", "org", "user",
                ])
        }
    }

    @Test(arguments: [
        ("created:>=2026-05-01T10:00:00Z", ["G1", "G2", "G3", "G4", "G5", "G6"]),
        ("created:>2026-05-01T10:00:00Z", ["G2", "G3", "G4", "G5", "G6"]),
        ("created:<2026-05-01T10:01:00Z", ["G7", "G1"]),
        ("created:<=2026-05-01T10:01:00Z", ["G7", "G1", "G2"]),
        ("created:2026-05-01T10:00:00Z..2026-05-01T10:02:00Z", ["G1", "G2", "G3", "G4"]),
        ("created:*..2026-05-01T09:59:00Z", ["G7"]),
        ("created:2026-05-02", ["G6"]),
        ("created:<=2026-05-01", ["G7", "G1", "G2", "G3", "G4", "G5"]),
        ("created:>2026-05-01", ["G6"]),
        ("created:>=2026-05-01T12:00:00+02:00 created:<2026-05-01T11:00:00Z", ["G1", "G2", "G3", "G4"]),
        ("created:>=2026-05-01T10:00:00 free text", ["G1", "G2", "G3", "G4", "G5", "G6"]),
        ("action:repo", ["G7", "G3"]),
        ("actor:hubot created:>2026-05-01T09:00:00Z", ["G3"]),
    ])
    func phraseWindowsAndFilters(_ phrase: String, _ expected: [String]) async throws {
        try await seeded { (_, url) async throws in
            let reply = try await get(url, "/enterprises/acme/audit-log?include=all&order=asc&phrase=" + encoded(phrase))
            #expect(reply.status == 200)
            #expect(reply.githubIDs == expected)
        }
    }

    @Test(arguments: [
        "?phrase=created%3A%3E%3Dyesterday",
        "?include=web,git",
        "?order=up",
        "?after=bm9wZQ",
        "?after=MXxh&before=Mnxi",
    ])
    func invalidParametersAre422(_ query: String) async throws {
        try await seeded { (_, url) async throws in
            let reply = try await get(url, "/enterprises/acme/audit-log" + query)
            #expect(reply.status == 422)
            #expect(reply.githubMessage != nil)
        }
    }
}

@Suite struct GitHubAuditPagingTests {
    @Test func linkNextWalksEverythingAndPrevComesBack() async throws {
        try await withRunning(GitHubAuditEmulator()) { (emulator, url) async throws in
            let events = GitHubAuditEmulator.generate(count: 75, from: at(0), to: at(600))
            await emulator.seed(events)
            let expected = events.sorted { ($0.timestamp, $0.documentID) < ($1.timestamp, $1.documentID) }.map(\.documentID)

            var pages: [[String]] = []
            var next: String? = "/enterprises/acme/audit-log?include=all&order=asc&per_page=20"
            var replies: [Reply] = []
            while let target = next, pages.count < 10 {
                let reply = try await get(url, target)
                #expect(reply.status == 200)
                pages.append(reply.githubIDs)
                replies.append(reply)
                next = reply.githubLink("next")
                if let next { #expect(next.hasPrefix("http://127.0.0.1:") && next.contains("after=") && next.contains("before=")) }
            }
            #expect(pages.map(\.count) == [20, 20, 20, 15])
            try #require(replies.count == 4)
            #expect(pages.flatMap { $0 } == expected)
            #expect(replies[0].githubLink("prev") == nil)

            let previous = try #require(replies[1].githubLink("prev"))
            let back = try await get(url, previous)
            #expect(back.githubIDs == pages[0])
            #expect(back.githubLink("prev") == nil && back.githubLink("next") != nil)
        }
    }

    @Test func descendingPagesAndPerPageBounds() async throws {
        try await withRunning(GitHubAuditEmulator()) { (emulator, url) async throws in
            let events = GitHubAuditEmulator.generate(count: 150, from: at(0), to: at(900))
            await emulator.seed(events)
            let expected = events.filter { $0.org == "acme-org" }
                .sorted { ($0.timestamp, $0.documentID) > ($1.timestamp, $1.documentID) }.map(\.documentID)
            var seen: [String] = []
            var next: String? = "/orgs/acme-org/audit-log?include=all&per_page=7"
            var requests = 0
            while let target = next, requests < 40 {
                requests += 1
                let reply = try await get(url, target)
                seen += reply.githubIDs
                next = reply.githubLink("next")
            }
            #expect(seen == expected)

            #expect(try await get(url, "/enterprises/acme/audit-log?include=all").githubIDs.count == 30)
            #expect(try await get(url, "/enterprises/acme/audit-log?include=all&per_page=500").githubIDs.count == 100)
            #expect(try await get(url, "/enterprises/acme/audit-log?include=all&per_page=0").githubIDs.count == 30)
        }
    }
}

@Suite struct GitHubAuditRateLimitTests {
    @Test func headersCountDownThenExhaustedUntilTheReset() async throws {
        let clock = ManualClock(at(0))
        let start = 1_777_629_600
        try await seeded(GitHubAuditEmulator(rateLimit: 3, now: { clock.now })) { (emulator, url) async throws in
            let first = try await get(url, "/enterprises/acme/audit-log")
            #expect(first.header("X-RateLimit-Limit") == "3" && first.header("X-RateLimit-Used") == "1")
            #expect(first.header("X-RateLimit-Remaining") == "2" && first.header("X-RateLimit-Reset") == String(start + 3600))
            // Refused credentials carry the headers without spending the budget.
            let refused = try await call("GET", url, "/enterprises/acme/audit-log")
            #expect(refused.status == 401 && refused.header("X-RateLimit-Used") == "1")
            _ = try await get(url, "/enterprises/acme/audit-log")
            let last = try await get(url, "/enterprises/acme/audit-log")
            #expect(last.status == 200 && last.header("X-RateLimit-Remaining") == "0")

            let exceeded = try await get(url, "/enterprises/acme/audit-log")
            #expect(exceeded.status == 403 && exceeded.header("X-RateLimit-Remaining") == "0")
            #expect(exceeded.githubMessage?.hasPrefix("API rate limit exceeded") == true)

            clock.advance(3600)
            let renewed = try await get(url, "/enterprises/acme/audit-log")
            #expect(renewed.status == 200 && renewed.header("X-RateLimit-Used") == "1")
            #expect(renewed.header("X-RateLimit-Reset") == String(start + 7200))

            await emulator.exhaustRateLimit(status: 429, resetIn: 30)
            let throttled = try await get(url, "/enterprises/acme/audit-log")
            #expect(throttled.status == 429 && throttled.header("Retry-After") == "30")
            #expect(throttled.header("X-RateLimit-Remaining") == "0")
            clock.advance(30)
            #expect(try await get(url, "/enterprises/acme/audit-log").status == 200)
            #expect(await emulator.rateLimitUsed() == 1)
        }
    }

    @Test func faultsAnswerInGitHubShape() async throws {
        try await seeded { (emulator, url) async throws in
            await emulator.faults.enqueue(.status(502))
            await emulator.faults.enqueue(.errorEnvelope("boom"))
            let gateway = try await get(url, "/enterprises/acme/audit-log")
            #expect(gateway.status == 502 && gateway.githubMessage == "bad gateway")
            let failed = try await get(url, "/enterprises/acme/audit-log")
            #expect(failed.status == 500 && failed.githubMessage == "boom")
            #expect(try await get(url, "/enterprises/acme/audit-log").githubIDs.count == 5)
        }
    }
}

@Suite struct GitHubAuditGenerateTests {
    @Test func variedActionsScopesAndIDs() async throws {
        let events = GitHubAuditEmulator.generate(count: 130, from: at(0), to: at(3600))
        #expect(Set(events.map(\.documentID)).count == 130)
        #expect(events.map(\.documentID) != events.map(\.documentID).sorted())
        #expect(
            Set(events.map(\.action)).isSuperset(of: [
                "org.add_member", "org.remove_member", "repo.create", "repo.destroy", "team.add_member", "git.clone", "git.push",
                "protected_branch.update", "oauth_application.create", "org.update_member", "business.set_actions_retention_limit",
            ]))
        #expect(Set(events.map(\.operationType)) == ["create", "modify", "remove", "access", "authentication", "transfer"])
        #expect(events.filter { $0.action.hasPrefix("business.") }.allSatisfy { $0.org == nil })
        #expect(events.filter { $0.action.hasPrefix("git.") }.allSatisfy { $0.transportProtocolName != nil && $0.repo != nil })
        #expect(Set(events.compactMap(\.org)) == ["acme-org", "acme-labs"])
        #expect(events.contains { $0.actorIP == nil } && events.contains { $0.actorIP != nil })
        #expect(events.allSatisfy { $0.timestamp >= at(0) && $0.timestamp <= at(3600) })
    }
}
