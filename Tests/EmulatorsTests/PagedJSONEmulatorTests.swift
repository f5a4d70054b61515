import Emulators
import Foundation
import Testing

private let key = [("X-API-Key", "paged-test-key")]

/// The pagination styles, each walked to its end the way a client of that style would.
enum PagedStyle: String, CaseIterable, Sendable {
    case nextLink = "/next-link"
    case linkHeader = "/link-header"
    case pageNumber = "/page-number"
    case offset = "/offset"
    case cursor = "/cursor"
    case newest = "/newest"
    case search = "/search"

    /// Every uuid served, in order, and how many requests it took. `window` is
    /// `since`/`until` as query parameters (or body fields for `/search`).
    func walk(_ url: URL, window: [String: String] = [:], perPage: Int? = nil, maxRequests: Int = 60) async throws -> (uuids: [String], requests: Int)
    {
        var parameters = window.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        if let perPage { parameters.append(("per_page", String(perPage))) }
        func target(_ extra: [(name: String, value: String)]) -> String {
            let items = (parameters + extra).map { "\($0.name)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
            return rawValue + (items.isEmpty ? "" : "?" + items.joined(separator: "&"))
        }
        func uuids(_ items: Any?) -> [String] { ((items as? [[String: Any]]) ?? []).compactMap { $0["uuid"] as? String } }

        var seen: [String] = []
        var requests = 0
        func get(_ target: String) async throws -> Reply {
            requests += 1
            let reply = try await call("GET", url, target, headers: key)
            #expect(reply.status == 200, "\(target): \(reply.text)")
            return reply
        }
        switch self {
        case .nextLink, .newest:
            var next: String? = target([])
            while let link = next, requests < maxRequests {
                let reply = try await get(link)
                seen += uuids((reply.json?["data"] as? [String: Any])?["items"])
                next = (reply.json?["links"] as? [String: Any])?["next"] as? String
                if let next { #expect(next.hasPrefix("http://127.0.0.1:")) }
            }
        case .linkHeader:
            var next: String? = target([])
            while let link = next, requests < maxRequests {
                let reply = try await get(link)
                seen += uuids(try JSONSerialization.jsonObject(with: reply.body))
                next = reply.header("Link").flatMap { header in
                    header.hasSuffix("rel=\"next\"") ? String(header.dropFirst().prefix { $0 != ">" }) : nil
                }
            }
        case .pageNumber:
            var page = 1
            var more = true
            while more, requests < maxRequests {
                let reply = try await get(target([("page", String(page))]))
                seen += uuids(reply.json?["results"])
                more = reply.json?["has_more"] as? Bool ?? false
                page += 1
            }
        case .offset:
            var offset = 0
            var total = 1
            while offset < total, requests < maxRequests {
                let reply = try await get(target([("offset", String(offset))]))
                let page = uuids(reply.json?["items"])
                seen += page
                total = reply.json?["total"] as? Int ?? 0
                offset += page.count
                if page.isEmpty { break }
            }
        case .cursor:
            var cursor = ""
            repeat {
                let reply = try await get(target(cursor.isEmpty ? [] : [("cursor", cursor)]))
                seen += uuids(reply.json?["entries"])
                cursor = reply.json?["next_cursor"] as? String ?? ""
            } while !cursor.isEmpty && requests < maxRequests
        case .search:
            var cursor = ""
            repeat {
                var body: [String: Any] = window
                if !cursor.isEmpty { body["cursor"] = cursor }
                if let perPage { body["per_page"] = perPage }
                requests += 1
                let reply = try await call("POST", url, rawValue, headers: key, json: body)
                #expect(reply.status == 200, "\(reply.text)")
                seen += uuids(reply.json?["entries"])
                cursor = reply.json?["next_cursor"] as? String ?? ""
            } while !cursor.isEmpty && requests < maxRequests
        }
        return (seen, requests)
    }
}

/// 47 items over 20 seconds: many share a second.
private func seeded(_ body: (PagedJSONEmulator, URL, [PagedJSONItem]) async throws -> Void) async throws {
    try await withRunning(PagedJSONEmulator()) { (emulator, url) async throws in
        let items = await emulator.seed(count: 47, from: at(0), to: at(20))
        // Oldest first by (ts, uuid): the order every ascending style serves.
        let sorted = items.sorted { ($0.ts, $0.uuid) < ($1.ts, $1.uuid) }
        try await body(emulator, url, sorted)
    }
}

@Suite struct PagedJSONStyleTests {
    @Test(arguments: PagedStyle.allCases)
    func walkedToTheEndYieldsEveryItemOnce(_ style: PagedStyle) async throws {
        try await seeded { (_, url, sorted) async throws in
            let (uuids, requests) = try await style.walk(url)
            let expected = sorted.map(\.uuid)
            #expect(uuids == (style == .newest ? expected.reversed() : expected))
            #expect(requests == 5)  // 47 items, 10 per page by default
        }
    }

    @Test(arguments: PagedStyle.allCases)
    func sinceInclusiveUntilExclusive(_ style: PagedStyle) async throws {
        try await seeded { (_, url, sorted) async throws in
            let window = ["since": "2026-05-01T10:00:05Z", "until": "2026-05-01T10:00:15Z"]
            let (uuids, _) = try await style.walk(url, window: window, perPage: 4)
            let expected = sorted.filter { $0.ts >= at(5) && $0.ts < at(15) }.map(\.uuid)
            #expect(!expected.isEmpty)
            #expect(uuids == (style == .newest ? expected.reversed() : expected))
        }
    }

    @Test func itemWireForm() async throws {
        try await withRunning(PagedJSONEmulator()) { (emulator, url) async throws in
            await emulator.seed([PagedJSONItem(uuid: "u-1", ts: at(1.9), kind: "repo.create", login: "bob", detail: "made \"x\"")])
            let reply = try await call("GET", url, "/cursor", headers: key)
            let entry = try #require((reply.json?["entries"] as? [[String: Any]])?.first)
            #expect(entry["uuid"] as? String == "u-1")
            #expect(entry["ts"] as? String == "2026-05-01T10:00:01Z")
            #expect(entry["kind"] as? String == "repo.create")
            #expect(entry["who"] as? [String: String] == ["login": "bob"])
            #expect(entry["detail"] as? String == "made \"x\"")
            #expect(reply.json?["next_cursor"] as? String == "")
        }
    }
}

@Suite struct PagedJSONParameterTests {
    @Test func apiKeyRequired() async throws {
        try await seeded { (_, url, _) async throws in
            #expect(try await call("GET", url, "/cursor").status == 401)
            #expect(try await call("GET", url, "/cursor", headers: [("X-API-Key", "nope")]).status == 401)
            let refused = try await call("GET", url, "/cursor", headers: bearer("paged-test-key"))
            #expect(refused.status == 401 && refused.json?["error"] as? String != nil)
            #expect(try await call("GET", url, "/cursor", headers: key).status == 200)
        }
    }

    @Test func perPageDefaultsTo10AndIsCappedAt100() async throws {
        try await withRunning(PagedJSONEmulator()) { (emulator, url) async throws in
            await emulator.seed(count: 150, from: at(0), to: at(100))
            #expect(((try await call("GET", url, "/offset", headers: key)).json?["items"] as? [Any])?.count == 10)
            let capped = try await call("GET", url, "/offset?per_page=500", headers: key)
            #expect((capped.json?["items"] as? [Any])?.count == 100)
            #expect(capped.json?["total"] as? Int == 150)
            #expect(try await call("GET", url, "/offset?per_page=0", headers: key).status == 400)
        }
    }

    @Test(arguments: [
        ("GET", "/cursor?cursor=%%%"),
        ("GET", "/cursor?cursor=bm90LWEtY3Vyc29y"),
        ("GET", "/next-link?since=yesterday"),
        ("GET", "/page-number?page=0"),
        ("GET", "/offset?offset=-3"),
        ("POST", "/search"),
    ])
    func badParametersAre400(_ method: String, _ target: String) async throws {
        try await seeded { (_, url, _) async throws in
            let reply = try await call(method, url, target, headers: key)
            #expect(reply.status == 400)
            #expect(reply.json?["error"] is String)
        }
    }

    @Test func unknownRouteAndWrongMethod() async throws {
        try await seeded { (_, url, _) async throws in
            #expect(try await call("GET", url, "/pages", headers: key).status == 404)
            #expect(try await call("GET", url, "/search", headers: key).status == 405)
            #expect(try await call("POST", url, "/cursor", headers: key, json: [String: Any]()).status == 405)
        }
    }

    @Test func aLateItemBehindTheCursorIsNotServed() async throws {
        try await seeded { (emulator, url, sorted) async throws in
            let first = try await call("GET", url, "/cursor", headers: key)
            let cursor = try #require(first.json?["next_cursor"] as? String)
            await emulator.insert(PagedJSONItem(uuid: "late", ts: at(0)))
            let second = try await call("GET", url, "/cursor?cursor=" + cursor, headers: key)
            let uuids = (second.json?["entries"] as? [[String: Any]])?.compactMap { $0["uuid"] as? String }
            #expect(uuids == Array(sorted[10..<20].map(\.uuid)))
        }
    }
}

@Suite struct PagedJSONFaultTests {
    @Test func faultsInTheAPIsErrorShape() async throws {
        try await seeded { (emulator, url, _) async throws in
            await emulator.faults.enqueue(.status(502))
            await emulator.faults.enqueue(.errorEnvelope("index rebuilding"))
            await emulator.faults.enqueue(.resetMidBody)
            let badGateway = try await call("GET", url, "/cursor", headers: key)
            #expect(badGateway.status == 502 && badGateway.json?["error"] as? String == "bad gateway")
            let envelope = try await call("GET", url, "/cursor", headers: key)
            #expect(envelope.status == 500 && envelope.json?["error"] as? String == "index rebuilding")
            let raw = try await rawGET(url, "/page-number", headers: key)
            #expect(raw.hasPrefix("HTTP/1.1 200"))
            #expect(raw.contains("{\"results\":[") && !raw.hasSuffix("}"))
            #expect(try await PagedStyle.cursor.walk(url).uuids.count == 47)
        }
    }
}

@Suite struct ResetMidBodyTests {
    /// The fault also works for the emulators that predate it, with a generic partial body.
    @Test func deploysResetsMidBody() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.faults.enqueue(.resetMidBody)
            await #expect(throws: (any Error).self) { _ = try await postJSON(url, ["project": "acme"]) }
            #expect(try await postJSON(url, ["project": "acme"]).ok == true)
        }
    }
}
