import Emulators
import Foundation
import Testing

private let oktaToken = "okta-test-token"

private func oktaUUID(_ n: Int) -> String { "00000000-0000-1000-8000-00000000000\(n)" }

/// Seven events in the first two minutes of 2026-05-01T10:00Z; 2 and 3 share a millisecond.
private let oktaEvents: [OktaLogEvent] = [
    .init(uuid: oktaUUID(1), published: at(0)),
    .init(
        uuid: oktaUUID(2), published: at(0.5), eventType: "user.authentication.sso", displayMessage: "User single sign on to app",
        target: [.init(id: "0oa6slack00000000003", type: "AppInstance", alternateID: "Slack", displayName: "Slack")]),
    .init(
        uuid: oktaUUID(3), published: at(0.5), eventType: "user.account.lock", displayMessage: "Max sign in attempts exceeded",
        severity: "WARN", outcome: .init(result: "FAILURE", reason: "LOCKED_OUT")),
    .init(uuid: oktaUUID(4), published: at(1), eventType: "user.lifecycle.create", displayMessage: "Create okta user"),
    .init(uuid: oktaUUID(5), published: at(2.25), eventType: "group.user_membership.add", displayMessage: "Add user to group membership"),
    .init(
        uuid: oktaUUID(6), published: at(60), eventType: "policy.evaluate_sign_on", displayMessage: "Evaluation of sign-on policy",
        outcome: .init(result: "ALLOW")),
    .init(uuid: oktaUUID(7), published: at(120)),
]

/// A server clock a test moves by hand.
private final class OktaTestClock: @unchecked Sendable {
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
        current += seconds
    }
}

/// Starts `emulator` (seeded with `oktaEvents`, out of order, unless `seed` is false) and always stops it.
private func withOkta(
    _ emulator: OktaEmulator = OktaEmulator(),
    seed: Bool = true,
    _ body: (OktaEmulator, URL) async throws -> Void
) async throws {
    let url = try await emulator.start()
    do {
        if seed { await emulator.seed(Array(oktaEvents.reversed())) }
        try await body(emulator, url)
        await emulator.stop()
    } catch {
        await emulator.stop()
        throw error
    }
}

private func get(_ url: URL, _ target: String) async throws -> Reply {
    try await call("GET", url, target, headers: [("Authorization", "SSWS \(oktaToken)")])
}

private func uuids(_ reply: Reply) -> [String] { reply.array.compactMap { $0["uuid"] as? String } }

/// The `Link` targets by `rel`, from every `Link` header (one per link, or comma-joined).
private func links(_ reply: Reply) -> [String: String] {
    var found: [String: String] = [:]
    for (name, value) in reply.headers where name.lowercased() == "link" {
        for part in value.split(separator: ",") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"),
                let rel = part.range(of: "rel=\"")
            else { continue }
            found[String(part[rel.upperBound...].prefix { $0 != "\"" })] = String(part[part.index(after: open)..<close])
        }
    }
    return found
}

@Suite struct OktaAuthTests {
    @Test func sswsAndBearerAcceptedEverythingElseIs401() async throws {
        try await withOkta { (_, url) async throws in
            let target = "/api/v1/logs?since=2026-05-01T10:00:00.000Z"
            #expect(try await call("GET", url, target, headers: [("Authorization", "SSWS \(oktaToken)")]).status == 200)
            #expect(try await call("GET", url, target, headers: bearer(oktaToken)).status == 200)
            let refused: [[(String, String)]] = [
                [], [("Authorization", "SSWS nope")], bearer("nope"), basic("x", oktaToken), [("Authorization", oktaToken)],
            ]
            for headers in refused {
                let reply = try await call("GET", url, target, headers: headers)
                #expect(reply.status == 401)
                #expect(reply.json?["errorCode"] as? String == "E0000011")
                #expect(reply.json?["errorSummary"] as? String == "Invalid token provided")
                #expect(reply.json?["errorLink"] as? String == "E0000011")
                #expect((reply.json?["errorId"] as? String)?.hasPrefix("oae") == true)
                #expect((reply.json?["errorCauses"] as? [Any])?.isEmpty == true)
                #expect(reply.header("X-Rate-Limit-Limit") == "600")
            }
        }
    }
}

@Suite struct OktaPagingTests {
    @Test func boundedQueryFollowsNextUntilNoneIsLeft() async throws {
        try await withOkta { (_, url) async throws in
            let first = "/api/v1/logs?since=2026-05-01T10:00:00.000Z&until=2026-05-01T10:05:00.000Z&limit=3"
            var next: String? = first
            var seen: [String] = []
            var pages = 0
            while let target = next, pages < 10 {
                let reply = try await get(url, target)
                #expect(reply.status == 200)
                let found = links(reply)
                #expect(found["self"] == (target.hasPrefix("http") ? target : url.absoluteString + target))
                seen += uuids(reply)
                next = found["next"]
                if let next {
                    #expect(next.hasPrefix(url.absoluteString + "/api/v1/logs?"))
                    #expect(next.contains("after=") && next.contains("limit=3") && next.contains("until="))
                }
                pages += 1
            }
            // 3 + 3 + 1: the last page has no next link.
            #expect(pages == 3)
            #expect(seen == (1...7).map(oktaUUID))
        }
    }

    @Test func pollingQueryHasANextLinkOnEveryPageEvenAnEmptyOne() async throws {
        try await withOkta { (emulator, url) async throws in
            let first = try await get(url, "/api/v1/logs?since=2026-05-01T10:00:00.000Z&limit=5")
            #expect(uuids(first) == (1...5).map(oktaUUID))
            let second = try await get(url, try #require(links(first)["next"]))
            #expect(uuids(second) == [oktaUUID(6), oktaUUID(7)])
            // A short page still links on: the place to poll from.
            let pollFrom = try #require(links(second)["next"])
            let empty = try await get(url, pollFrom)
            #expect(empty.status == 200 && empty.text == "[]")
            #expect(links(empty)["next"] == pollFrom)

            // A new event shows up behind the same link.
            await emulator.insert(OktaLogEvent(uuid: oktaUUID(8), published: at(180)))
            let later = try await get(url, pollFrom)
            #expect(uuids(later) == [oktaUUID(8)])
            #expect(links(later)["next"] != nil)

            // Nothing yet at all: still a next link (without a cursor).
            let nothing = try await get(url, "/api/v1/logs?since=2026-06-01T00:00:00.000Z")
            #expect(nothing.text == "[]")
            let again = try #require(links(nothing)["next"])
            #expect(!again.contains("after="))
        }
    }

    @Test(arguments: [
        ("since=2026-05-01T10:00:00.500Z&until=2026-05-01T10:00:02.250Z", [2, 3, 4]),
        ("since=2026-05-01T10:00:00.501Z&until=2026-05-01T10:00:02.251Z", [4, 5]),
        ("since=2026-05-01T12:00:00.500%2B02:00&until=2026-05-01T10:00:01.000Z", [2, 3]),
        ("since=2026-05-01T10:00:00.000Z&until=2026-05-01T10:05:00.000Z&sortOrder=DESCENDING", [7, 6, 5, 4, 3, 2, 1]),
        ("since=2026-05-01T10:00:00.000Z&filter=eventType%20eq%20%22user.session.start%22", [1, 7]),
        ("since=2026-05-01T10:00:00.000Z&filter=severity%20eq%20%22WARN%22%20or%20eventType%20sw%20%22group.%22", [3, 5]),
        ("since=2026-05-01T10:00:00.000Z&q=lifecycle", [4]),
        ("since=2026-05-01T10:00:00.000Z&until=2026-05-01T10:00:00.000Z", []),
    ])
    func windowsOrderAndFilters(_ query: String, _ expected: [Int]) async throws {
        try await withOkta { (_, url) async throws in
            let reply = try await get(url, "/api/v1/logs?" + query)
            #expect(reply.status == 200)
            #expect(uuids(reply) == expected.map(oktaUUID))
        }
    }

    @Test func descendingPagesWalkBackwards() async throws {
        try await withOkta { (_, url) async throws in
            var next: String? = "/api/v1/logs?since=2026-05-01T10:00:00.000Z&until=2026-05-01T10:05:00.000Z&sortOrder=DESCENDING&limit=4"
            var seen: [String] = []
            while let target = next, seen.count < 20 {
                let reply = try await get(url, target)
                seen += uuids(reply)
                next = links(reply)["next"]
            }
            #expect(seen == (1...7).reversed().map(oktaUUID))
        }
    }
}

@Suite struct OktaParameterTests {
    @Test(arguments: [
        ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=ten", "limit"),
        ("since=yesterday", "since"), ("until=2026-05-01", "until"),
        ("since=2026-05-02T00:00:00.000Z&until=2026-05-01T00:00:00.000Z", "until"),
        ("sortOrder=UP", "sortOrder"), ("after=%21%21%21", "after"),
        ("filter=eventType%20eq%20user.session.start", "filter"),
    ])
    func badParametersAre400E0000001NamingIt(_ query: String, _ name: String) async throws {
        try await withOkta { (_, url) async throws in
            let reply = try await get(url, "/api/v1/logs?" + query)
            #expect(reply.status == 400)
            #expect(reply.json?["errorCode"] as? String == "E0000001")
            #expect(reply.json?["errorSummary"] as? String == "Api validation failed: \(name)")
            #expect(reply.header("X-Rate-Limit-Remaining") != nil)
        }
    }

    @Test func limitBoundsAreAccepted() async throws {
        try await withOkta { (_, url) async throws in
            #expect(try await get(url, "/api/v1/logs?since=2026-05-01T10:00:00.000Z&limit=1000").status == 200)
            #expect(uuids(try await get(url, "/api/v1/logs?since=2026-05-01T10:00:00.000Z&limit=1")) == [oktaUUID(1)])
        }
    }
}

@Suite struct OktaRateLimitTests {
    @Test func headersCountDownThenA429() async throws {
        try await withOkta(OktaEmulator(rateLimit: 5)) { (emulator, url) async throws in
            let target = "/api/v1/logs?since=2026-05-01T10:00:00.000Z"
            let before = Int64(Date().timeIntervalSince1970)
            var remaining: [String] = []
            for _ in 0..<5 {
                let reply = try await get(url, target)
                #expect(reply.status == 200)
                #expect(reply.header("X-Rate-Limit-Limit") == "5")
                remaining.append(reply.header("X-Rate-Limit-Remaining") ?? "")
                let reset = Int64(reply.header("X-Rate-Limit-Reset") ?? "") ?? 0
                // A minute's window from the first request; the slack covers a loaded machine.
                #expect(reset > before && reset <= before + 90)
            }
            #expect(remaining == ["4", "3", "2", "1", "0"])

            let refused = try await get(url, target)
            #expect(refused.status == 429)
            #expect(refused.json?["errorCode"] as? String == "E0000047")
            #expect(refused.json?["errorSummary"] as? String == "API call exceeded rate limit due to too many requests.")
            #expect(refused.header("X-Rate-Limit-Remaining") == "0")
            #expect(refused.header("X-Rate-Limit-Limit") == "5")
            #expect(await emulator.rateLimitedCount() == 1)

            await emulator.setRateLimitRemaining(2)
            let back = try await get(url, target)
            #expect(back.status == 200 && back.header("X-Rate-Limit-Remaining") == "1")
        }
    }

    @Test func anExhaustedBudgetRefillsAtTheReset() async throws {
        let clock = OktaTestClock(at(0))
        try await withOkta(OktaEmulator(rateLimit: 3, now: { clock.now })) { (emulator, url) async throws in
            let target = "/api/v1/logs?since=2026-05-01T10:00:00.000Z"
            await emulator.setRateLimitRemaining(0, resetIn: 10)
            let refused = try await get(url, target)
            #expect(refused.status == 429)
            #expect(refused.header("X-Rate-Limit-Reset") == String(Int64(at(10).timeIntervalSince1970)))
            // A 401 does not spend the budget but still reports it.
            let anonymous = try await call("GET", url, target)
            #expect(anonymous.status == 401 && anonymous.header("X-Rate-Limit-Remaining") == "0")

            clock.advance(10)
            let refilled = try await get(url, target)
            #expect(refilled.status == 200)
            #expect(refilled.header("X-Rate-Limit-Remaining") == "2")
            #expect(refilled.header("X-Rate-Limit-Reset") == String(Int64(at(70).timeIntervalSince1970)))
        }
    }
}

@Suite struct OktaGenerateTests {
    @Test func variedEventsWithStableUUIDs() {
        let events = OktaEmulator.generate(count: 100, from: at(0), to: at(3600))
        #expect(Set(events.map(\.eventType)) == Set(OktaEmulator.eventTypes))
        #expect(Set(events.map(\.uuid)).count == 100)
        #expect(events.map(\.uuid) == OktaEmulator.generate(count: 100, from: at(0), to: at(3600)).map(\.uuid))
        #expect(Set(events.map(\.severity)).isSuperset(of: ["INFO", "WARN", "ERROR"]))
        #expect(Set(events.map(\.outcome.result)).isSuperset(of: ["SUCCESS", "FAILURE", "SKIPPED", "ALLOW", "DENY", "CHALLENGE"]))
        #expect(Set(events.map(\.actor.type)) == ["User", "SystemPrincipal", "PublicClientApp"])
        #expect(events.allSatisfy { $0.published >= at(0) && $0.published <= at(3600) })
        #expect(events[1].published == events[0].published)  // a tie
    }

    @Test func generatedEventsServeBackInWireForm() async throws {
        try await withOkta(seed: false) { (emulator, url) async throws in
            let events = OktaEmulator.generate(count: 40, from: at(0), to: at(600))
            await emulator.seed(events)
            let reply = try await get(url, "/api/v1/logs?since=2026-05-01T10:00:00.000Z&until=2026-05-01T11:00:00.000Z&limit=1000")
            #expect(reply.status == 200)
            let served = reply.array
            #expect(Set(served.compactMap { $0["uuid"] as? String }) == Set(events.map(\.uuid)))
            let published = served.compactMap { $0["published"] as? String }
            #expect(published.count == 40 && published == published.sorted())
            #expect(published.allSatisfy { $0.utf8.count == 24 && $0.hasSuffix("Z") && $0.dropFirst(19).hasPrefix(".") })

            let first = try #require(served.first)
            #expect(
                Set(first.keys).isSuperset(of: [
                    "uuid", "published", "eventType", "displayMessage", "severity", "outcome", "actor", "client", "target",
                    "transaction", "authenticationContext", "securityContext", "debugContext",
                ]))
            let system = try #require(served.first { ($0["actor"] as? [String: Any])?["type"] as? String == "SystemPrincipal" })
            #expect((system["client"] as? [String: Any])?["ipAddress"] is NSNull)
            #expect((system["transaction"] as? [String: Any])?["type"] as? String == "JOB")
            let session = try #require(served.first { $0["eventType"] as? String == "user.session.start" })
            #expect(session["target"] is NSNull)
            let debugData = (session["debugContext"] as? [String: Any])?["debugData"] as? [String: Any]
            #expect(debugData?["requestUri"] as? String == "/idp/idx/identify")
            let sso = try #require(served.first { $0["eventType"] as? String == "user.authentication.sso" })
            #expect((sso["target"] as? [[String: Any]])?.first?["type"] as? String == "AppInstance")
        }
    }
}

@Suite struct OktaFaultTests {
    @Test func faultsAnswerInOktaShapeThenNormally() async throws {
        try await withOkta { (emulator, url) async throws in
            let target = "/api/v1/logs?since=2026-05-01T10:00:00.000Z"
            await emulator.faults.enqueue(.status(503, retryAfter: "2"))
            await emulator.faults.enqueue(.garbage)
            await emulator.faults.enqueue(.truncatedJSON)
            let unavailable = try await get(url, target)
            #expect(unavailable.status == 503 && unavailable.header("Retry-After") == "2")
            #expect(unavailable.json?["errorCode"] as? String == "E0000009")
            let garbage = try await get(url, target)
            #expect(garbage.status == 200 && garbage.text.hasPrefix("<html>"))
            let truncated = try await get(url, target)
            #expect(truncated.status == 200 && (try? JSONSerialization.jsonObject(with: truncated.body)) == nil)
            #expect(uuids(try await get(url, target)).count == 7)
            #expect(await emulator.requests().count == 4)
        }
    }

    @Test func resetMidBodyCutsARealPage() async throws {
        try await withOkta { (emulator, url) async throws in
            await emulator.faults.enqueue(.resetMidBody)
            let raw = try await rawGET(url, "/api/v1/logs?since=2026-05-01T10:00:00.000Z", headers: [("Authorization", "SSWS \(oktaToken)")])
            let parts = raw.components(separatedBy: "\r\n\r\n")
            #expect(parts[0].hasPrefix("HTTP/1.1 200"))
            let body = parts.dropFirst().joined(separator: "\r\n\r\n")
            #expect(body.hasPrefix("[{\"actor\":"))
            #expect((try? JSONSerialization.jsonObject(with: Data(body.utf8))) == nil)
        }
    }
}
