import Checkpoint
import Connectors
import Emulators
import Foundation
import Logging
import Testing

@testable import Forwarder

/// One deploys.app source fanned out to Splunk HEC, Datadog and Elasticsearch emulators (plus the
/// harness's webhook and file), over loopback.
@Suite(.awaitedTeardown, .serialized) struct SIEMSinkTests {
    struct SIEMs: Sendable {
        let splunk: SplunkHECEmulator
        let datadog = DatadogLogsEmulator(apiKey: "dd-key")
        let elastic = ElasticsearchEmulator(apiKey: "es-key")
        var splunkURL: URL!
        var datadogURL: URL!
        var elasticURL: URL!

        init(acknowledgements: Bool = false) {
            splunk = SplunkHECEmulator(token: "hec-token", indexes: ["security"], acknowledgements: acknowledgements)
        }

        mutating func start() async throws {
            splunkURL = try await splunk.start()
            datadogURL = try await datadog.start()
            elasticURL = try await elastic.start()
        }

        func stop() async {
            await splunk.stop()
            await datadog.stop()
            await elastic.stop()
        }

        func sinks(splunkExtra: String = "", elasticExtra: String = "", datadogExtra: String = "") -> String {
            """
              - name: splunk
                type: splunk
                hec_endpoint: \(splunkURL.absoluteString)/services/collector
                hec_token: hec-token
                source_type: "deploys:audit"
                index: security
                batch_size: 100
                retry: { initial_backoff: 10ms, max_backoff: 50ms }
            \(splunkExtra)
              - name: datadog
                type: datadog
                endpoint: \(datadogURL.absoluteString)/api/v2/logs
                api_key: dd-key
                service: deploys
                tags: [env:test, team:security]
                batch_size: 200
                retry: { initial_backoff: 10ms, max_backoff: 50ms }
            \(datadogExtra)
              - name: elastic
                type: elastic
                endpoint: \(elasticURL.absoluteString)
                api_key: es-key
                index: audit
                batch_size: 100
                retry: { initial_backoff: 10ms, max_backoff: 50ms }
            \(elasticExtra)
            """
        }
    }

    /// The harness (deploys.app, webhook receiver, file) and the three SIEM emulators, all listening.
    static func start(acknowledgements: Bool = false) async throws -> (Harness, SIEMs) {
        let harness = try await Harness.start()
        var siems = SIEMs(acknowledgements: acknowledgements)
        try await siems.start()
        return (harness, siems)
    }

    @Test func oneSourceFansOutToEverySinkOnceWithTheRightEnvelope() async throws {
        let (harness, siems) = try await Self.start()
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        // Two days old: Datadog silently drops entries whose reserved date is over 18 h old.
        let now = Date()
        let items = DeploysEmulator.generate(count: 300, firstID: 1, from: now.addingTimeInterval(-3 * 86400), to: now.addingTimeInterval(-2 * 86400))
        await harness.deploys.seed(items)
        let engine = try harness.engine(try harness.configuration(webhook: "    batch_size: 50", file: siems.sinks()))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        try await Self.expectEverySinkHolds(harness.expectedIDs(items), siems: siems, harness: harness)
        #expect(try engine.store.deadLetters().isEmpty)
        await engine.shutdown()
    }

    /// The daemon fans out the same way: every sink gets every event once, and SIGTERM drains.
    @Test func daemonFansOneSourceOutToEverySink() async throws {
        let (harness, siems) = try await Self.start()
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        let now = Date()
        let items = DeploysEmulator.generate(count: 250, firstID: 1, from: now.addingTimeInterval(-3 * 86400), to: now.addingTimeInterval(-2 * 86400))
        await harness.deploys.seed(items)
        let config = try harness.writeConfig(source: "    poll_interval: 1s", webhook: "    batch_size: 50", file: siems.sinks())
        let daemon = try ChildProcess(["run", "-c", config], environment: harness.environment, directory: harness.directory)
        let (splunk, datadog, elastic) = (siems.splunk, siems.datadog, siems.elastic)
        #expect(await eventually { await elastic.documents(index: "audit").count >= 250 && ((try? harness.fileEventIDs().count) ?? 0) >= 250 })
        #expect(
            await eventually {
                let indexed = await splunk.indexedEvents().count
                let logs = await datadog.acceptedLogs().count
                return indexed >= 250 && logs >= 250
            })
        daemon.signal(SIGTERM)
        #expect(await daemon.wait(timeout: .seconds(30)) == 0, "stderr: \(daemon.stderr)")
        try await Self.expectEverySinkHolds(harness.expectedIDs(items), siems: siems, harness: harness)
        #expect(try StateStore(path: harness.statePath).deadLetters().isEmpty)
    }

    /// `check --connect` reaches Splunk's health endpoint, Elasticsearch's root and Datadog's intake
    /// (an empty array: the key is checked, nothing is indexed), and names each wrong credential.
    @Test func checkConnectReachesEverySIEMWithoutIndexingAndNamesAWrongKey() async throws {
        let (harness, siems) = try await Self.start()
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let siemNames: Set = ["splunk", "datadog", "elastic"]

        let good = await ConnectivityCheck.run(configuration: try harness.configuration(file: siems.sinks()), sendTestEvent: false, logger: logger)
        #expect(good.filter { siemNames.contains($0.name) && $0.ok }.count == 3, "\(good)")
        #expect(await siems.splunk.indexedEvents().isEmpty)
        #expect(await siems.datadog.acceptedLogs().isEmpty)
        #expect(await siems.elastic.documents(index: "audit").isEmpty)

        let wrongKeys = siems.sinks()
            .replacingOccurrences(of: "hec_token: hec-token", with: "hec_token: wrong-hec-token")
            .replacingOccurrences(of: "api_key: dd-key", with: "api_key: wrong-dd-key")
            .replacingOccurrences(of: "api_key: es-key", with: "api_key: wrong-es-key")
        let bad = await ConnectivityCheck.run(configuration: try harness.configuration(file: wrongKeys), sendTestEvent: false, logger: logger)
        let failed = bad.filter { siemNames.contains($0.name) && !$0.ok }
        #expect(failed.count == 3, "\(bad)")
        #expect(failed.allSatisfy { !$0.detail.isEmpty && !$0.detail.contains("wrong-") })
    }

    /// Every sink holds exactly `expected`, each with its own envelope.
    static func expectEverySinkHolds(_ expected: Set<String>, siems: SIEMs, harness: Harness) async throws {
        let indexed = await siems.splunk.indexedEvents()
        #expect(indexed.count == expected.count)
        #expect(indexed.allSatisfy { $0.index == "security" && $0.sourcetype == "deploys:audit" && $0.time != nil })
        let splunkIDs = indexed.compactMap(\.forwardedEventID)
        #expect(Set(splunkIDs) == expected)

        let logs = await siems.datadog.acceptedLogs()
        #expect(logs.count == expected.count)
        #expect(await siems.datadog.droppedStale().isEmpty)
        #expect(Set(logs.compactMap { $0["id"] as? String }) == expected)
        #expect(logs.allSatisfy { ($0["ddtags"] as? String)?.contains("team:security") == true && $0["service"] as? String == "deploys" })

        let documents = await siems.elastic.documents(index: "audit")
        #expect(Set(documents.keys) == expected)
        let sample = try #require(documents.values.first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(sample["@timestamp"] is String)
        #expect((sample["event"] as? [String: Any])?["kind"] as? String == "event")
        #expect(((sample["event"] as? [String: Any])?["original"] as? String)?.contains("\"createdAt\"") == true)

        #expect(Set(await harness.receiver.receivedEventIDs()) == expected)
        #expect(Set(try harness.fileEventIDs()) == expected)
    }

    @Test func gzipBodiesArriveIntactAtEverySIEM() async throws {
        let (harness, siems) = try await Self.start()
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        let items = await harness.seed(120)
        let gzip = "    compression: gzip"
        let engine = try harness.engine(
            try harness.configuration(file: siems.sinks(splunkExtra: gzip, elasticExtra: gzip, datadogExtra: gzip)))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        #expect(await siems.splunk.indexedEvents().count == 120)
        #expect(await siems.datadog.acceptedLogs().count == 120)
        #expect(Set(await siems.elastic.documents(index: "audit").keys) == harness.expectedIDs(items))
        for requests in [await siems.splunk.requests(), await siems.datadog.requests(), await siems.elastic.requests()] {
            #expect(!requests.isEmpty && requests.allSatisfy { $0.header("Content-Encoding") == "gzip" })
            // gzip magic bytes: the body really is compressed.
            #expect(requests.allSatisfy { $0.body.prefix(2) == Data([0x1f, 0x8b]) })
        }
        await engine.shutdown()
    }

    @Test func elasticsearchRetriesOnlyThe429ItemDeadLettersThe400AndReplaysWithoutDuplicates() async throws {
        let (harness, siems) = try await Self.start()
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        let items = await harness.seed(20)
        let ids = items.map { AuditEvent.stableID(sourceName: "deploys", upstreamID: String($0.id)) }
        await siems.elastic.failItems(ids: [ids[3]], status: 429, type: "es_rejected_execution_exception")
        await siems.elastic.failItems(ids: [ids[7]], status: 400, type: "mapper_parsing_exception")
        let configuration = try harness.configuration(file: siems.sinks())
        let engine = try harness.engine(configuration)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)).onlyDeadLettered(by: "elastic"))
        let documents = await siems.elastic.documents(index: "audit")
        #expect(documents.count == 19)
        #expect(documents[ids[3]] != nil)
        #expect(documents[ids[7]] == nil)
        let letters = try engine.store.deadLetters(sink: "elastic")
        #expect(letters.map(\.eventID) == [ids[7]])
        #expect(letters.first?.status == 400 && letters.first?.reason.contains("mapper_parsing_exception") == true)
        // The 429 item was sent twice, the others once.
        #expect(await siems.elastic.bulkRequests().count == 2)
        await engine.shutdown()

        // Crash replay: the state is lost and everything is sent again; `create` with our ids
        // means Elasticsearch answers 409 and no document is duplicated.
        try FileManager.default.removeItem(atPath: harness.statePath)
        let again = try harness.engine(configuration)
        #expect(await OnceMode.run(engine: again, deadline: .seconds(60)) == .complete)
        #expect(await siems.elastic.documentCount() == 20)
        #expect(try again.store.deadLetters(sink: "elastic").isEmpty)
        await again.shutdown()
    }

    @Test func datadogDeadLettersAnEntryOverOneMegabyteAndSplitsOn413() async throws {
        let (harness, siems) = try await Self.start()
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        let now = Date()
        var items = (1...40).map { DeploysAuditItem(id: Int64($0), createdAt: now.addingTimeInterval(-Double(600 - $0))) }
        items.append(DeploysAuditItem(id: 99, detail: String(repeating: "x", count: 1_500_000), createdAt: now.addingTimeInterval(-100)))
        await harness.deploys.seed(items)
        await siems.datadog.faults.enqueue(.status(413))
        let engine = try harness.engine(try harness.configuration(file: siems.sinks()))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)).onlyDeadLettered(by: "datadog"))
        let logs = await siems.datadog.acceptedLogs()
        #expect(logs.count == 40)
        #expect(await siems.datadog.truncatedCount() == 0)
        let letters = try engine.store.deadLetters(sink: "datadog")
        #expect(letters.map(\.eventID) == [AuditEvent.stableID(sourceName: "deploys", upstreamID: "99")])
        #expect(letters.first?.status == 413)
        // The first request was refused whole (413) and its halves went separately.
        #expect(await siems.datadog.requests().count >= 3)
        await engine.shutdown()
    }

    /// Six megabytes of events never go out as one request: batches are cut under the intake's
    /// 5 MB before sending, so no request is refused and nothing is dead-lettered.
    @Test func aSixMegabyteDatadogBatchIsSplitUnderTheIntakeLimit() async throws {
        let (harness, siems) = try await Self.start()
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        let now = Date()
        // Each entry carries the detail twice (message and raw): about 600 KB, 6 MB in all.
        let items = (1...10).map {
            DeploysAuditItem(id: Int64($0), detail: String(repeating: "y", count: 300_000), createdAt: now.addingTimeInterval(-Double(600 - $0)))
        }
        await harness.deploys.seed(items)
        let engine = try harness.engine(try harness.configuration(file: siems.sinks()))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        #expect(Set(await siems.datadog.acceptedLogs().compactMap { $0["id"] as? String }) == harness.expectedIDs(items))
        #expect(try engine.store.deadLetters(sink: "datadog").isEmpty)
        let requests = await siems.datadog.requests()
        #expect(requests.count >= 2)
        #expect(requests.allSatisfy { $0.body.count <= DatadogSink.maxPayloadBytes }, "\(requests.map(\.body.count))")
        await engine.shutdown()
    }

    @Test func splunkOffsetsWaitForIndexerAcknowledgementAndALostAckIsResent() async throws {
        let (harness, siems) = try await Self.start(acknowledgements: true)
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        let items = await harness.seed(250)
        await siems.splunk.setAckDelayPolls(1)
        await siems.splunk.loseAck(1)
        // ack_timeout well above a loaded machine's gap between two queries (20 ms apart when
        // idle): a batch that is acknowledged on the second query must never expire first.
        let engine = try harness.engine(
            try harness.configuration(
                file: siems.sinks(splunkExtra: "    acknowledgements: true\n    ack_query_interval: 20ms\n    ack_timeout: 1500ms")))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        let requests = await siems.splunk.requests()
        #expect(requests.allSatisfy { $0.header("X-Splunk-Request-Channel") != nil })
        #expect(requests.contains { $0.path.hasPrefix("/services/collector/ack?channel=") })
        let ids = await siems.splunk.indexedEvents().compactMap(\.forwardedEventID)
        #expect(Set(ids) == harness.expectedIDs(items))
        // The batch whose ack was lost was sent again (at-least-once), nothing else twice.
        #expect(ids.count == 350)
        #expect(try engine.store.offset(sink: "splunk") == (try engine.store.headSeq()))
        await engine.shutdown()
    }

    /// Acks pipelined (`ack_max_in_flight: 8`): with a 300 ms query interval, ten batches of 100
    /// do not wait an interval each; they go out while the first ones wait, and one query asks
    /// about several ackIds. (The default, one batch in flight, is the test above.)
    @Test func splunkKeepsBatchesInFlightAndAsksForTheirAcksTogether() async throws {
        let (harness, siems) = try await Self.start(acknowledgements: true)
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        let items = await harness.seed(1000)
        await siems.splunk.setAckDelayPolls(1)
        let engine = try harness.engine(
            try harness.configuration(
                file: siems.sinks(
                    splunkExtra: "    acknowledgements: true\n    ack_query_interval: 300ms\n    ack_timeout: 60s\n    ack_max_in_flight: 8")))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        let requests = await siems.splunk.requests()
        let ackQueries = requests.filter { $0.path.hasPrefix("/services/collector/ack?channel=") }
        let askedPerQuery = ackQueries.map { query in
            ((try? JSONSerialization.jsonObject(with: query.body)) as? [String: Any])?["acks"] as? [Int] ?? []
        }
        let batches = requests.count - ackQueries.count
        #expect(batches == 10)
        #expect(askedPerQuery.contains { $0.count > 1 }, "\(askedPerQuery)")
        #expect(ackQueries.count < batches, "\(askedPerQuery)")
        let ids = await siems.splunk.indexedEvents().compactMap(\.forwardedEventID)
        #expect(ids.count == 1000)
        #expect(Set(ids) == harness.expectedIDs(items))
        #expect(try engine.store.offset(sink: "splunk") == (try engine.store.headSeq()))
        await engine.shutdown()
    }

    /// HEC code 6 at event 3: with acknowledgement, nothing proves events 0-2 indexed (no ackId
    /// came back), so they go again with the rest; only event 3 is dead-lettered.
    @Test func splunkWithAcksResendsTheEventsBeforeARejectedOne() async throws {
        let (harness, siems) = try await Self.start(acknowledgements: true)
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        let items = await harness.seed(250)
        await siems.splunk.setAckDelayPolls(0)
        await siems.splunk.rejectEvent(at: 3)
        let engine = try harness.engine(
            try harness.configuration(
                file: siems.sinks(splunkExtra: "    acknowledgements: true\n    ack_query_interval: 20ms")))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)).onlyDeadLettered(by: "splunk"))
        let letters = try engine.store.deadLetters(sink: "splunk")
        #expect(letters.count == 1)
        let ids = await siems.splunk.indexedEvents().compactMap(\.forwardedEventID)
        #expect(Set(ids) == harness.expectedIDs(items).subtracting(letters.map(\.eventID)))
        // 249 events, three of them twice: the first request indexed them, the resend again.
        #expect(ids.count == 252)
        #expect(try engine.store.offset(sink: "splunk") == (try engine.store.headSeq()))
        await engine.shutdown()
    }

    /// `acknowledgements: true` against a token without it: HEC answers code 0 with no ackId.
    /// Resending would index every batch again, forever; each batch counts as delivered once,
    /// and the operator is told why.
    @Test func splunkAcksAskedForButOffOnTheTokenDeliversOnceAndSaysSo() async throws {
        let (harness, siems) = try await Self.start(acknowledgements: false)
        Teardown.add {
            await harness.stop(); await siems.stop()
        }
        let items = await harness.seed(250)
        let log = LogRecorder()
        let engine = try harness.engine(
            try harness.configuration(file: siems.sinks(splunkExtra: "    acknowledgements: true\n    ack_query_interval: 20ms")),
            logger: log.logger)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        let ids = await siems.splunk.indexedEvents().compactMap(\.forwardedEventID)
        #expect(ids.count == 250)
        #expect(Set(ids) == harness.expectedIDs(items))
        #expect(log.problems(containing: "indexer acknowledgement is off for this token").count == 1, "\(log.text)")
        await engine.shutdown()
    }
}
