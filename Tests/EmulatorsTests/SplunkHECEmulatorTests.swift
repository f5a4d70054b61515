import Emulators
import Foundation
import Testing

private let token = "splunk-test-token"
private let auth = ("Authorization", "Splunk \(token)")
private let channel = "11111111-2222-3333-4444-555555555555"

private func event(_ n: Int, index: String? = nil) -> String {
    var envelope = #"{"time":1433188255.5,"host":"h","source":"s","sourcetype":"_json","event":{"id":"e\#(n)"},"fields":{"k":"v","list":["a","b"]}"#
    if let index { envelope += #","index":"\#(index)""# }
    return envelope + "}"
}

@Suite struct SplunkHECEmulatorTests {
    @Test func batchOfConcatenatedEnvelopesIsIndexed() async throws {
        try await withRunning(SplunkHECEmulator()) { (hec, url) async throws in
            let body = event(1) + event(2) + "\n\n  " + event(3) + "\n"
            let reply = try await send(url, "/services/collector/event", body, headers: [auth])
            #expect(reply.status == 200)
            #expect(reply.json?["text"] as? String == "Success")
            #expect(reply.hecCode == 0)
            #expect(reply.json?["ackId"] == nil)
            let events = await hec.indexedEvents()
            #expect(events.map(\.event) == [#"{"id":"e1"}"#, #"{"id":"e2"}"#, #"{"id":"e3"}"#])
            #expect(events.first?.time == 1433188255.5)
            #expect(events.first?.sourcetype == "_json")
            #expect(events.first?.fields == #"{"k":"v","list":["a","b"]}"#)
            #expect(events.first?.token == token)
            // /services/collector is the same endpoint.
            #expect(try await send(url, "/services/collector", event(4), headers: [auth]).hecCode == 0)
            #expect(await hec.indexedEvents().count == 4)
        }
    }

    @Test func eachAuthBranch() async throws {
        let hec = SplunkHECEmulator(tokens: [token: SplunkToken(), "off": SplunkToken(disabled: true)])
        try await withRunning(hec) { (hec, url) async throws in
            func code(_ headers: [(String, String)]) async throws -> (Int, Int?) {
                let reply = try await send(url, "/services/collector/event", event(1), headers: headers)
                return (reply.status, reply.hecCode)
            }
            #expect(try await code([]) == (401, 2))
            #expect(try await code([("Authorization", "Bearer \(token)")]) == (401, 3))
            #expect(try await code([("Authorization", "Splunk nope")]) == (403, 4))
            #expect(try await code([("Authorization", "Splunk off")]) == (403, 1))
            #expect(try await code([auth]) == (200, 0))
            #expect(await hec.indexedEvents().count == 1)
        }
    }

    @Test func perEventCodesCarryTheEventNumberAndIndexWhatCameBefore() async throws {
        try await withRunning(SplunkHECEmulator(indexes: ["audit"])) { (hec, url) async throws in
            func post(_ body: String) async throws -> Reply {
                try await send(url, "/services/collector/event", body, headers: [auth])
            }
            let cases: [(String, Int, Int)] = [
                (event(1) + #"{"time":1,"host":"h"}"#, 12, 1),
                (event(1) + event(2) + #"{"event":""}"#, 13, 2),
                (#"{"event":null}"#, 13, 0),
                (event(1) + #"{"event": {"a": 1}"#, 6, 1),  // cut short
                (event(1) + #"{"event": tru}"#, 6, 1),  // not JSON
                (event(1) + #"{"event": {"a": [1,]}}"#, 6, 1),  // balanced, but not JSON inside
                (#"{"event":"x","host":5}"#, 6, 0),  // metadata of the wrong type
                (event(1) + #"{"event":"x","time":"soon"}"#, 6, 1),
                (event(1, index: "audit") + event(2, index: "main"), 7, 1),
                (#"{"event":"x","fields":{"nested":{"a":1}}}"#, 15, 0),
            ]
            var expectedIndexed = 0
            for (body, code, number) in cases {
                let reply = try await post(body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.hecCode == code, "\(body)")
                #expect(reply.json?["invalid-event-number"] as? Int == number, "\(body)")
                expectedIndexed += number
            }
            #expect(await hec.indexedEvents().count == expectedIndexed)

            let empty = try await post("  \n")
            #expect(empty.status == 400)
            #expect(empty.hecCode == 5)
            #expect(empty.json?["text"] as? String == "No data")
        }
    }

    @Test func rawEndpointAndHealth() async throws {
        try await withRunning(SplunkHECEmulator(indexes: ["audit"])) { (hec, url) async throws in
            let reply = try await send(url, "/services/collector/raw?index=audit&sourcetype=syslog", "line one\nline two\n", headers: [auth])
            #expect(reply.hecCode == 0)
            let events = await hec.indexedEvents()
            #expect(events.map(\.event) == [#""line one""#, #""line two""#])
            #expect(events.first?.index == "audit")
            #expect(events.first?.sourcetype == "syslog")
            #expect(try await send(url, "/services/collector/raw?index=main", "x", headers: [auth]).hecCode == 7)

            let health = try await send(url, "/services/collector/health", method: "GET")
            #expect(health.status == 200)
            #expect(health.json?["text"] as? String == "HEC is healthy")
            #expect(health.hecCode == 17)
        }
    }

    @Test func gzipIsAcceptedAndDeflateIsNot() async throws {
        try await withRunning(SplunkHECEmulator()) { (hec, url) async throws in
            let body = Data((event(1) + event(2)).utf8)
            let gzip = try await send(url, "/services/collector/event", Zlib.compress(body), headers: [auth, ("Content-Encoding", "gzip")])
            #expect(gzip.hecCode == 0)
            let deflate = try await send(
                url, "/services/collector/event", Zlib.compress(body, format: .zlib), headers: [auth, ("Content-Encoding", "deflate")])
            #expect(deflate.hecCode == 6)
            #expect(await hec.indexedEvents().count == 2)
        }
    }

    @Test func acknowledgementChannelAndPolling() async throws {
        try await withRunning(SplunkHECEmulator(acknowledgements: true)) { (hec, url) async throws in
            let noChannel = try await send(url, "/services/collector/event", event(1), headers: [auth])
            #expect(noChannel.status == 400)
            #expect(noChannel.hecCode == 10)
            let badChannel = try await send(url, "/services/collector/event", event(1), headers: [auth, ("X-Splunk-Request-Channel", "abc")])
            #expect(badChannel.hecCode == 11)
            #expect(await hec.indexedEvents().isEmpty)

            let withChannel = [auth, ("X-Splunk-Request-Channel", channel)]
            let first = try await send(url, "/services/collector/event", event(1), headers: withChannel)
            let second = try await send(url, "/services/collector/event", event(2), headers: withChannel)
            #expect(first.json?["ackId"] as? Int == 0)
            #expect(second.json?["ackId"] as? Int == 1)
            #expect(await hec.indexedEvents().first?.channel == channel)

            func poll(_ ids: String) async throws -> [String: Bool] {
                let reply = try await send(url, "/services/collector/ack?channel=\(channel)", #"{"acks":[\#(ids)]}"#, headers: [auth])
                #expect(reply.status == 200)
                return (reply.json?["acks"] as? [String: Bool]) ?? [:]
            }
            #expect(try await poll("0,1") == ["0": false, "1": false])
            #expect(try await poll("0") == ["0": true])
            // Reported once, then forgotten.
            #expect(try await poll("0,1") == ["0": false, "1": true])
            #expect(try await poll("0,1,7") == ["0": false, "1": false, "7": false])

            let missing = try await send(url, "/services/collector/ack", #"{"acks":[0]}"#, headers: [auth])
            #expect(missing.hecCode == 10)
        }
    }

    @Test func lostAckNeverTurnsTrueAndDelayIsConfigurable() async throws {
        try await withRunning(SplunkHECEmulator(acknowledgements: true)) { (hec, url) async throws in
            await hec.setAckDelayPolls(0)
            await hec.loseAck(1)
            let headers = [auth, ("X-Splunk-Request-Channel", channel)]
            _ = try await send(url, "/services/collector/event", event(1), headers: headers)
            _ = try await send(url, "/services/collector/event", event(2), headers: headers)
            for _ in 0..<3 {
                let reply = try await send(url, "/services/collector/ack", #"{"acks":[1]}"#, headers: headers)
                #expect(reply.json?["acks"] as? [String: Bool] == ["1": false])
            }
            let zero = try await send(url, "/services/collector/ack", #"{"acks":[0]}"#, headers: headers)
            #expect(zero.json?["acks"] as? [String: Bool] == ["0": true])
        }
    }

    @Test func ackOnATokenWithoutAcksIsCode14() async throws {
        try await withRunning(SplunkHECEmulator()) { (_, url) async throws in
            let reply = try await send(
                url, "/services/collector/ack?channel=\(channel)", #"{"acks":[0]}"#, headers: [auth])
            #expect(reply.status == 400)
            #expect(reply.hecCode == 14)
        }
    }

    @Test func failNextAnswersTheHECCodeWithItsStatus() async throws {
        try await withRunning(SplunkHECEmulator()) { (hec, url) async throws in
            await hec.failNext(code: 9, times: 2)
            await hec.failNext(code: 26, retryAfter: "3")
            let busy = try await send(url, "/services/collector/event", event(1), headers: [auth])
            #expect(busy.status == 503)
            #expect(busy.json?["text"] as? String == "Server is busy")
            #expect(try await send(url, "/services/collector/event", event(1), headers: [auth]).status == 503)
            let full = try await send(url, "/services/collector/event", event(1), headers: [auth])
            #expect(full.status == 429)
            #expect(full.hecCode == 26)
            #expect(full.header("Retry-After") == "3")
            #expect(await hec.indexedEvents().isEmpty)
            #expect(try await send(url, "/services/collector/event", event(1), headers: [auth]).hecCode == 0)

            await hec.faults.enqueue(.status(503, retryAfter: "1"))
            let faulted = try await send(url, "/services/collector/event", event(1), headers: [auth])
            #expect(faulted.status == 503)
            #expect(faulted.hecCode == 9)
            #expect(await hec.requests().count == 5)
        }
    }
}
