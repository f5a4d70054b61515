import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

@Suite(.awaitedTeardown, .serialized) struct DeliveryTests {
    @Test func onceMovesFiveThousandEventsAndEachArrivesExactlyOnce() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(5000)
        let engine = try harness.engine(try harness.configuration(webhook: "    batch_size: 100"))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(120)) == .complete)
        let webhook = await harness.receiver.receivedEventIDs()
        let file = try harness.fileEventIDs()
        #expect(webhook.count == 5000)
        #expect(Set(webhook) == harness.expectedIDs(items))
        #expect(file.count == 5000)
        #expect(Set(file) == harness.expectedIDs(items))
        // Every delivery was signed and authorized; the spool is empty once both sinks passed.
        #expect(await harness.receiver.deliveries().allSatisfy { $0.signatureValid == true })
        #expect(try engine.store.spoolDepth() == 0)
        await engine.shutdown()
    }

    @Test func eventsSharingSecondsAcrossPageBoundariesAreAllDelivered() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        // 600 events in 6 seconds (100 per second), read 40 at a time: every page boundary
        // falls inside a second, and each second holds more rows than a page.
        let second = Date().addingTimeInterval(-600).timeIntervalSince1970.rounded(.down)
        let items = (0..<600).map { index in
            DeploysAuditItem(id: Int64(index + 1), createdAt: Date(timeIntervalSince1970: second + Double(index / 100)))
        }
        await harness.deploys.seed(items)
        let engine = try harness.engine(try harness.configuration(source: "    page_size: 40", webhook: "    batch_size: 50"))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        let webhook = await harness.receiver.receivedEventIDs()
        #expect(webhook.count == 600)
        #expect(Set(webhook) == harness.expectedIDs(items))
        #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
        await engine.shutdown()
    }

    @Test func aLateEventBehindTheCursorIsDeliveredOnceAndNothingRepeats() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(200, span: 600)
        let engine = try harness.engine(try harness.configuration(webhook: "    batch_size: 20"))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        let cursor = try #require(try engine.store.cursor(source: "deploys").flatMap(RFC3339.parse))
        // Indexed late upstream: it is dated 30 s before the cursor, inside the 2 m overlap.
        let late = DeploysAuditItem(id: 9999, action: "role.grant", createdAt: cursor.addingTimeInterval(-30))
        await harness.deploys.insert(late)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        let webhook = await harness.receiver.receivedEventIDs()
        #expect(webhook.count == 201)
        #expect(Set(webhook) == harness.expectedIDs(items + [late]))
        #expect(try harness.fileEventIDs().count == 201)
        await engine.shutdown()
    }

    @Test func retryAfterIsHonouredThenTheBatchArrivesOnce() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(3)
        await harness.receiver.faults.enqueue(.status(503, retryAfter: "1"), times: 3)
        let clock = VirtualClock()
        let engine = try harness.engine(try harness.configuration(webhook: "    batch_size: 10"), clock: clock)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        #expect(clock.waits == [.seconds(1), .seconds(1), .seconds(1)])
        let webhook = await harness.receiver.receivedEventIDs()
        #expect(webhook.count == 3)
        #expect(Set(webhook) == harness.expectedIDs(items))
        // The same webhook-id on every attempt: the receiver's idempotency key.
        let attempts = await harness.receiver.requests()
        #expect(attempts.count == 4)
        #expect(Set(attempts.compactMap { $0.header("webhook-id") }).count == 1)
        await engine.shutdown()
    }

    @Test func aRejectedEventIsDeadLetteredAndTheRestFlowsOn() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(5)
        await harness.receiver.faults.enqueue(.status(400, body: #"{"error":"bad event"}"#))
        let engine = try harness.engine(try harness.configuration())
        // Exit 1 for the dead letter (a timer must not call it success); the rest went out.
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)).onlyDeadLettered(by: "hook"))
        #expect(await harness.receiver.receivedEventIDs().count == 4)
        let letters = try engine.store.deadLetters(sink: "hook")
        #expect(letters.count == 1)
        #expect(letters.first?.status == 400)
        #expect(letters.first?.reason.contains("bad event") == true)
        // The worker lets a payload go once it is encoded; the dead letter has it back from the spool.
        let payload = try #require(letters.first?.payload)
        #expect(try JSONValue.parse(payload)["id"]?.stringValue == letters.first?.eventID)
        // The file sink is not affected by the webhook's rejection.
        #expect(try harness.fileEventIDs().count == 5)
        // Replayed, it goes out again (to that sink only).
        #expect(try engine.store.replayDeadLetters(sink: "hook") == 1)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        #expect(Set(await harness.receiver.receivedEventIDs()).count == 5)
        #expect(try harness.fileEventIDs().count == 5)
        await engine.shutdown()
    }

    @Test func retriesExhaustedGoToDeadLettersWithTheReason() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(1)
        await harness.receiver.faults.enqueue(.status(502), times: 5)
        let engine = try harness.engine(
            try harness.configuration(webhookRetry: "{ max_attempts: 3, initial_backoff: 1ms }"),
            clock: VirtualClock())
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)).onlyDeadLettered(by: "hook"))
        let letter = try #require(try engine.store.deadLetters(sink: "hook").first)
        #expect(letter.reason.hasPrefix("retries exhausted after 3 attempts: HTTP 502"))
        #expect(await harness.receiver.requests().count == 3)
        await engine.shutdown()
    }

    @Test func upstreamErrorEnvelopeFailsThePollAndKeepsTheCursor() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(30)
        await harness.deploys.faults.enqueue(.errorEnvelope("iam: forbidden"))
        let engine = try harness.engine(try harness.configuration())
        let outcome = await OnceMode.run(engine: engine, deadline: .seconds(60))
        guard case .failed(let problems) = outcome else {
            Issue.record("expected failure, got \(outcome)")
            await engine.shutdown()
            return
        }
        #expect(problems.joined().contains("iam: forbidden"))
        #expect(try engine.store.cursor(source: "deploys") == nil)
        #expect(try engine.store.sourceStates().first?.lastError?.contains("iam: forbidden") == true)
        // The next poll gets everything.
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
        await engine.shutdown()
    }

    /// A source that failed is a failure (exit 1) even when a slow sink also ran past the
    /// deadline: 75 would tell a timer all is well while the source fetched nothing.
    @Test func aFailedSourceOutranksAPassedDeadline() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(30)
        let engine = try harness.engine(try harness.configuration(webhook: "    batch_size: 10"))
        // The webhook answers 503 throughout: the first run spools the events and passes its
        // deadline with them pending. A sink that delivered nothing all run is a failure too
        // (exit 1, not 75: a dead SIEM must fail the timer), named with its last error.
        await harness.receiver.faults.enqueue(.status(503), times: 100_000)
        let first = await OnceMode.run(engine: engine, deadline: .seconds(1))
        guard case .failed(let sinkProblems) = first else {
            Issue.record("expected a failure, got \(first)")
            await engine.shutdown()
            return
        }
        #expect(sinkProblems == ["sink hook delivered nothing this run: HTTP 503"], "\(sinkProblems)")
        await harness.deploys.faults.enqueue(.errorEnvelope("api: unauthorized"))
        let outcome = await OnceMode.run(engine: engine, deadline: .seconds(1))
        guard case .failed(let problems) = outcome else { Issue.record("expected failure, got \(outcome)"); return }
        #expect(problems.joined().contains("api: unauthorized"))
        await engine.shutdown()
    }

    @Test(arguments: ["garbage", "truncated"])
    func aMalformedPageStopsThePollQuotesTheBytesAndLosesNothing(kind: String) async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(250)
        let engine = try harness.engine(try harness.configuration(source: "    page_size: 100\n    concurrency: 1"))
        // The second page is broken: the first page is spooled, the cursor stays put.
        await harness.deploys.faults.enqueue(.delay(.zero))
        await harness.deploys.faults.enqueue(kind == "garbage" ? .garbage : .truncatedJSON)
        let outcome = await OnceMode.run(engine: engine, deadline: .seconds(60))
        guard case .failed(let problems) = outcome else { Issue.record("expected failure, got \(outcome)"); return }
        #expect(problems.joined().contains("deploys.app page is"))
        #expect(try engine.store.cursor(source: "deploys") == nil)
        #expect(try harness.fileEventIDs().count == 100)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        #expect(try harness.fileEventIDs().count == 250)
        #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
        await engine.shutdown()
    }

    @Test func transientUpstreamErrorsAreRetriedHonouringRetryAfter() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(10)
        await harness.deploys.faults.enqueue(.status(429, retryAfter: "2"))
        await harness.deploys.faults.enqueue(.status(500))
        let clock = VirtualClock()
        // One request stream: the 429 and the 500 hit the first page and its retry, in that order.
        let engine = try harness.engine(try harness.configuration(source: "    concurrency: 1"), clock: clock)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        #expect(clock.waits.first == .seconds(2))
        #expect(clock.waits.count == 2)
        #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
        await engine.shutdown()
    }

    @Test func aResponseSlowerThanTheTimeoutAndAResetMidBodyAreRetriedWithoutLoss() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(40)
        await harness.deploys.faults.enqueue(.delay(.seconds(3)))
        await harness.deploys.faults.enqueue(.resetMidBody)
        let clock = VirtualClock()
        let configuration = try ConfigurationLoader.parse(
            harness.configText().replacingOccurrences(of: "timeout: 5s", with: "timeout: 300ms"), environment: harness.environment)
        let engine = try harness.engine(configuration, clock: clock)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        // Two failed attempts (the timeout, the cut body), each followed by a backoff.
        #expect(clock.waits.count == 2)
        #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
        await engine.shutdown()
    }

    @Test func filtersAndRedactionApplyPerSink() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.deploys.seed([
            DeploysAuditItem(id: 1, action: "deployment.deploy", outcome: "success", createdAt: Date().addingTimeInterval(-300)),
            DeploysAuditItem(id: 2, action: "role.grant", outcome: "forbidden", createdAt: Date().addingTimeInterval(-200)),
            DeploysAuditItem(id: 3, action: "role.revoke", outcome: "success", createdAt: Date().addingTimeInterval(-100)),
        ])
        let engine = try harness.engine(
            try harness.configuration(
                webhook: "    filters: { event_types: [authorization], outcomes: [denied] }\n    redact: [actor.email, raw.actor]"))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        let received = try #require(await harness.receiver.receivedEvents())
        #expect(received.count == 1)
        #expect(received.first?["action"] as? String == "role.grant")
        let actor = received.first?["actor"] as? [String: Any]
        #expect(actor?["email"] == nil && actor?["name"] as? String == "Alice")
        #expect((received.first?["raw"] as? [String: Any])?["actor"] == nil)
        #expect(try harness.fileEventIDs().count == 3)
        await engine.shutdown()
    }

    @Test func deadlineLeavesTheRestSpooledForNextTime() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(20)
        // A slow sink that delivers (300 ms an event, 6 s for all): the deadline of 3 s passes
        // with the rest spooled, and nothing failed: 75. (A sink that delivered nothing is 1.) One
        // batch in flight, so the sink's pace is the delay's.
        await harness.receiver.faults.enqueue(.delay(.milliseconds(300)), times: 20)
        let engine = try harness.engine(try harness.configuration(webhook: "    max_in_flight: 1"))
        let outcome = await OnceMode.run(engine: engine, deadline: .seconds(3))
        #expect(outcome == .deadlineExceeded(pendingSinks: ["hook"]))
        #expect(outcome.exitCode == 75)
        await harness.receiver.faults.clear()
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        #expect(Set(await harness.receiver.receivedEventIDs()) == harness.expectedIDs(items))
        await engine.shutdown()
    }

    /// A deadline that cuts a poll short is the deadline (75), not a source failure: the upstream
    /// is slower than the deadline, and what was fetched is spooled.
    @Test func aDeadlineInTheMiddleOfAPollIsTheDeadlineNotAFailure() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(20)
        await harness.deploys.faults.setLatency(.seconds(5))
        let engine = try harness.engine(try harness.configuration())
        let outcome = await OnceMode.run(engine: engine, deadline: .milliseconds(500))
        guard case .deadlineExceeded = outcome else { Issue.record("expected the deadline, got \(outcome)"); return }
        await harness.deploys.faults.setLatency(nil)
        await engine.shutdown()
    }

    /// A sink stopped by 410 Gone says so in `status` (and, after a while, `/readyz`): its offset
    /// holds the spool, so it must not look healthy.
    @Test func aGoneWebhookIsRecordedAsTheSinksError() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(5)
        await harness.receiver.faults.enqueue(.status(410))
        let engine = try harness.engine(try harness.configuration())
        guard case .failed = await OnceMode.run(engine: engine, deadline: .seconds(30)) else {
            Issue.record("expected failure")
            await engine.shutdown()
            return
        }
        let hook = try engine.store.sinkStates().first { $0.sink == "hook" }
        #expect(hook?.lastError?.contains("endpoint is gone") == true, "\(String(describing: hook))")
        await engine.shutdown()
    }

    /// deploys.app is walked newest first, so its cursor moves only when a window is read down to
    /// its oldest page. A walk cut short (here by the `once` deadline) is recorded page by page,
    /// and the next poll goes on where it stopped instead of starting over from the newest page
    /// (with a backlog longer than the deadline, a cron job would otherwise never get anywhere).
    @Test func aNewestFirstWalkCutShortGoesOnWhereItStopped() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(600, span: 20 * 3600)
        await harness.deploys.faults.setLatency(.milliseconds(400))
        let engine = try harness.engine(try harness.configuration())
        let first = await OnceMode.run(engine: engine, deadline: .milliseconds(1500))
        guard case .deadlineExceeded = first else {
            Issue.record("expected the deadline, got \(first)")
            await engine.shutdown()
            return
        }
        #expect(try engine.store.cursor(source: "deploys") == nil)
        #expect(try engine.store.walkProgress(source: "deploys") != nil)
        let asked = await harness.deploys.requests().count
        await harness.deploys.faults.setLatency(nil)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        #expect(try engine.store.walkProgress(source: "deploys") == nil)
        let requests = await harness.deploys.requests()
        func before(_ request: RecordedRequest) -> String {
            ((try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any])?["before"] as? String ?? ""
        }
        // The second run began below the pages the first one stored, not at the newest events.
        #expect(before(requests[asked]) < before(requests[0]), "\(before(requests[asked])) vs \(before(requests[0]))")
        let delivered = try harness.fileEventIDs()
        #expect(delivered.count == items.count)
        #expect(Set(delivered) == harness.expectedIDs(items))
        await engine.shutdown()
    }
}
