import Emulators
import Foundation
import Testing

/// Six items over four seconds; ids 2–3 and 5–6 share a second.
private let sixItems: [DeploysAuditItem] = [
    DeploysAuditItem(id: 4, createdAt: at(2)),
    DeploysAuditItem(id: 1, resourceType: "route", createdAt: at(0)),
    DeploysAuditItem(id: 6, actorEmail: "ci@acme.sa.deploys.app", actorType: "ServiceAccount", channel: "api", createdAt: at(3)),
    DeploysAuditItem(id: 2, outcome: "forbidden", createdAt: at(1)),
    DeploysAuditItem(id: 5, channel: "cli", createdAt: at(3)),
    DeploysAuditItem(id: 3, createdAt: at(1.75)),  // stored as second 1
]

@Suite struct DeploysPagingTests {
    @Test func newestFirstByTimeThenID() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed(sixItems)
            let reply = try await postJSON(url, ["project": "acme"])
            #expect(reply.status == 200)
            #expect(reply.ok == true)
            #expect(reply.ids == [6, 5, 4, 3, 2, 1])
        }
    }

    @Test func limitCapsThePage() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed(sixItems)
            #expect(try await postJSON(url, ["project": "acme", "limit": 3]).ids == [6, 5, 4])
            #expect(try await postJSON(url, ["project": "acme", "limit": 1]).ids == [6])
        }
    }

    @Test func beforeIsStrict() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed(sixItems)
            // Paging with the last item's createdAt skips the rows that share its second.
            let next = try await postJSON(url, ["project": "acme", "limit": 2, "before": "2026-05-01T10:00:03Z"])
            #expect(next.ids == [4, 3])
            let after3 = try await postJSON(url, ["project": "acme", "before": "2026-05-01T10:00:01Z"])
            #expect(after3.ids == [1])
            // An offset names the same instant.
            let offset = try await postJSON(url, ["project": "acme", "before": "2026-05-01T12:00:02+02:00"])
            #expect(offset.ids == [3, 2, 1])
            // A fraction keeps the whole second below it.
            let fraction = try await postJSON(url, ["project": "acme", "before": "2026-05-01T10:00:01.5Z"])
            #expect(fraction.ids == [3, 2, 1])
        }
    }

    @Test func afterIsStrict() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed(sixItems)
            #expect(try await postJSON(url, ["project": "acme", "after": "2026-05-01T10:00:01Z"]).ids == [6, 5, 4])
            let window = try await postJSON(
                url, ["project": "acme", "after": "2026-05-01T10:00:00Z", "before": "2026-05-01T10:00:03Z"])
            #expect(window.ids == [4, 3, 2])
        }
    }

    @Test func bothSpellingsOfTheMethod() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed(sixItems)
            #expect(try await postJSON(url, "/auditLog.list", ["project": "acme"]).ids == [6, 5, 4, 3, 2, 1])
            #expect(try await postJSON(url, "/auditlog.list", ["project": "acme"]).ids == [6, 5, 4, 3, 2, 1])
        }
    }

    @Test func defaultLimitIs50AndMaximum100() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed(DeploysEmulator.generate(count: 150, from: at(0), to: at(600)))
            #expect(try await postJSON(url, ["project": "acme"]).ids.count == 50)
            #expect(try await postJSON(url, ["project": "acme", "limit": 100]).ids.count == 100)
        }
    }

    @Test func filtersMatchExactly() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed(sixItems)
            #expect(try await postJSON(url, ["project": "acme", "resourceType": "route"]).ids == [1])
            #expect(try await postJSON(url, ["project": "acme", "actor": "ci@acme.sa.deploys.app"]).ids == [6])
            #expect(try await postJSON(url, ["project": "acme", "channel": "cli"]).ids == [5])
            #expect(try await postJSON(url, ["project": "acme", "outcome": "forbidden"]).ids == [2])
            #expect(try await postJSON(url, ["project": "acme", "outcome": "success", "channel": "console"]).ids == [4, 3, 1])
        }
    }

    @Test func itemWireShape() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed([
                DeploysAuditItem(
                    id: 9_007_199_254_740_993, resourceType: "deployment", resourceID: "api", resourceName: "API \"v2\"",
                    locationID: "gke.cluster-rcf2", actorEmail: "alice@acme.example", actorType: "User", actorLabel: "Alice",
                    channel: "console", action: "deployment.deploy", outcome: "success", detail: "image: acme/api:1.2",
                    createdAt: at(30.9))
            ])
            let reply = try await postJSON(url, ["project": "acme"])
            let text = String(decoding: reply.body, as: UTF8.self)
            // An int64 above 2^53 must arrive as exact digits.
            #expect(text.contains(#""id":9007199254740993"#))
            let item = try #require(reply.items.first)
            let resource = try #require(item["resource"] as? [String: Any])
            let actor = try #require(item["actor"] as? [String: Any])
            #expect(resource["type"] as? String == "deployment")
            #expect(resource["id"] as? String == "api")
            #expect(resource["name"] as? String == "API \"v2\"")
            #expect(resource["locationId"] as? String == "gke.cluster-rcf2")
            #expect(actor["email"] as? String == "alice@acme.example")
            #expect(actor["type"] as? String == "User")
            #expect(actor["label"] as? String == "Alice")
            #expect(item["channel"] as? String == "console")
            #expect(item["action"] as? String == "deployment.deploy")
            #expect(item["outcome"] as? String == "success")
            #expect(item["detail"] as? String == "image: acme/api:1.2")
            #expect(item["createdAt"] as? String == "2026-05-01T10:00:30Z")
        }
    }

    @Test func lateEventAppearsInItsPlace() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed(sixItems)
            #expect(try await postJSON(url, ["project": "acme", "limit": 2]).ids == [6, 5])
            await emulator.insert(DeploysAuditItem(id: 7, createdAt: at(2)))
            #expect(await emulator.itemCount() == 7)
            #expect(try await postJSON(url, ["project": "acme"]).ids == [6, 5, 7, 4, 3, 2, 1])
        }
    }

    @Test func seedsInAnyOrderAreMerged() async throws {
        try await withDeploys { (emulator, url) async throws in
            // A newer batch first, then an older one interleaving with it, then a shuffled one.
            await emulator.seed(DeploysEmulator.generate(count: 100, firstID: 1, from: at(100), to: at(199)))
            await emulator.seed(DeploysEmulator.generate(count: 100, firstID: 101, from: at(50), to: at(149)))
            await emulator.seed(DeploysEmulator.generate(count: 100, firstID: 201, from: at(0), to: at(300)).shuffled())
            #expect(await emulator.itemCount() == 300)
            var all: [[String: Any]] = []
            var before: String?
            repeat {
                var body: [String: Any] = ["project": "acme", "limit": 100]
                if let before { body["before"] = before }
                let page = try await postJSON(url, body).items
                all += page
                before = page.count == 100 ? page.last?["createdAt"] as? String : nil
            } while before != nil
            // Newest first means (createdAt, id) never increases along the pages.
            let keys = all.map { ($0["createdAt"] as! String, ($0["id"] as! NSNumber).int64Value) }
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) })
        }
    }

    @Test func pagingThroughEverythingWithTheDocumentedRecipe() async throws {
        try await withDeploys { (emulator, url) async throws in
            // 3 000 items over 10 minutes: five share each second, so pages split seconds.
            await emulator.seed(DeploysEmulator.generate(count: 3_000, from: at(0), to: at(599)))
            var seen = Set<Int64>()
            var before: String?
            while true {
                var body: [String: Any] = ["project": "acme", "limit": 100]
                if let before { body["before"] = before }
                let page = try await postJSON(url, body)
                seen.formUnion(page.ids)
                guard page.ids.count == 100, let last = page.items.last?["createdAt"] as? String else { break }
                // Re-ask from one second later and dedupe by id.
                let lastSecond = ISO8601DateFormatter().date(from: last)!
                before = ISO8601DateFormatter().string(from: lastSecond.addingTimeInterval(1))
            }
            #expect(seen.count == 3_000)
        }
    }
}

@Suite struct DeploysErrorTests {
    @Test func wrongOrMissingTokenIsUnauthorizedWithStatus200() async throws {
        try await withDeploys { (_, url) async throws in
            for token in ["nope", nil] as [String?] {
                let reply = try await postJSON(url, ["project": "acme"], token: token)
                #expect(reply.status == 200)
                #expect(reply.ok == false)
                #expect(reply.errorMessage == "api: unauthorized")
            }
        }
    }

    @Test func basicAuthWithTheServiceAccount() async throws {
        let emulator = DeploysEmulator(serviceAccount: (email: "ci@acme.sa.deploys.app", key: "k3y"))
        try await withDeploys(emulator) { (_, url) async throws in
            let good = Data("ci@acme.sa.deploys.app:k3y".utf8).base64EncodedString()
            let ok = try await postJSON(url, ["project": "acme"], token: nil, headers: [("Authorization", "Basic \(good)")])
            #expect(ok.ok == true)
            let bad = Data("ci@acme.sa.deploys.app:nope".utf8).base64EncodedString()
            let refused = try await postJSON(url, ["project": "acme"], token: nil, headers: [("Authorization", "Basic \(bad)")])
            #expect(refused.errorMessage == "api: unauthorized")
        }
    }

    @Test func nonJSONBodyIs400() async throws {
        try await withDeploys { (_, url) async throws in
            #expect(try await post(url, "/auditLog.list", Data("project=acme".utf8), token: "deploys-test-token").status == 400)
            #expect(try await post(url, "/auditLog.list", Data(), token: "deploys-test-token").status == 400)
            // A field of the wrong type cannot be decoded either.
            #expect(try await postJSON(url, ["project": "acme", "limit": "10"]).status == 400)
        }
    }

    @Test func projectRequired() async throws {
        try await withDeploys { (_, url) async throws in
            for body in [[:], ["project": ""]] as [[String: Any]] {
                let reply = try await postJSON(url, body)
                #expect(reply.status == 200)
                #expect(reply.errorMessage == "project required")
            }
        }
    }

    @Test func otherProjectIsForbidden() async throws {
        try await withDeploys { (_, url) async throws in
            let reply = try await postJSON(url, ["project": "globex"])
            #expect(reply.status == 200)
            #expect(reply.ok == false)
            #expect(reply.errorMessage == "iam: forbidden")
        }
    }

    @Test(
        arguments: [
            (["before": ""], "before: invalid time"),
            (["before": "2026-05-01"], "before: invalid time"),
            (["after": "2026-05-01T10:00:00"], "after: invalid time"),
            (["after": "yesterday"], "after: invalid time"),
            (["limit": 101], "limit: must be between 1 and 100"),
            (["limit": 0], "limit: must be between 1 and 100"),
        ] as [([String: any Sendable], String)])
    func validationErrors(fields: [String: any Sendable], item: String) async throws {
        try await withDeploys { (_, url) async throws in
            var body: [String: Any] = ["project": "acme"]
            for (key, value) in fields { body[key] = value }
            let reply = try await postJSON(url, body)
            #expect(reply.status == 200)
            #expect(reply.ok == false)
            #expect(reply.errorMessage == "api: validate error")
            #expect(reply.errorItems == [item])
        }
    }

    @Test func unknownRoutesAre404() async throws {
        try await withDeploys { (_, url) async throws in
            #expect(try await postJSON(url, "/auditLog.get", ["project": "acme"]).status == 404)
            #expect(try await post(url, "/auditLog.list", Data(), token: "deploys-test-token", method: "GET").status == 404)
        }
    }

    @Test func everyRequestIsRecorded() async throws {
        try await withDeploys { (emulator, url) async throws in
            _ = try await postJSON(url, ["project": "acme"], token: "nope")
            _ = try await postJSON(url, "/auditlog.list?x=1", ["project": "acme", "limit": 5])
            let requests = await emulator.requests()
            #expect(requests.map(\.path) == ["/auditLog.list", "/auditlog.list?x=1"])
            #expect(requests.map(\.method) == ["POST", "POST"])
            #expect(requests[0].header("authorization") == "Bearer nope")
            let body = try JSONSerialization.jsonObject(with: requests[1].body) as? [String: Any]
            #expect(body?["limit"] as? Int == 5)
        }
    }
}
