import Foundation
import Testing

@testable import Connectors

@Suite struct SplunkHECSinkTests {
    let configuration = SplunkHECConfiguration(
        name: "splunk", endpoint: URL(string: "https://splunk.example:8088/services/collector")!, token: Secret("hec-token-123"),
        sourceType: "deepintshield:audit", index: "security", host: "fwd-1")

    let batch = (0..<4).map { index in
        EncodedEvent(
            id: "id-\(index)", time: Date(timeIntervalSince1970: 1_433_188_255.5 + Double(index)),
            body: Data(#"{"action":"login","n":\#(index)}"#.utf8), source: "shield", eventType: "authentication", severity: "low")
    }

    func sink(_ configuration: SplunkHECConfiguration? = nil) throws -> SplunkHECSink {
        try SplunkHECSink(configuration: configuration ?? self.configuration)
    }

    @Test func postsConcatenatedEnvelopesWithTheEventAsJSON() throws {
        let request = try sink().makeRequest(batch: Array(batch.prefix(2)), now: Date())
        #expect(request.method == "POST")
        #expect(request.url.absoluteString == "https://splunk.example:8088/services/collector")
        #expect(request.header("Content-Type") == "application/json")
        let lines = String(decoding: request.body!, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(
            lines == [
                #"{"event":{"action":"login","n":0},"fields":{"event_type":"authentication","id":"id-0","severity":"low","source_name":"shield"},"host":"fwd-1","index":"security","source":"audit-forwarder","sourcetype":"deepintshield:audit","time":1433188255.5}"#,
                #"{"event":{"action":"login","n":1},"fields":{"event_type":"authentication","id":"id-1","severity":"low","source_name":"shield"},"host":"fwd-1","index":"security","source":"audit-forwarder","sourcetype":"deepintshield:audit","time":1433188256.5}"#,
                "",
            ])
    }

    @Test func optionalMetadataIsLeftOutAndTimeKeepsMilliseconds() throws {
        let bare = try sink(.init(name: "s", endpoint: URL(string: "https://h:8088")!, token: Secret("t")))
        let event = EncodedEvent(id: "a", time: Date(timeIntervalSince1970: 1_700_000_000.123), body: Data("{}".utf8))
        let body = String(decoding: try bare.makeRequest(batch: [event], now: Date()).body!, as: UTF8.self)
        #expect(body == #"{"event":{},"fields":{"id":"a"},"source":"audit-forwarder","time":1700000000.123}"# + "\n")
    }

    @Test func everyRequestCarriesTheTokenAndTheChannel() throws {
        let sink = try sink()
        let requests = [try sink.makeRequest(batch: batch, now: Date()), sink.probeRequest()!, sink.ackRequest(ackIDs: [0, 1])]
        for request in requests {
            #expect(request.header("Authorization") == "Splunk hec-token-123")
            #expect(request.headers.first { $0.name == "Authorization" }?.isSecret == true)
            #expect(request.header("Content-Encoding") == nil)
        }
        for request in [requests[0], requests[2]] {
            #expect(request.header("X-Splunk-Request-Channel") == configuration.channel)
        }
    }

    @Test(arguments: [
        ("https://h:8088/services/collector", "https://h:8088/services/collector", "https://h:8088"),
        ("https://h:8088/services/collector/event", "https://h:8088/services/collector/event", "https://h:8088"),
        ("https://h:8088/services/collector/", "https://h:8088/services/collector/", "https://h:8088"),
        ("https://h:8088", "https://h:8088/services/collector/event", "https://h:8088"),
        ("https://h:8088/services/collector/raw", "https://h:8088/services/collector/event", "https://h:8088"),
        ("https://proxy/splunk/services/collector", "https://proxy/splunk/services/collector", "https://proxy/splunk"),
    ])
    func endpoints(endpoint: String, event: String, base: String) throws {
        let sink = try sink(.init(name: "s", endpoint: URL(string: endpoint)!, token: Secret("t")))
        #expect(sink.eventURL.absoluteString == event)
        #expect(sink.baseURL.absoluteString == base)
        #expect(sink.probeRequest()?.url.absoluteString == event)
        #expect(sink.probeRequest()?.method == "POST" && sink.probeRequest()?.body?.isEmpty == true)
        // "No data" means the token passed; a token refusal is judged by `classify` (permanent).
        #expect(sink.classifyProbe(WireResponse(status: 400, body: Data(#"{"text":"No data","code":5}"#.utf8))) == .delivered)
        #expect(sink.classifyProbe(WireResponse(status: 403, body: Data(#"{"text":"Invalid token","code":4}"#.utf8))) == nil)
    }

    @Test func acknowledgementRequestAndAnswers() throws {
        let sink = try sink()
        let request = sink.ackRequest(ackIDs: [0, 1])
        #expect(request.method == "POST")
        #expect(request.url.absoluteString == "https://splunk.example:8088/services/collector/ack?channel=\(configuration.channel)")
        #expect(request.body == Data(#"{"acks":[0,1]}"#.utf8))
        let answer = WireResponse(status: 200, body: Data(#"{"acks":{"0":true,"1":false}}"#.utf8))
        #expect(SplunkHECSink.parseAcks(answer) == [0: true, 1: false])
        #expect(SplunkHECSink.parseAcks(WireResponse(status: 400, body: Data(#"{"text":"ACK is disabled","code":14}"#.utf8))) == nil)
        #expect(SplunkHECSink.parseAcks(WireResponse(status: 200, body: Data("nope".utf8))) == nil)
        #expect(sink.ackID(in: WireResponse(status: 200, body: Data(#"{"text":"Success","code":0,"ackId":7}"#.utf8))) == 7)
        #expect(sink.ackID(in: WireResponse(status: 200, body: Data(#"{"text":"Success","code":0}"#.utf8))) == nil)
    }

    @Test func theDerivedChannelIsAStableGUIDPerSink() throws {
        let channel = SplunkHECConfiguration.derivedChannel(sinkName: "splunk")
        let uuid = try #require(UUID(uuidString: channel))
        #expect(channel == SplunkHECConfiguration.derivedChannel(sinkName: "splunk"))
        #expect(channel != SplunkHECConfiguration.derivedChannel(sinkName: "splunk-2"))
        #expect(uuid.uuidString.lowercased() == channel)
        #expect(Array(channel)[14] == "5")  // version 5
        #expect("89ab".contains(Array(channel)[19]))  // RFC variant
        #expect(configuration.channel == channel)
        let explicit = SplunkHECConfiguration(
            name: "s", endpoint: URL(string: "https://h")!, token: Secret("t"), channel: "0C4E8D7A-59B0-4B22-8E0C-2D3F5B6A7C81")
        #expect(try sink(explicit).makeRequest(batch: batch, now: Date()).header("X-Splunk-Request-Channel") == explicit.channel)
        #expect(throws: SplunkHECSinkError.self) {
            try SplunkHECSink(configuration: .init(name: "s", endpoint: URL(string: "https://h")!, token: Secret("t"), channel: "abc"))
        }
    }

    func reply(_ code: Int, status: Int, invalidEvent: Int? = nil, retryAfter: String? = nil) -> WireResponse {
        var body = #"{"text":"Text \#(code)","code":\#(code)"#
        if let invalidEvent { body += #","invalid-event-number":\#(invalidEvent)"# }
        return WireResponse(status: status, headers: retryAfter.map { [("Retry-After", $0)] } ?? [], body: Data((body + "}").utf8))
    }

    @Test(arguments: [
        (0, 200, "delivered"), (1, 403, "rejected"), (2, 401, "rejected"), (3, 401, "rejected"), (4, 403, "rejected"),
        (5, 400, "rejected"), (7, 400, "rejected"), (8, 500, "retry"), (9, 503, "retry"), (10, 400, "rejected"),
        (11, 400, "rejected"), (14, 400, "rejected"), (18, 503, "retry"), (19, 503, "retry"), (20, 503, "retry"),
        (23, 503, "retry"), (26, 429, "retry"), (27, 429, "retry"),
    ])
    func classifiesEveryHECCode(code: Int, status: Int, expected: String) throws {
        let outcome = try sink().classify(reply(code, status: status, invalidEvent: code == 7 ? 1 : nil, retryAfter: "9"), batch: batch)
        switch outcome {
        case .delivered:
            #expect(expected == "delivered")
        case .retry(let after, let reason):
            #expect(expected == "retry" && after == .seconds(9))
            #expect(reason == "Splunk HEC code \(code): Text \(code)")
        case .rejected(let rejectedStatus, let reason):
            #expect(expected == "rejected" && rejectedStatus == status)
            #expect(reason.hasPrefix("Splunk HEC code \(code): Text \(code)"))
            #expect(reason.contains("hec_token") == (status != 400))
            #expect(!reason.contains("hec-token-123"))
        default:
            Issue.record("unexpected \(outcome)")
        }
    }

    /// Over `max_content_length` (1 MB on older Splunk): split, not dead-lettered.
    @Test func a413SplitsTheBatch() throws {
        let outcome = try sink().classify(WireResponse(status: 413, body: Data("Content-Length too large".utf8)), batch: batch)
        guard case .tooLarge = outcome else { Issue.record("unexpected \(outcome)"); return }
    }

    @Test(arguments: [6, 12, 13, 15])
    func anInvalidEventIsRejectedAndTheOnesAfterItRetried(code: Int) throws {
        let outcome = try sink().classify(reply(code, status: 400, invalidEvent: 1), batch: batch)
        #expect(
            outcome
                == .partial(
                    retry: [2, 3], rejected: [.init(index: 1, status: 400, reason: "Splunk HEC code \(code): Text \(code) (event 1 of the batch)")],
                    retryAfter: nil))
        let last = try sink().classify(reply(code, status: 400, invalidEvent: 3), batch: batch)
        guard case .partial(let retry, let rejected, _) = last else { Issue.record("unexpected outcome"); return }
        #expect(retry.isEmpty && rejected.map(\.index) == [3])
        let outOfRange = try sink().classify(reply(code, status: 400, invalidEvent: 9), batch: batch)
        guard case .rejected(400, _) = outOfRange else { Issue.record("unexpected outcome"); return }
    }

    @Test func aBodyThatIsNotHECsFallsBackToTheStatus() throws {
        let sink = try sink()
        let html = Data("<html>bad gateway</html>".utf8)
        // A 200 that is not HEC's (Splunk Web on the wrong port, a proxy) is not counted delivered.
        guard case .retry(nil, let unread) = sink.classify(WireResponse(status: 200, body: html), batch: batch) else {
            Issue.record("unexpected outcome"); return
        }
        #expect(unread.contains("not a HEC answer"))
        #expect(sink.classify(WireResponse(status: 200), batch: batch) == .delivered)
        guard case .retry = sink.classify(WireResponse(status: 502, body: html), batch: batch) else { Issue.record("unexpected outcome"); return }
        guard case .retry = sink.classify(WireResponse(status: 408), batch: batch) else { Issue.record("unexpected outcome"); return }
        guard case .rejected(400, let reason) = sink.classify(WireResponse(status: 400, body: html), batch: batch) else {
            Issue.record("unexpected outcome"); return
        }
        #expect(reason.contains("bad gateway"))
        guard case .rejected(404, _) = sink.classify(WireResponse(status: 404, body: html), batch: batch) else {
            Issue.record("unexpected outcome"); return
        }
    }

    @Test func theHealthAnswerCountsAsReachable() throws {
        #expect(try sink().classify(reply(17, status: 200), batch: []) == .delivered)
    }
}
