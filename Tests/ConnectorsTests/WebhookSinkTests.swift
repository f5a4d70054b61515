import Crypto
import Foundation
import Testing

@testable import Connectors

@Suite struct WebhookSinkTests {
    @Test func signatureMatchesTheStandardWebhooksTestVector() throws {
        let key = try #require(WebhookSignature.key(fromSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = WebhookSignature.sign(
            key: key, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Data(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func malformedSecretIsRefused() {
        #expect(WebhookSignature.key(fromSecret: "whsec_!!!") == nil)
        #expect(throws: WebhookSinkError.self) {
            try WebhookSink(configuration: .init(name: "w", url: URL(string: "http://x")!, signingSecret: Secret("whsec_")))
        }
    }

    let events = [
        EncodedEvent(id: "id-1", time: Date(), body: Data(#"{"id":"id-1"}"#.utf8)),
        EncodedEvent(id: "id-2", time: Date(), body: Data(#"{"id":"id-2"}"#.utf8)),
    ]

    @Test func oneEventIsPostedAsAnObjectWithItsIdAsWebhookId() throws {
        let sink = try WebhookSink(
            configuration: .init(
                name: "w", url: URL(string: "https://hooks.example/a")!, auth: .bearer(Secret("tok")),
                signingSecret: Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")))
        let request = try sink.makeRequest(batch: [events[0]], now: Date(timeIntervalSince1970: 1_614_265_330))
        #expect(request.body == events[0].body)
        #expect(request.header("webhook-id") == "id-1")
        #expect(request.header("webhook-timestamp") == "1614265330")
        #expect(request.header("Authorization") == "Bearer tok")
        #expect(request.headers.first { $0.name == "Authorization" }?.isSecret == true)
        let key = try #require(WebhookSignature.key(fromSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        #expect(request.header("webhook-signature") == WebhookSignature.sign(key: key, id: "id-1", timestamp: 1_614_265_330, body: events[0].body))
    }

    @Test func aBatchIsAnArrayWhoseWebhookIdIsStableAcrossRetries() throws {
        let sink = try WebhookSink(configuration: .init(name: "w", url: URL(string: "https://hooks.example/a")!, batchSize: 10))
        let first = try sink.makeRequest(batch: events, now: Date(timeIntervalSince1970: 1))
        let retry = try sink.makeRequest(batch: events, now: Date(timeIntervalSince1970: 99))
        #expect(first.body == Data(#"[{"id":"id-1"},{"id":"id-2"}]"#.utf8))
        #expect(first.header("webhook-id") == retry.header("webhook-id"))
        #expect(first.header("webhook-id")?.hasPrefix("msg_") == true)
        #expect(first.header("webhook-timestamp") != retry.header("webhook-timestamp"))
        let other = try sink.makeRequest(batch: [events[1], events[0]], now: Date())
        #expect(other.header("webhook-id") != first.header("webhook-id"))
        #expect(first.header("webhook-signature") == nil)
    }

    @Test(arguments: [
        (200, "delivered"), (204, "delivered"), (410, "gone"), (400, "rejected"), (401, "rejected"),
        (302, "rejected"), (408, "retry"), (429, "retry"), (500, "retry"), (502, "retry"), (503, "retry"), (504, "retry"),
        (413, "tooLarge"),
    ])
    func classifiesEveryStatus(status: Int, expected: String) throws {
        let sink = try WebhookSink(configuration: .init(name: "w", url: URL(string: "https://hooks.example/a")!))
        let outcome = sink.classify(WireResponse(status: status, headers: [("Retry-After", "7")]), batch: events)
        switch outcome {
        case .delivered: #expect(expected == "delivered")
        case .gone: #expect(expected == "gone")
        case .rejected(let code, _): #expect(expected == "rejected" && code == status)
        case .retry(let after, _): #expect(expected == "retry" && after == .seconds(7))
        case .partial: Issue.record("unexpected partial")
        case .tooLarge: #expect(expected == "tooLarge")
        }
    }

    @Test func retryAfterAcceptsSecondsAndHTTPDates() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryAfter.parse("120") == .seconds(120))
        #expect(RetryAfter.parse("1.5") == .milliseconds(1500))
        let date = "Tue, 14 Nov 2023 22:13:27 GMT"  // now + 7s
        #expect(RetryAfter.parse(date, now: now) == .seconds(7))
        #expect(RetryAfter.parse("soon") == nil)
        #expect(RetryAfter.parse(nil) == nil)
        #expect(RetryAfter.parse("-3") == nil)
    }
}
