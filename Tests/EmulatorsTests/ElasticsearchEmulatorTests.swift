import Emulators
import Foundation
import Testing

private let apiKeyAuth = ("Authorization", "ApiKey es-test-key")
private let ndjson = ("Content-Type", "application/x-ndjson")

private func create(_ id: String, _ document: String = #"{"message":"m"}"#, index: String? = "logs") -> String {
    let target = index.map { #""_index":"\#($0)","# } ?? ""
    return #"{"create":{\#(target)"_id":"\#(id)"}}"# + "\n" + document + "\n"
}

/// The per-item results, in order: (action, _id, status, error type).
private func items(_ reply: Reply) -> [(String, String, Int, String?)] {
    ((reply.json?["items"] as? [[String: Any]]) ?? []).compactMap { item in
        guard let first = item.first, let result = first.value as? [String: Any] else { return nil }
        let error = (result["error"] as? [String: Any])?["type"] as? String
        return (first.key, result["_id"] as? String ?? "", result["status"] as? Int ?? 0, error)
    }
}

@Suite struct ElasticsearchEmulatorTests {
    @Test func clusterInfoAndAuthentication() async throws {
        try await withRunning(ElasticsearchEmulator(basic: ("elastic", "pw"))) { (es, url) async throws in
            let info = try await send(url, "/", method: "GET", headers: [apiKeyAuth])
            #expect(info.status == 200)
            #expect((info.json?["version"] as? [String: Any])?["number"] as? String == "8.13.0")
            #expect(info.json?["tagline"] as? String == "You Know, for Search")

            for headers in [[], [("Authorization", "ApiKey wrong")], [("Authorization", "Basic " + Data("elastic:no".utf8).base64EncodedString())]] {
                let refused = try await send(url, "/_bulk", create("a"), headers: headers + [ndjson])
                #expect(refused.status == 401)
                #expect((refused.json?["error"] as? [String: Any])?["type"] as? String == "security_exception")
                #expect(refused.json?["status"] as? Int == 401)
            }
            let basic = ("Authorization", "Basic " + Data("elastic:pw".utf8).base64EncodedString())
            #expect(try await send(url, "/_bulk", create("a"), headers: [basic, ndjson]).status == 200)
            #expect(try await send(url, "/_bulk", create("b"), headers: [apiKeyAuth, ndjson]).status == 200)
            #expect(await es.documentCount() == 2)
        }
    }

    @Test func bodyMustEndWithANewline() async throws {
        try await withRunning(ElasticsearchEmulator()) { (es, url) async throws in
            let body = String(create("a").dropLast())
            let reply = try await send(url, "/_bulk", body, headers: [apiKeyAuth, ndjson])
            #expect(reply.status == 400)
            #expect(
                reply.text
                    == #"{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"The bulk request must be terminated by a newline [\\n]"}],"type":"illegal_argument_exception","reason":"The bulk request must be terminated by a newline [\\n]"},"status":400}"#
            )
            #expect(await es.documentCount() == 0)
            #expect(await es.bulkRequests().isEmpty)
        }
    }

    @Test func mixedItemResultsInRequestOrder() async throws {
        try await withRunning(ElasticsearchEmulator()) { (es, url) async throws in
            #expect(try await send(url, "/_bulk", create("dup"), headers: [apiKeyAuth, ndjson]).status == 200)
            await es.failItems(ids: ["busy"], status: 429, type: "es_rejected_execution_exception")
            let longID = String(repeating: "x", count: 513)
            let body =
                create("new") + create("dup") + create("bad", "[1,2]") + create("busy") + create(longID)
                + #"{"index":{"_index":"logs","_id":"dup"}}"# + "\n" + #"{"message":"replaced"}"# + "\n"
            let reply = try await send(url, "/_bulk", body, headers: [apiKeyAuth, ndjson])
            #expect(reply.status == 200)
            #expect(reply.json?["errors"] as? Bool == true)
            #expect(reply.json?["took"] is Int)
            let results = items(reply)
            #expect(results.map(\.0) == ["create", "create", "create", "create", "create", "index"])
            #expect(results.map(\.1) == ["new", "dup", "bad", "busy", longID, "dup"])
            #expect(results.map(\.2) == [201, 409, 400, 429, 400, 200])
            #expect(
                results.map(\.3) == [
                    nil, "version_conflict_engine_exception", "mapper_parsing_exception", "es_rejected_execution_exception",
                    "illegal_argument_exception", nil,
                ])
            let first = try #require((reply.json?["items"] as? [[String: Any]])?.first?["create"] as? [String: Any])
            #expect(first["result"] as? String == "created")
            #expect(first["_index"] as? String == "logs")

            let documents = await es.documents(index: "logs")
            #expect(Set(documents.keys) == ["new", "dup"])
            #expect(documents["dup"] == #"{"message":"replaced"}"#)
            // The scripted failure is used up: the retry of that one item succeeds.
            let retry = try await send(url, "/_bulk", create("busy"), headers: [apiKeyAuth, ndjson])
            #expect(items(retry).map(\.2) == [201])
            #expect(retry.json?["errors"] as? Bool == false)
        }
    }

    @Test func indexFromPathPipelineAndGzip() async throws {
        try await withRunning(ElasticsearchEmulator()) { (es, url) async throws in
            let body = Data((create("a", index: nil) + create("b", index: "other")).utf8)
            let reply = try await send(
                url, "/audit-events/_bulk?pipeline=ocsf-enrich", Zlib.compress(body),
                headers: [apiKeyAuth, ("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
            #expect(reply.status == 200)
            #expect(items(reply).map(\.2) == [201, 201])
            #expect(await es.documents(index: "audit-events").keys.sorted() == ["a"])
            #expect(await es.documents(index: "other").keys.sorted() == ["b"])
            let bulks = await es.bulkRequests()
            #expect(bulks.count == 1)
            #expect(bulks.first?.pathIndex == "audit-events")
            #expect(bulks.first?.pipeline == "ocsf-enrich")
            #expect(bulks.first?.itemCount == 2)
            #expect(bulks.first?.errors == false)

            // No index anywhere: the whole request is invalid.
            let noIndex = try await send(url, "/_bulk", create("c", index: nil), headers: [apiKeyAuth, ndjson])
            #expect(noIndex.status == 400)
        }
    }

    @Test func contentLengthAndContentType() async throws {
        try await withRunning(ElasticsearchEmulator(maxContentLength: 1000)) { (es, url) async throws in
            let big = create("a", #"{"message":""# + String(repeating: "z", count: 2000) + #""}"#)
            #expect(try await send(url, "/_bulk", big, headers: [apiKeyAuth, ndjson]).status == 413)
            // Small on the wire, too big once inflated.
            let zipped = Zlib.compress(Data(big.utf8))
            #expect(zipped.count < 1000)
            #expect(try await send(url, "/_bulk", zipped, headers: [apiKeyAuth, ndjson, ("Content-Encoding", "gzip")]).status == 413)
            #expect(try await send(url, "/_bulk", create("a"), headers: [apiKeyAuth, ("Content-Type", "text/plain")]).status == 406)
            let compatible = ("Content-Type", "application/vnd.elasticsearch+x-ndjson; compatible-with=8")
            #expect(try await send(url, "/_bulk", create("a"), headers: [apiKeyAuth, compatible]).status == 200)
            #expect(await es.documentCount() == 1)
        }
    }
}
