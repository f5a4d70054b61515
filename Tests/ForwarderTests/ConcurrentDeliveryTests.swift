import Checkpoint
import Connectors
import Emulators
import Foundation
import Synchronization
import Testing

@testable import Forwarder

/// Issue 18, item 1: several batches in flight per HTTP sink, their number adapted to the sink,
/// the offset moving only over delivered batches.
@Suite(.serialized) struct ConcurrentDeliveryTests {
    @Test func theLimitRisesWhileLatencyHoldsAndHalvesOnBackPressure() {
        var limit = ConcurrencyLimit(ceiling: 6)
        #expect(limit.current == 1)
        for _ in 0..<10 { limit.record(batches: limit.current, latency: 0.050, backPressure: false) }
        #expect(limit.current == 6, "rises by one per full round while latency holds, up to the ceiling")
        limit.record(batches: 6, latency: 0.050, backPressure: true)
        #expect(limit.current == 3)
        limit.record(batches: 3, latency: 0.050, backPressure: true)
        limit.record(batches: 1, latency: 0.050, backPressure: true)
        #expect(limit.current == 1, "never below one")
        // A round that did not use the whole limit says nothing about more.
        limit.record(batches: 0, latency: 0.050, backPressure: false)
        #expect(limit.current == 1)
        for _ in 0..<3 { limit.record(batches: limit.current, latency: 0.050, backPressure: false) }
        #expect(limit.current == 4)
        // The sink queues our requests: latency doubles, the limit steps down.
        limit.record(batches: 4, latency: 0.200, backPressure: false)
        #expect(limit.current == 3)
        #expect(ConcurrencyLimit(ceiling: 0).ceiling == 1)
    }

    /// Against sinks that answer 100 ms late, the worker sends several batches at once, never more
    /// than `max_in_flight`, and every event arrives once.
    @Test func slowSinksGetSeveralBatchesInFlightAndEveryEventOnce() async throws {
        let harness = try await Harness.start()
        let splunk = SplunkHECEmulator(token: "hec-token", indexes: ["security"])
        let elastic = ElasticsearchEmulator(apiKey: "es-key")
        let splunkURL = try await splunk.start()
        let elasticURL = try await elastic.start()
        await splunk.faults.setLatency(.milliseconds(100))
        await elastic.faults.setLatency(.milliseconds(100))
        let items = await harness.seed(3000)
        let engine = try harness.engine(
            try harness.configuration(
                file: """
                      - { name: splunk, type: splunk, hec_endpoint: "\(splunkURL.absoluteString)/services/collector", hec_token: hec-token, index: security, batch_size: 100, max_in_flight: 4 }
                      - { name: elastic, type: elastic, endpoint: "\(elasticURL.absoluteString)", api_key: es-key, index: audit, batch_size: 100, max_in_flight: 4 }
                    """))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(120)) == .complete)
        let expected = harness.expectedIDs(items)
        let indexed = await splunk.indexedEvents().compactMap(\.forwardedEventID)
        #expect(indexed.count == expected.count)
        #expect(Set(indexed) == expected)
        #expect(Set(await elastic.documents(index: "audit").keys) == expected)
        #expect(await elastic.requests().count == 30, "each batch sent once")
        for (name, faults) in [("splunk", splunk.faults), ("elastic", elastic.faults)] {
            let peak = await faults.peakConcurrentRequests
            #expect((2...4).contains(peak), "\(name): \(peak) requests at once")
        }
        let store = engine.store
        #expect(try store.deadLetters().isEmpty)
        #expect(try store.offset(sink: "elastic") == store.offset(sink: "splunk"))
        await engine.shutdown()
        await splunk.stop()
        await elastic.stop()
        await harness.stop()
    }

    /// Batches of large events go out fewer at once: at most `maxBytesInFlight` of spooled events
    /// past the first batch, whatever `max_in_flight` allows, and every event still arrives once.
    @Test func largeBatchesAreBoundedByBytesInFlight() async throws {
        let harness = try await Harness.start()
        let elastic = ElasticsearchEmulator(apiKey: "es-key")
        let elasticURL = try await elastic.start()
        await elastic.faults.setLatency(.milliseconds(100))
        let items = await harness.seed(2000)
        var configuration = try harness.configuration(
            file: """
                  - { name: elastic, type: elastic, endpoint: "\(elasticURL.absoluteString)", api_key: es-key, index: audit, batch_size: 100, max_in_flight: 8 }
                """)
        let index = try #require(configuration.sinks.firstIndex { $0.name == "elastic" })
        // A batch of 100 of these events is some tens of KB, past this bound: each goes alone,
        // where `max_in_flight: 8` would have several out (`slowSinksGetSeveralBatchesInFlight…`).
        configuration.sinks[index].maxBytesInFlight = 20_000
        let engine = try harness.engine(configuration)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(120)) == .complete)
        #expect(Set(await elastic.documents(index: "audit").keys) == harness.expectedIDs(items))
        #expect(await elastic.requests().count == 20, "each batch sent once")
        let peak = await elastic.faults.peakConcurrentRequests
        #expect(peak == 1, "\(peak) requests at once")
        await engine.shutdown()
        await elastic.stop()
        await harness.stop()
    }

    /// A sink that answers 503 while several batches are out: each failed batch is retried on its
    /// own, the limit halves, nothing is lost or stored twice, and the offset only moves once every
    /// batch of a round is in.
    @Test func backPressureWhileSeveralAreOutLosesNothing() async throws {
        let harness = try await Harness.start()
        let elastic = ElasticsearchEmulator(apiKey: "es-key")
        let elasticURL = try await elastic.start()
        await elastic.faults.setLatency(.milliseconds(50))
        let items = await harness.seed(4000)
        let engine = try harness.engine(
            try harness.configuration(
                file: """
                      - { name: elastic, type: elastic, endpoint: "\(elasticURL.absoluteString)", api_key: es-key, index: audit, batch_size: 100, retry: { initial_backoff: 10ms, max_backoff: 50ms } }
                    """))
        let faults = elastic.faults
        // Once the limit has grown, three answers of 503 land among the batches in flight.
        let saboteur = Task {
            while await elastic.requests().count < 12 { try await Task.sleep(for: .milliseconds(10)) }
            await faults.enqueue(.status(503, retryAfter: nil, body: nil), times: 3)
        }
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(120)) == .complete)
        try await saboteur.value
        #expect(await faults.pendingCount == 0, "the 503s were answered")
        #expect(await faults.peakConcurrentRequests >= 2)
        let documents = await elastic.documents(index: "audit")
        #expect(Set(documents.keys) == harness.expectedIDs(items))
        #expect(await elastic.documentCount() == items.count)
        #expect(try engine.store.deadLetters().isEmpty)
        let worker = try #require(engine.workers.first { $0.name == "elastic" })
        #expect(worker.concurrency.withLock { $0.current } <= SinkConfigurationReader.defaultMaxInFlight)
        await engine.shutdown()
        await elastic.stop()
        await harness.stop()
    }

    /// The file sink writes in order, one batch at a time; the key says so.
    @Test func theFileSinkRefusesMaxInFlight() throws {
        let text = """
            state: { path: /tmp/unused.sqlite }
            sources:
              - { name: deploys, type: deploys, base_url: "http://127.0.0.1:9", project: acme, token: t }
            sinks:
              - { name: archive, type: file, path: /tmp/unused.ndjson, max_in_flight: 2 }
            """
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.parse(text, environment: [:]) }
        do {
            _ = try ConfigurationLoader.parse(text, environment: [:])
        } catch {
            #expect(String(describing: error).contains("sinks[0].max_in_flight"))
        }
    }
}

/// The daemon's cap on polls at once (`PollSlots`): never more than the limit inside, first come
/// first served, and a cancelled waiter leaves without running or taking a slot.
@Suite struct PollSlotsTests {
    @Test func neverMoreThanTheLimitRunAtOnce() async throws {
        let slots = PollSlots(limit: 3)
        let inside = Inside()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await slots.withSlot {
                        inside.enter()
                        try await Task.sleep(for: .milliseconds(5))
                        inside.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(inside.peak == 3)
        #expect(inside.now == 0)
    }

    /// How many are inside now, and the most there ever were.
    final class Inside: Sendable {
        private let state = Mutex((now: 0, peak: 0))
        var now: Int { state.withLock { $0.now } }
        var peak: Int { state.withLock { $0.peak } }
        func enter() {
            state.withLock {
                $0.now += 1; $0.peak = max($0.peak, $0.now)
            }
        }
        func leave() { state.withLock { $0.now -= 1 } }
    }

    @Test func aCancelledWaiterNeitherRunsNorKeepsASlot() async throws {
        let slots = PollSlots(limit: 1)
        let ran = Inside()
        let holder = Task { try await slots.withSlot { try await Task.sleep(for: .seconds(30)) } }
        try await Task.sleep(for: .milliseconds(50))
        let waiter = Task { try await slots.withSlot { ran.enter() } }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(ran.peak == 0)
        holder.cancel()
        _ = try? await holder.value
        // The slot the holder had is free again, and the cancelled waiter took none.
        let after = try await slots.withSlot { 42 }
        #expect(after == 42)
    }
}
