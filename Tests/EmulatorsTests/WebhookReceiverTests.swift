import Emulators
import Foundation
import Testing

private let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/// Headers of a correctly signed Standard Webhooks request.
private func signed(_ body: Data, id: String = "msg_1", timestamp: String = "1614265330") -> [(String, String)] {
    [
        ("webhook-id", id),
        ("webhook-timestamp", timestamp),
        ("webhook-signature", StandardWebhooks.signature(secret: secret, id: id, timestamp: timestamp, body: body)!),
    ]
}

@Suite struct StandardWebhooksTests {
    @Test func protocolVector() {
        let signature = StandardWebhooks.signature(
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: "1614265330",
            body: Data(#"{"test": 2432232314}"#.utf8)
        )
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func malformedSecretGivesNil() {
        #expect(StandardWebhooks.signature(secret: "whsec_", id: "a", timestamp: "1", body: Data()) == nil)
        #expect(StandardWebhooks.signature(secret: "whsec_!!!not base64!!!", id: "a", timestamp: "1", body: Data()) == nil)
    }

    @Test func verifyAcceptsAnyMatchingEntry() {
        let body = Data(#"{"test": 2432232314}"#.utf8)
        let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
        #expect(StandardWebhooks.verify(secret: secret, id: id, timestamp: "1614265330", body: body, signatureHeader: "v1,AAAA \(good)"))
        #expect(!StandardWebhooks.verify(secret: secret, id: id, timestamp: "1614265331", body: body, signatureHeader: good))
        #expect(!StandardWebhooks.verify(secret: secret, id: id, timestamp: "1614265330", body: body, signatureHeader: "v2," + good.dropFirst(3)))
    }
}

@Suite struct WebhookReceiverTests {
    @Test func signedDeliveryIsAccepted() async throws {
        try await withWebhook(WebhookReceiver(signingSecret: secret)) { (receiver, url) async throws in
            let body = Data(#"{"id":"evt_1","class_uid":6003}"#.utf8)
            let reply = try await post(url, "/hooks/audit", body, headers: signed(body, id: "msg_42"))
            #expect(reply.status == 200)
            #expect(reply.body.isEmpty)
            let deliveries = await receiver.deliveries()
            #expect(deliveries.count == 1)
            #expect(deliveries.first?.webhookID == "msg_42")
            #expect(deliveries.first?.timestamp == "1614265330")
            #expect(deliveries.first?.signatureValid == true)
            #expect(deliveries.first?.body == body)
            #expect(await receiver.receivedEventIDs() == ["evt_1"])
        }
    }

    @Test func badOrMissingSignatureIs401() async throws {
        try await withWebhook(WebhookReceiver(signingSecret: secret)) { (receiver, url) async throws in
            let body = Data(#"{"id":"evt_1"}"#.utf8)
            var tampered = signed(body)
            tampered[2].1 = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
            #expect(try await post(url, "/", body, headers: tampered).status == 401)
            #expect(try await post(url, "/", body, headers: Array(signed(body).prefix(2))).status == 401)
            // Signed for other bytes than those sent.
            #expect(try await post(url, "/", Data(#"{"id":"evt_2"}"#.utf8), headers: signed(body)).status == 401)
            #expect(await receiver.deliveries().isEmpty)
            #expect(await receiver.requests().count == 3)
        }
    }

    @Test func staleTimestampIsRefusedWhenToleranceIsSet() async throws {
        try await withWebhook(WebhookReceiver(signingSecret: secret, timestampTolerance: .seconds(300))) { (receiver, url) async throws in
            let body = Data(#"{"id":"evt_1"}"#.utf8)
            #expect(try await post(url, "/", body, headers: signed(body)).status == 401)
            let now = String(Int(Date().timeIntervalSince1970))
            #expect(try await post(url, "/", body, headers: signed(body, timestamp: now)).status == 200)
            #expect(await receiver.deliveries().count == 1)
        }
    }

    @Test func bearerAndBasicAuthentication() async throws {
        let body = Data(#"{"id":"evt_1"}"#.utf8)
        try await withWebhook(WebhookReceiver(bearerToken: "s3cret")) { (receiver, url) async throws in
            #expect(try await post(url, "/", body).status == 401)
            #expect(try await post(url, "/", body, token: "wrong").status == 401)
            #expect(try await post(url, "/", body, token: "s3cret").status == 200)
            #expect(await receiver.receivedEventIDs() == ["evt_1"])
        }
        try await withWebhook(WebhookReceiver(basic: ("splunk", "pw"))) { (receiver, url) async throws in
            let good = "Basic " + Data("splunk:pw".utf8).base64EncodedString()
            let bad = "Basic " + Data("splunk:nope".utf8).base64EncodedString()
            #expect(try await post(url, "/", body, headers: [("Authorization", bad)]).status == 401)
            #expect(try await post(url, "/", body, headers: [("Authorization", good)]).status == 200)
            #expect(await receiver.deliveries().count == 1)
        }
    }

    @Test func eventIDsFromObjectAndArrayBodies() async throws {
        try await withWebhook { (receiver, url) async throws in
            _ = try await post(url, "/", Data(#"{"id":"a","n":1}"#.utf8))
            _ = try await post(url, "/", Data(#"[{"id":"b"},{"id":"c"},{"id":7}]"#.utf8))
            _ = try await post(url, "/", Data(#"{"id":"a","n":1}"#.utf8))  // a retry: kept
            #expect(await receiver.receivedEventIDs() == ["a", "b", "c", "7", "a"])
            #expect(await receiver.deliveries().map(\.eventIDs) == [["a"], ["b", "c", "7"], ["a"]])
            #expect(await receiver.deliveries().first?.signatureValid == nil)
            let events = try #require(await receiver.receivedEvents())
            #expect(events.count == 5)
            #expect(events[0]["n"] as? Int == 1)
            #expect(events[1]["id"] as? String == "b")
        }
    }

    @Test func nonJSONBodyIs400AndNotPostIs405() async throws {
        try await withWebhook { (receiver, url) async throws in
            #expect(try await post(url, "/", Data("id=a".utf8)).status == 400)
            #expect(try await post(url, "/", Data("[1,2]".utf8)).status == 400)
            #expect(try await post(url, "/", Data(), method: "GET").status == 405)
            #expect(await receiver.deliveries().isEmpty)
            #expect(await receiver.requests().count == 3)
        }
    }

    @Test func faultsComeBeforeAcceptance() async throws {
        try await withWebhook(WebhookReceiver(signingSecret: secret)) { (receiver, url) async throws in
            await receiver.faults.enqueue(.status(503, retryAfter: "1"))
            await receiver.faults.enqueue(.errorEnvelope("boom"))
            let body = Data(#"{"id":"evt_1"}"#.utf8)
            let first = try await post(url, "/", body, headers: signed(body))
            #expect(first.status == 503)
            #expect(first.header("retry-after") == "1")
            #expect(try await post(url, "/", body, headers: signed(body)).status == 500)
            #expect(try await post(url, "/", body, headers: signed(body)).status == 200)
            #expect(await receiver.requests().count == 3)
            #expect(await receiver.receivedEventIDs() == ["evt_1"])
        }
    }

    @Test func garbageFaultStillDeliversBecause200IsSuccess() async throws {
        try await withWebhook { (receiver, url) async throws in
            await receiver.faults.enqueue(.garbage)
            let reply = try await post(url, "/", Data(#"{"id":"evt_1"}"#.utf8))
            #expect(reply.status == 200)
            #expect(!reply.body.isEmpty)
            #expect(await receiver.receivedEventIDs() == ["evt_1"])
        }
    }

    @Test func resetForgetsEverything() async throws {
        try await withWebhook { (receiver, url) async throws in
            _ = try await post(url, "/", Data(#"{"id":"a"}"#.utf8))
            await receiver.faults.enqueue(.status(500))
            await receiver.reset()
            #expect(await receiver.deliveries().isEmpty)
            #expect(await receiver.requests().isEmpty)
            #expect(await receiver.faults.pendingCount == 0)
        }
    }
}
