import Foundation
import Testing

@testable import Connectors

@Suite struct ElasticsearchSinkTests {
    let configuration = ElasticsearchConfiguration(
        name: "elastic", endpoint: URL(string: "https://elastic.example:9200")!, auth: .apiKey(Secret("ZW5jb2RlZA==")),
        index: "deepintshield-audit-logs", pipeline: "security-enrichment")

    let batch = (0..<5).map { index in
        EncodedEvent(
            id: AuditEvent.stableID(sourceName: "shield", upstreamID: "\(index)"), time: Date(),
            body: Data(#"{"n":\#(index)}"#.utf8))
    }

    func sink(_ configuration: ElasticsearchConfiguration? = nil) throws -> ElasticsearchSink {
        try ElasticsearchSink(configuration: configuration ?? self.configuration)
    }

    @Test func postsCreateActionsAndDocumentsEndingWithANewline() throws {
        let request = try sink().makeRequest(batch: Array(batch.prefix(2)), now: Date())
        #expect(request.method == "POST")
        #expect(request.url.absoluteString == "https://elastic.example:9200/_bulk?pipeline=security-enrichment")
        #expect(request.header("Content-Type") == "application/x-ndjson")
        #expect(request.header("Authorization") == "ApiKey ZW5jb2RlZA==")
        #expect(request.headers.first { $0.name == "Authorization" }?.isSecret == true)
        let expected = """
            {"create":{"_id":"\(batch[0].id)","_index":"deepintshield-audit-logs"}}
            {"n":0}
            {"create":{"_id":"\(batch[1].id)","_index":"deepintshield-audit-logs"}}
            {"n":1}

            """
        #expect(String(decoding: request.body!, as: UTF8.self) == expected)
        #expect(request.body!.last == UInt8(ascii: "\n"))
    }

    @Test func ourIDsFitElasticsearchsLimit() {
        for event in batch {
            #expect(event.id.utf8.count == 64)
            #expect(event.id.utf8.count <= ElasticsearchSink.maxIDBytes)
        }
    }

    @Test func basicAuthNoPipelineAndAPathPrefix() throws {
        let plain = try sink(
            .init(
                name: "e", endpoint: URL(string: "https://proxy.example/es/")!, auth: .basic(user: "elastic", password: Secret("pw")), index: "i"))
        let request = try plain.makeRequest(batch: [batch[0]], now: Date())
        #expect(request.url.absoluteString == "https://proxy.example/es/_bulk")
        #expect(request.header("Authorization") == "Basic " + Data("elastic:pw".utf8).base64EncodedString())
        #expect(request.headers.first { $0.name == "Authorization" }?.isSecret == true)
        let open = try sink(.init(name: "e", endpoint: URL(string: "http://localhost:9200")!, index: "i"))
        #expect(try open.makeRequest(batch: [batch[0]], now: Date()).header("Authorization") == nil)
        #expect(throws: ElasticsearchSinkError.self) {
            try ElasticsearchSink(configuration: .init(name: "e", endpoint: URL(string: "http://h")!, index: ""))
        }
    }

    @Test func documentsAreKeptOnOneLine() {
        #expect(ElasticsearchSink.singleLine(Data("{\"a\":1}\n".utf8)) == Data("{\"a\":1}".utf8))
        #expect(ElasticsearchSink.singleLine(Data("{\n  \"a\": \"x\\ny\"\r\n}".utf8)) == Data("{   \"a\": \"x\\ny\"  }".utf8))
    }

    @Test func probesTheClusterBanner() throws {
        let probe = try #require(try sink().probeRequest())
        #expect(probe.method == "GET")
        #expect(probe.url.absoluteString == "https://elastic.example:9200/")
        #expect(probe.header("Authorization") == "ApiKey ZW5jb2RlZA==")
    }

    /// PROTOCOLS.md: a non-200 response retries the whole batch (413: split it). Only items are
    /// ever dead-lettered, so an expired key does not dead-letter everything until it is fixed.
    @Test(arguments: [
        (413, "tooLarge"), (429, "retry"), (500, "retry"), (502, "retry"), (503, "retry"), (408, "retry"),
        (400, "retry"), (401, "retry"), (403, "retry"), (404, "retry"),
    ])
    func aNonSuccessAnswerConcernsTheWholeBatch(status: Int, expected: String) throws {
        let body = Data(#"{"error":{"type":"some_exception","reason":"why"},"status":\#(status)}"#.utf8)
        let outcome = try sink().classify(WireResponse(status: status, headers: [("Retry-After", "3")], body: body), batch: batch)
        switch outcome {
        case .tooLarge(let reason): #expect(expected == "tooLarge" && reason == "Elasticsearch HTTP 413: some_exception: why")
        case .retry(let after, let reason):
            #expect(expected == "retry" && after == .seconds(3))
            #expect(reason.hasPrefix("Elasticsearch HTTP \(status): some_exception: why"))
            #expect(reason.contains("check api_key") == [401, 403].contains(status))
            #expect(!reason.contains("ZW5jb2RlZA=="))
        default: Issue.record("unexpected \(outcome)")
        }
    }

    func bulk(errors: Bool, _ items: [(Int, String?)]) -> WireResponse {
        let rendered = items.map { status, error in
            let detail = error.map { #","error":{"type":"\#($0)","reason":"reason \#(status)"}"# } ?? ""
            return #"{"create":{"_index":"i","_id":"x","status":\#(status)\#(detail)}}"#
        }
        return WireResponse(status: 200, body: Data(#"{"took":3,"errors":\#(errors),"items":[\#(rendered.joined(separator: ","))]}"#.utf8))
    }

    @Test func itemsAreJudgedOneByOneInRequestOrder() throws {
        let response = bulk(
            errors: true,
            [
                (201, nil), (409, "version_conflict_engine_exception"), (429, "es_rejected_execution_exception"),
                (503, "unavailable_shards_exception"), (400, "mapper_parsing_exception"),
            ])
        #expect(
            try sink().classify(response, batch: batch)
                == .partial(
                    retry: [2, 3], rejected: [.init(index: 4, status: 400, reason: "mapper_parsing_exception: reason 400")], retryAfter: nil))
    }

    @Test func answersThatLeaveNothingToRetry() throws {
        let sink = try sink()
        #expect(sink.classify(bulk(errors: false, [(201, nil), (201, nil), (201, nil), (201, nil), (201, nil)]), batch: batch) == .delivered)
        #expect(sink.classify(WireResponse(status: 200, body: Data(#"{"took":1,"errors":false}"#.utf8)), batch: batch) == .delivered)
        let conflicts = bulk(errors: true, Array(repeating: (409, "version_conflict_engine_exception"), count: 5))
        #expect(sink.classify(conflicts, batch: batch) == .delivered)
        let oneBad = bulk(errors: true, [(201, nil), (200, nil), (404, "index_not_found_exception"), (201, nil), (201, nil)])
        #expect(
            sink.classify(oneBad, batch: batch)
                == .partial(
                    retry: [], rejected: [.init(index: 2, status: 404, reason: "index_not_found_exception: reason 404")], retryAfter: nil))
    }

    @Test func answersThatCannotBeMatchedRetryTheWholeBatch() throws {
        let sink = try sink()
        for response in [
            bulk(errors: true, [(201, nil), (429, "es_rejected_execution_exception")]),
            WireResponse(status: 200, body: Data("<html>proxy</html>".utf8)),
            WireResponse(status: 200, body: Data(#"{"took":1}"#.utf8)),
            // `errors` is read without building the items, but they must still be JSON.
            WireResponse(status: 200, body: Data(#"{"errors":false,"items":[{"create":{"status":201}},]}"#.utf8)),
            WireResponse(status: 200, body: Data(#"{"errors":false} trailing"#.utf8)),
            WireResponse(status: 200, body: Data(#"{"errors":"false"}"#.utf8)),
        ] {
            guard case .retry = sink.classify(response, batch: batch) else {
                Issue.record("expected a retry for \(String(decoding: response.body, as: UTF8.self))")
                continue
            }
        }
    }
}
