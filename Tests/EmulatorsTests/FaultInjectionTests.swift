import Emulators
import Foundation
import Testing

@Suite struct FaultInjectionTests {
    @Test func unavailableTwiceWithRetryAfterThenSuccess() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed(sixItemsForFaults)
            await emulator.faults.enqueue(.status(503, retryAfter: "2"), times: 2)
            #expect(await emulator.faults.pendingCount == 2)

            let first = try await postJSON(url, ["project": "acme"])
            let second = try await postJSON(url, ["project": "acme"])
            let third = try await postJSON(url, ["project": "acme"])
            #expect([first.status, second.status, third.status] == [Int]([503, 503, 200]))
            #expect(first.header("Retry-After") == "2")
            #expect(second.header("Retry-After") == "2")
            #expect(third.header("Retry-After") == nil)
            #expect(third.ids == [2, 1])
            #expect(await emulator.faults.pendingCount == 0)
            // Faulted requests are recorded too.
            #expect(await emulator.requests().count == 3)
        }
    }

    @Test func statusWithBodyAndTheUnknownErrorEnvelope() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.faults.enqueue(.status(429, body: "slow down"))
            await emulator.faults.enqueue(.status(500))
            let throttled = try await postJSON(url, ["project": "acme"])
            #expect(throttled.status == 429)
            #expect(String(decoding: throttled.body, as: UTF8.self) == "slow down")
            let unknown = try await postJSON(url, ["project": "acme"])
            #expect(unknown.status == 500)
            #expect(unknown.ok == false)
            #expect((unknown.json?["error"] as? [String: Any])?.isEmpty == true)
        }
    }

    @Test func garbageAndTruncatedBodies() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.faults.enqueue(.garbage)
            await emulator.faults.enqueue(.truncatedJSON)
            let garbage = try await postJSON(url, ["project": "acme"])
            #expect(garbage.status == 200)
            #expect(garbage.json == nil)
            #expect(String(decoding: garbage.body, as: UTF8.self).hasPrefix("<html>"))
            let truncated = try await postJSON(url, ["project": "acme"])
            #expect(truncated.status == 200)
            #expect(truncated.body.first == UInt8(ascii: "{"))
            #expect((try? JSONSerialization.jsonObject(with: truncated.body)) == nil)
            // The queue is spent: back to normal.
            #expect(try await postJSON(url, ["project": "acme"]).ok == true)
        }
    }

    @Test func errorEnvelopeIsHTTP200() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.faults.enqueue(.errorEnvelope("database unavailable"))
            let reply = try await postJSON(url, ["project": "acme"])
            #expect(reply.status == 200)
            #expect(reply.ok == false)
            #expect(reply.errorMessage == "database unavailable")
        }
    }

    @Test func delayThenNormalAnswer() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.seed(sixItemsForFaults)
            await emulator.faults.enqueue(.delay(.milliseconds(300)))
            let clock = ContinuousClock()
            let start = clock.now
            let reply = try await postJSON(url, ["project": "acme"])
            #expect(clock.now - start >= .milliseconds(300))
            #expect(reply.ids == [2, 1])
        }
    }

    @Test func delayOutlastsAClientTimeout() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.faults.enqueue(.delay(.seconds(1)))
            await #expect(throws: EmulatorHTTPClient.Failure.self) {
                _ = try await EmulatorHTTPClient.send(
                    method: "POST", url: url.appendingPathComponent("auditLog.list"), timeout: .milliseconds(200))
            }
        }
    }

    @Test func latencyAppliesToEveryRequestUntilCleared() async throws {
        try await withDeploys { (emulator, url) async throws in
            await emulator.faults.setLatency(.milliseconds(150))
            let clock = ContinuousClock()
            for _ in 0..<2 {
                let start = clock.now
                #expect(try await postJSON(url, ["project": "acme"]).ok == true)
                #expect(clock.now - start >= .milliseconds(150))
            }
            await emulator.faults.enqueue(.garbage, times: 3)
            await emulator.faults.clear()
            #expect(await emulator.faults.pendingCount == 0)
            #expect(try await postJSON(url, ["project": "acme"]).ok == true)
        }
    }
}

private let sixItemsForFaults = [
    DeploysAuditItem(id: 1, createdAt: at(0)),
    DeploysAuditItem(id: 2, createdAt: at(1)),
]
