import Emulators
import Foundation
import Testing

extension OnePasswordEmulator: RunnableEmulator {}

private let token = "op-test-token"

/// Five audit events over an hour in four offsets; EVT3 and EVT4 share a second.
private let auditEvents: [OnePasswordAuditEvent] = [
    .init(uuid: "EVT4", timestamp: at(60), utcOffsetMinutes: 330, action: "grant", auxID: 42, auxUUID: "2VH5HTMZ6RD6VJ4YKLH4QWJXOI", auxInfo: "32"),
    .init(uuid: "EVT1", timestamp: at(0), utcOffsetMinutes: -180, action: "join", objectType: "user"),
    .init(uuid: "EVT5", timestamp: at(3600), utcOffsetMinutes: -180, action: "suspend", objectType: "user"),
    .init(uuid: "EVT2", timestamp: at(1.5), utcOffsetMinutes: 120, actorType: "service_account", action: "provision", objectType: "user"),
    .init(uuid: "EVT3", timestamp: at(60), action: "delete", objectType: "item"),
]

private func seeded(_ emulator: OnePasswordEmulator = OnePasswordEmulator(), _ body: (OnePasswordEmulator, URL) async throws -> Void) async throws {
    try await withRunning(emulator) { (emulator, url) async throws in
        await emulator.seed(auditEvents)
        try await body(emulator, url)
    }
}

private func post(_ url: URL, _ body: [String: Any], _ feature: OnePasswordFeature = .auditEvents) async throws -> Reply {
    try await call("POST", url, feature.path, headers: bearer(token), json: body)
}

private extension Reply {
    var opItems: [[String: Any]] { (json?["items"] as? [[String: Any]]) ?? [] }
    var opUUIDs: [String] { opItems.compactMap { $0["uuid"] as? String } }
    var opCursor: String? { json?["cursor"] as? String }
    var opHasMore: Bool? { json?["has_more"] as? Bool }
    /// `Error.Message` of a 1Password error.
    var opMessage: String? { (json?["Error"] as? [String: Any])?["Message"] as? String }
}

/// An RFC 3339 time in whole seconds with any offset.
private func instant(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
}

@Suite struct OnePasswordAuthTests {
    @Test func bearerTokenRequiredAndIntrospect() async throws {
        try await seeded { (_, url) async throws in
            let missing = try await call("POST", url, "/api/v2/auditevents", json: ["limit": 10])
            #expect(missing.status == 401 && missing.opMessage == "Unauthorized")
            #expect(try await call("POST", url, "/api/v2/auditevents", headers: bearer("nope"), json: ["limit": 10]).status == 401)
            #expect(try await call("GET", url, "/api/v2/auth/introspect").status == 401)

            let introspect = try await call("GET", url, "/api/v2/auth/introspect", headers: bearer(token))
            #expect(introspect.status == 200)
            #expect(introspect.json?["features"] as? [String] == ["auditevents", "signinattempts", "itemusages"])
            #expect(introspect.json?["account_uuid"] as? String == OnePasswordEmulator.defaultAccountUUID)
            #expect(introspect.json?["uuid"] is String && introspect.json?["issued_at"] is String)
        }
    }

    @Test func routesMethodsAndFeatures() async throws {
        try await seeded(OnePasswordEmulator(features: [.auditEvents])) { (_, url) async throws in
            #expect(try await call("POST", url, "/api/v2/auditevent", headers: bearer(token), json: ["limit": 1]).status == 404)
            let get = try await call("GET", url, "/api/v2/auditevents", headers: bearer(token))
            #expect(get.status == 405 && get.header("Allow") == "POST")
            #expect(try await post(url, ["limit": 1], .itemUsages).status == 403)
            #expect(try await post(url, ["limit": 1]).status == 200)
            let introspect = try await call("GET", url, "/api/v2/auth/introspect", headers: bearer(token))
            #expect(introspect.json?["features"] as? [String] == ["auditevents"])
        }
    }
}

@Suite struct OnePasswordCursorTests {
    @Test func resetThenCursorAloneUntilCaughtUpThenNewArrivals() async throws {
        try await seeded { (emulator, url) async throws in
            let first = try await post(url, ["limit": 2, "start_time": "2026-05-01T10:00:00Z"])
            #expect(first.status == 200)
            #expect(first.opUUIDs == ["EVT1", "EVT2"] && first.opHasMore == true)
            let firstCursor = try #require(first.opCursor)
            let second = try await post(url, ["cursor": firstCursor])
            #expect(second.opUUIDs == ["EVT3", "EVT4"] && second.opHasMore == true)
            let secondCursor = try #require(second.opCursor)
            let third = try await post(url, ["cursor": secondCursor])
            #expect(third.opUUIDs == ["EVT5"] && third.opHasMore == false)
            let caughtUp = try #require(third.opCursor)
            let idle = try await post(url, ["cursor": caughtUp])
            #expect(idle.status == 200 && idle.opUUIDs.isEmpty && idle.opHasMore == false)

            // Later arrivals after the position are served through the same cursor; one
            // behind it is not (keyset, as upstream).
            await emulator.insert(OnePasswordAuditEvent(uuid: "EVT6", timestamp: at(7200)))
            await emulator.insert(OnePasswordAuditEvent(uuid: "EVT0", timestamp: at(30)))
            let later = try await post(url, ["cursor": caughtUp])
            #expect(later.opUUIDs == ["EVT6"] && later.opHasMore == false)
            let laterCursor = try #require(later.opCursor)
            let again = try await post(url, ["cursor": laterCursor])
            #expect(again.opUUIDs.isEmpty)
            #expect(await emulator.entryCount() == 7)
        }
    }

    @Test func aCursorWithAnyOtherKeyIs400() async throws {
        try await seeded { (_, url) async throws in
            let start = try await post(url, ["limit": 1])
            let cursor = try #require(start.opCursor)
            for other in [["limit": 5], ["start_time": "2026-05-01T10:00:00Z"], ["end_time": "2026-05-02T10:00:00Z"]] as [[String: Any]] {
                var body = other
                body["cursor"] = cursor
                let mixed = try await post(url, body)
                #expect(mixed.status == 400)
                #expect(mixed.opMessage == "cursor must be sent alone")
            }
            // Alone it works.
            #expect(try await post(url, ["cursor": cursor]).opUUIDs == ["EVT2"])
        }
    }

    @Test(arguments: [
        (#"{"limit":0}"#, "limit"),
        (#"{"limit":1001}"#, "limit"),
        (#"{"limit":"10"}"#, "limit"),
        (#"{"limit":2.5}"#, "limit"),
        (#"{"start_time":"2026-05-01"}"#, "start_time"),
        (#"{"start_time":"2026-05-01T10:00:00"}"#, "start_time"),
        (#"{"end_time":1777629600}"#, "end_time"),
        (#"{"start_time":"2026-05-02T00:00:00Z","end_time":"2026-05-01T00:00:00Z"}"#, "end_time"),
        (#"{"startTime":"2026-05-01T10:00:00Z"}"#, "startTime"),
        (#"{"cursor":"bm90LWEtY3Vyc29y"}"#, "cursor"),
        (#"{"cursor":5}"#, "cursor"),
        (#"[]"#, "JSON object"),
        (#"not json"#, "JSON object"),
    ])
    func invalidBodiesAre400WithAMessage(_ body: String, _ mentioned: String) async throws {
        try await seeded { (_, url) async throws in
            let reply = try await call(
                "POST", url, "/api/v2/auditevents",
                headers: bearer(token) + [("Content-Type", "application/json")], body: Data(body.utf8))
            #expect(reply.status == 400)
            #expect(reply.opMessage?.contains(mentioned) == true, "\(reply.text)")
        }
    }

    @Test func startInclusiveEndExclusiveAndTheCursorKeepsTheEndAndLimit() async throws {
        try await seeded { (emulator, url) async throws in
            let all = try await post(url, [:])
            #expect(all.opUUIDs == ["EVT1", "EVT2", "EVT3", "EVT4", "EVT5"] && all.opHasMore == false)
            // Nulls count as absent.
            #expect(try await post(url, ["limit": NSNull(), "cursor": NSNull()]).opUUIDs.count == 5)

            let first = try await post(url, ["limit": 1, "start_time": "2026-05-01T12:00:01.5+02:00", "end_time": "2026-05-01T10:01:00Z"])
            #expect(first.opUUIDs == ["EVT2"] && first.opHasMore == false)
            let cursor = try #require(first.opCursor)
            await emulator.insert(OnePasswordAuditEvent(uuid: "EVT7", timestamp: at(30)))
            await emulator.insert(OnePasswordAuditEvent(uuid: "EVT8", timestamp: at(40)))
            await emulator.insert(OnePasswordAuditEvent(uuid: "EVT9", timestamp: at(300)))
            let next = try await post(url, ["cursor": cursor])
            #expect(next.opUUIDs == ["EVT7"] && next.opHasMore == true)
            let nextCursor = try #require(next.opCursor)
            let last = try await post(url, ["cursor": nextCursor])
            #expect(last.opUUIDs == ["EVT8"] && last.opHasMore == false)
        }
    }
}

@Suite struct OnePasswordShapeTests {
    @Test func timestampsKeepTheAccountOffsetAndMeanTheSameInstant() async throws {
        try await seeded { (_, url) async throws in
            let items = try await post(url, [:]).opItems
            try #require(items.count == 5)
            let times = items.compactMap { $0["timestamp"] as? String }
            #expect(
                times == [
                    "2026-05-01T07:00:00-03:00", "2026-05-01T12:00:01.5+02:00", "2026-05-01T10:01:00Z",
                    "2026-05-01T15:31:00+05:30", "2026-05-01T08:00:00-03:00",
                ])
            #expect(instant(times[0]) == at(0) && instant(times[3]) == at(60) && instant(times[4]) == at(3600))
            let session = try #require(items[0]["session"] as? [String: Any])
            #expect(session["login_time"] as? String == "2026-05-01T07:00:00-03:00")

            let grant = items[3]
            #expect(grant["aux_id"] as? Int == 42 && grant["aux_info"] as? String == "32")
            #expect(items[0]["aux_id"] == nil && items[0]["aux_uuid"] == nil)
            #expect(items[1]["actor_type"] as? String == "service_account")
            #expect(
                Set(items[0].keys) == [
                    "uuid", "timestamp", "actor_uuid", "actor_details", "action", "object_type",
                    "object_uuid", "session", "location", "actor_type", "account_uuid",
                ])
            let location = try #require(items[0]["location"] as? [String: Any])
            #expect(location["city"] as? String == "Toronto" && location["latitude"] as? Double == 43.6532)
        }
    }

    @Test func theThreeStreamsAreSeparate() async throws {
        try await seeded { (emulator, url) async throws in
            await emulator.seed([
                OnePasswordSignInAttempt(
                    uuid: "SIGN1", timestamp: at(10), utcOffsetMinutes: 120, category: "firewall_failed",
                    type: "country_blocked", details: "Blocked countries", location: nil),
                OnePasswordSignInAttempt(uuid: "SIGN2", timestamp: at(20)),
            ])
            await emulator.seed([OnePasswordItemUsage(uuid: "USE1", timestamp: at(5), action: "secure-copy")])
            let attempts = try await post(url, [:], .signInAttempts)
            #expect(attempts.opUUIDs == ["SIGN1", "SIGN2"])
            try #require(attempts.opItems.count == 2)
            let blocked = attempts.opItems[0]
            #expect(blocked["timestamp"] as? String == "2026-05-01T12:00:10+02:00")
            #expect((blocked["details"] as? [String: Any])?["value"] as? String == "Blocked countries")
            #expect(blocked["location"] == nil && attempts.opItems[1]["details"] == nil)
            #expect((blocked["client"] as? [String: Any])?["app_name"] is String)
            #expect((blocked["target_user"] as? [String: Any])?["email"] is String)

            let usages = try await post(url, [:], .itemUsages)
            #expect(usages.opUUIDs == ["USE1"])
            try #require(usages.opItems.count == 1)
            #expect(usages.opItems[0]["action"] as? String == "secure-copy" && usages.opItems[0]["used_version"] as? Int == 1)

            // A cursor belongs to its stream.
            let audit = try await post(url, ["limit": 1])
            let cursor = try #require(audit.opCursor)
            let crossed = try await post(url, ["cursor": cursor], .signInAttempts)
            #expect(crossed.status == 400 && crossed.opMessage == "invalid cursor")
            #expect(await emulator.entryCount(.signInAttempts) == 2)
            #expect(await emulator.entryCount(.itemUsages) == 1)
        }
    }
}

@Suite struct OnePasswordGenerateTests {
    @Test func variedOffsetsActionsAndUniqueIDs() async throws {
        let events = OnePasswordEmulator.generate(count: 120, from: at(0), to: at(3600))
        #expect(Set(events.map(\.uuid)).count == 120)
        #expect(Set(events.map(\.utcOffsetMinutes)) == [-180, 120, 0, 330])
        #expect(
            Set(events.map(\.action)).isSuperset(of: [
                "join", "create", "update", "delete", "grant", "revoke", "suspend",
                "reactivate", "begin", "complete", "provision",
            ]))
        #expect(Set(events.map(\.actorType)) == ["user", "service_account"])
        #expect(events.allSatisfy { $0.timestamp >= at(0) && $0.timestamp <= at(3600) })
        #expect(events.contains { $0.auxUUID != nil } && events.contains { $0.auxUUID == nil })
        let attempts = OnePasswordEmulator.generateSignInAttempts(count: 40, from: at(0), to: at(600))
        #expect(Set(attempts.map(\.category)).isSuperset(of: ["success", "credentials_failed", "mfa_failed", "firewall_failed"]))
        #expect(attempts.contains { $0.location == nil })
        let usages = OnePasswordEmulator.generateItemUsages(count: 40, from: at(0), to: at(600))
        #expect(Set(usages.map(\.action)).isSuperset(of: ["fill", "reveal", "secure-copy"]))
    }

    @Test func generatedEventsPageBackInTimeOrder() async throws {
        try await withRunning(OnePasswordEmulator()) { (emulator, url) async throws in
            let events = OnePasswordEmulator.generate(count: 250, from: at(0), to: at(600))
            await emulator.seed(events)
            var seen: [String] = []
            var times: [Date] = []
            var reply = try await post(url, ["limit": 100])
            while true {
                #expect(reply.status == 200)
                seen += reply.opUUIDs
                times += reply.opItems.compactMap { ($0["timestamp"] as? String).flatMap(wholeSecondOrFraction) }
                guard reply.opHasMore == true, seen.count < 1000 else { break }
                let cursor = try #require(reply.opCursor)
                reply = try await post(url, ["cursor": cursor])
            }
            #expect(seen.count == 250 && Set(seen) == Set(events.map(\.uuid)))
            #expect(times.count == 250 && times == times.sorted())
        }
    }
}

@Suite struct OnePasswordFaultTests {
    @Test func rateLimitAndEnvelopeInOnePasswordShape() async throws {
        try await seeded { (emulator, url) async throws in
            await emulator.faults.enqueue(.status(429, retryAfter: "3"))
            await emulator.faults.enqueue(.errorEnvelope("internal error"))
            let throttled = try await post(url, ["limit": 1])
            #expect(throttled.status == 429 && throttled.header("Retry-After") == "3")
            #expect(throttled.opMessage == "rate limit exceeded")
            let failed = try await post(url, ["limit": 1])
            #expect(failed.status == 500 && failed.opMessage == "internal error")
            #expect(try await post(url, ["limit": 1]).opUUIDs == ["EVT1"])
        }
    }
}

/// An RFC 3339 time with or without a fraction, any offset (the fraction parsed by hand, so
/// the test does not rely on the formatter's fraction support).
private func wholeSecondOrFraction(_ text: String) -> Date? {
    guard let dot = text.firstIndex(of: ".") else { return instant(text) }
    let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
    let rest = text[text.index(dot, offsetBy: digits.count + 1)...]
    guard let whole = instant(String(text[..<dot]) + rest), let fraction = Double("0." + digits) else { return nil }
    return whole.addingTimeInterval(fraction)
}
