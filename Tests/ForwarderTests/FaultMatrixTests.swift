import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// The fault matrix (issue 6, "proof of reliability"): one row per fault an upstream or a sink can
/// throw. Every row checks the same three things: the forwarder survives it, nothing is lost (the
/// events arrive once the fault clears, or sit replayable in the dead letters, and the cursor never
/// passes undelivered data), and an operator is told (a warning or error naming the problem).
/// Real HTTP over loopback against the emulators, a real SQLite file; retries are recorded by
/// `VirtualClock`, never waited.
@Suite(.awaitedTeardown) struct FaultMatrixTests {}

// MARK: - Upstream faults (deploys.app emulator: newest first, 100 per page)

extension FaultMatrixTests {
    @Suite(.awaitedTeardown) struct Upstream {
        struct Row: Sendable, CustomTestStringConvertible {
            var name: String
            /// Answers the *second* page request (the first page is already in hand).
            var fault: FaultInjector.Fault
            /// Transient: retried inside the poll, which completes. Otherwise the poll fails and the
            /// next one, after the fault is gone, delivers everything.
            var retried: Bool
            /// Text the warning or error must carry.
            var reported: String
            var timeout = "5s"
            var testDescription: String { name }
        }

        static let rows: [Row] = [
            Row(name: "HTTP 401", fault: .status(401), retried: false, reported: "HTTP 401"),
            Row(name: "HTTP 403", fault: .status(403), retried: false, reported: "HTTP 403"),
            Row(name: "HTTP 404", fault: .status(404), retried: false, reported: "HTTP 404"),
            Row(name: "HTTP 429 + Retry-After", fault: .status(429, retryAfter: "7"), retried: true, reported: "HTTP 429"),
            Row(name: "HTTP 500", fault: .status(500), retried: true, reported: "HTTP 500"),
            Row(name: "HTTP 502", fault: .status(502), retried: true, reported: "HTTP 502"),
            Row(name: "HTTP 503", fault: .status(503), retried: true, reported: "HTTP 503"),
            Row(name: "HTTP 504", fault: .status(504), retried: true, reported: "HTTP 504"),
            Row(name: "timeout", fault: .delay(.seconds(10)), retried: true, reported: "timed out after 1500ms", timeout: "1500ms"),
            // Headers at once, then the body stalls: the timeout covers the whole exchange.
            Row(
                name: "body stalled past timeout", fault: .stallMidBody(.seconds(10)), retried: true, reported: "timed out after 1500ms",
                timeout: "1500ms"),
            Row(name: "connection reset mid-body", fault: .resetMidBody, retried: true, reported: "page request failed"),
            Row(name: "truncated JSON", fault: .truncatedJSON, retried: false, reported: "deploys.app page is not valid JSON"),
            Row(name: "HTML instead of JSON", fault: .garbage, retried: false, reported: "deploys.app page is not valid JSON"),
            Row(
                name: "wrong type: items is an object", fault: .status(200, body: #"{"ok":true,"result":{"items":{"id":1}}}"#),
                retried: false, reported: "result.items is a object, not an array"),
            Row(
                name: "wrong type: id is a string, createdAt a number",
                fault: .status(200, body: #"{"ok":true,"result":{"items":[{"id":"seven","createdAt":12}]}}"#),
                retried: false, reported: "has no integer id"),
            Row(name: "error envelope in HTTP 200", fault: .errorEnvelope("iam: forbidden"), retried: false, reported: "iam: forbidden"),
        ]

        @Test(arguments: rows)
        func row(_ row: Row) async throws {
            let harness = try await Harness.start()
            Teardown.add { await harness.stop() }
            let items = await harness.seed(250)
            await harness.deploys.faults.enqueue(.delay(.zero))
            await harness.deploys.faults.enqueue(row.fault)
            let log = LogRecorder()
            let clock = VirtualClock()
            // One request at a time: the fault hits the second page of one walk (sliced walks: PagePipelineTests).
            let text = harness.configText(source: "    page_size: 100\n    concurrency: 1").replacingOccurrences(
                of: "timeout: 5s", with: "timeout: \(row.timeout)")
            let engine = try harness.engine(
                try ConfigurationLoader.parse(text, environment: harness.environment), clock: clock, logger: log.logger)
            Teardown.add { await engine.shutdown() }

            let first = await OnceMode.run(engine: engine, deadline: .seconds(60))
            if row.retried {
                #expect(first == .complete)
                #expect(!clock.waits.isEmpty)
                if case .status(429, let after?, _) = row.fault { #expect(clock.waits == [.seconds(Int64(after)!)]) }
            } else {
                let failure = try #require(first.failureText, "\(first)")
                #expect(failure.contains(row.reported))
                // Newest first: the cursor moves only after the last page; the first page is spooled and delivered.
                #expect(try engine.store.cursor(source: "deploys") == nil)
                #expect(try engine.store.sourceStates().first?.lastError?.contains(row.reported) == true)
                #expect(try harness.fileEventIDs().count == 100)
                #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
            }
            #expect(!log.problems(containing: row.reported).isEmpty, "\(log.text)")
            #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
            #expect(Set(await harness.receiver.receivedEventIDs()) == harness.expectedIDs(items))
        }

        /// An empty answer is no error: the poll completes quietly and the events that appear
        /// upstream afterwards arrive with the next poll.
        @Test func emptyPages() async throws {
            let harness = try await Harness.start()
            Teardown.add { await harness.stop() }
            let log = LogRecorder()
            let engine = try harness.engine(try harness.configuration(), logger: log.logger)
            Teardown.add { await engine.shutdown() }
            #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
            let cursor = try #require(try engine.store.cursor(source: "deploys").flatMap(RFC3339.parse))
            // Indexed upstream after the first poll, dated around its end.
            // (Up to 2 s ago: deploys.app's `before` has whole seconds, the overlap re-reads the last one.)
            let items = DeploysEmulator.generate(count: 30, from: cursor.addingTimeInterval(-60), to: Date().addingTimeInterval(-2))
            await harness.deploys.seed(items)
            #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
            #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
            #expect(log.lines.filter { $0.level >= .warning }.isEmpty, "\(log.text)")
        }

        /// A page of several megabytes (100 entries of 60 KB) is read like any other.
        @Test func hugePages() async throws {
            let harness = try await Harness.start()
            Teardown.add { await harness.stop() }
            let now = Date()
            let items = (1...100).map { index in
                DeploysAuditItem(
                    id: Int64(index), detail: String(repeating: "ab", count: 30_000), createdAt: now.addingTimeInterval(-Double(1000 - index)))
            }
            await harness.deploys.seed(items)
            let engine = try harness.engine(try harness.configuration(source: "    page_size: 100", webhook: "    batch_size: 20"))
            Teardown.add { await engine.shutdown() }
            #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
            #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
            #expect(Set(await harness.receiver.receivedEventIDs()) == harness.expectedIDs(items))
        }

        /// `next_page` points back at a page already read: the poll stops (no endless loop), keeps
        /// what it spooled, and once the links are honest everything arrives.
        @Test func paginationLoop() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (shield, url) = try await harness.shield()
            let entries = UpstreamSourceTests.DeepIntShield.entries(150)
            await shield.seed(entries)
            await shield.setNextPageLoop(fromPage: 2, toPage: 1)
            let log = LogRecorder()
            let engine = try harness.engine(sources: UpstreamHarness.shieldSource(url, "    page_size: 50"), logger: log.logger)
            let failure = try #require(await harness.once(engine).failureText)
            #expect(failure.contains("loops back"))
            #expect(!log.problems(containing: "loops back").isEmpty, "\(log.text)")
            // The cursor is at the newest entry spooled, before everything not yet read.
            let sorted = UpstreamSourceTests.DeepIntShield.ascending(entries)
            let cursor = try #require(try harness.cursor(engine, source: "shield"))
            #expect(cursor < sorted[100].timestamp)
            await shield.clearNextPageLoop()
            #expect(await harness.once(engine) == .complete)
            #expect(Set(try harness.fileEventIDs()) == UpstreamHarness.ids(entries.map(\.eventID), source: "shield"))
        }

        /// Clock skew: an API that ignores the window end returns entries dated a day ahead of this
        /// host's clock. They are delivered, but the cursor must not follow them into the future:
        /// a cursor a day ahead would skip every entry written upstream in the meantime.
        @Test func clockSkewEventsInTheFuture() async throws {
            let harness = UpstreamHarness()
            defer { harness.finish() }
            let (paged, url) = try await harness.paged()
            let now = Date()
            let past = await paged.seed(count: 10, from: now.addingTimeInterval(-600), to: now.addingTimeInterval(-300))
            let future = await paged.seed(count: 10, from: now.addingTimeInterval(86400), to: now.addingTimeInterval(86400 + 300))
            let source = """
                  - name: paged
                    type: http_json
                    url: \(url.absoluteString)/cursor?per_page=7
                    auth: { type: header, name: X-API-Key, value: "${PAGED_KEY}" }
                    window: { start_param: since }
                    items: entries
                    id_field: uuid
                    time_field: ts
                    pagination: { type: cursor, param: cursor, path: next_cursor }
                    lookback: 1d
                    timeout: 5s
                """
            let log = LogRecorder()
            let engine = try harness.engine(sources: source, logger: log.logger)
            #expect(await harness.once(engine) == .complete)
            #expect(Set(try harness.fileEventIDs()) == UpstreamHarness.ids((past + future).map(\.uuid), source: "paged"))
            let cursor = try #require(try harness.cursor(engine, source: "paged"))
            #expect(cursor <= Date())
            #expect(!log.problems(containing: "ahead of this host's clock").isEmpty, "\(log.text)")

            // Written upstream after the first poll, dated now: the next poll must find them.
            let later = await paged.seed(count: 5, from: Date().addingTimeInterval(-2), to: Date())
            #expect(await harness.once(engine) == .complete)
            let ids = try harness.fileEventIDs()
            #expect(Set(ids) == UpstreamHarness.ids((past + future + later).map(\.uuid), source: "paged"))
            #expect(ids.count == 25)  // the future entries, read again, were deduplicated
        }
    }
}

// MARK: - Sink faults (each SIEM and the webhook)

extension FaultMatrixTests {
    @Suite(.awaitedTeardown) struct Sinks {
        enum Kind: String, Sendable, CaseIterable { case splunk, datadog, elastic, webhook }

        enum Fault: String, Sendable, CaseIterable {
            case http400 = "HTTP 400", http403 = "HTTP 403", http500 = "HTTP 500", http503 = "HTTP 503"
            case garbage = "HTML body in HTTP 200", slow = "slower than timeout", tls = "TLS failure", redirect = "redirect"
        }

        struct Row: Sendable, CustomTestStringConvertible {
            var sink: Kind
            var fault: Fault
            var testDescription: String { "\(sink.rawValue): \(fault.rawValue)" }
        }

        static let rows: [Row] = Kind.allCases.flatMap { sink in Fault.allCases.map { Row(sink: sink, fault: $0) } }

        /// One emulator of `kind`, its fault injector, its YAML and what it holds.
        struct Target: Sendable {
            var kind: Kind
            var url: URL
            var faults: FaultInjector
            var received: @Sendable () async -> Set<String>
            var requestPaths: @Sendable () async -> [String]
            var stop: @Sendable () async -> Void

            static func start(_ kind: Kind) async throws -> Target {
                switch kind {
                case .splunk:
                    let splunk = SplunkHECEmulator(token: "hec-token", indexes: ["security"], acknowledgements: false)
                    let url = try await splunk.start()
                    return Target(
                        kind: kind, url: url, faults: splunk.faults,
                        received: {
                            Set(await splunk.indexedEvents().compactMap(\.forwardedEventID))
                        }, requestPaths: { await splunk.requests().map(\.path) }, stop: { await splunk.stop() })
                case .datadog:
                    let datadog = DatadogLogsEmulator(apiKey: "dd-key")
                    let url = try await datadog.start()
                    return Target(
                        kind: kind, url: url, faults: datadog.faults,
                        received: { Set(await datadog.acceptedLogs().compactMap { $0["id"] as? String }) },
                        requestPaths: { await datadog.requests().map(\.path) }, stop: { await datadog.stop() })
                case .elastic:
                    let elastic = ElasticsearchEmulator(apiKey: "es-key")
                    let url = try await elastic.start()
                    return Target(
                        kind: kind, url: url, faults: elastic.faults, received: { Set(await elastic.documents(index: "audit").keys) },
                        requestPaths: { await elastic.requests().map(\.path) }, stop: { await elastic.stop() })
                case .webhook:
                    let receiver = WebhookReceiver(signingSecret: nil, bearerToken: "hook-token")
                    let url = try await receiver.start()
                    return Target(
                        kind: kind, url: url, faults: receiver.faults, received: { Set(await receiver.receivedEventIDs()) },
                        requestPaths: { await receiver.requests().map(\.path) }, stop: { await receiver.stop() })
                }
            }

            /// The sink's YAML entry; `scheme` replaces `http` (the TLS row).
            func yaml(scheme: String = "http", timeout: String = "10s") -> String {
                let base = url.absoluteString.replacingOccurrences(of: "http://", with: scheme + "://")
                let common = "batch_size: 10, timeout: \(timeout), retry: { max_attempts: 3, initial_backoff: 10ms, max_backoff: 50ms }"
                switch kind {
                case .splunk:
                    return
                        "  - { name: sut, type: splunk, hec_endpoint: \(base)/services/collector, hec_token: hec-token, index: security, \(common) }"
                case .datadog:
                    return "  - { name: sut, type: datadog, endpoint: \(base)/api/v2/logs, api_key: dd-key, \(common) }"
                case .elastic:
                    return "  - { name: sut, type: elastic, endpoint: \(base), api_key: es-key, index: audit, \(common) }"
                case .webhook:
                    return "  - { name: sut, type: webhook, url: \(base)/audit, auth: { type: bearer, token: hook-token }, \(common) }"
                }
            }
        }

        /// What the row expects: retried in place, dead-lettered for an operator to replay, or (a
        /// webhook's 200 whatever its body) delivered.
        enum Expectation { case retried(reported: String), deadLettered(reported: String), delivered }

        static func expectation(_ row: Row) -> Expectation {
            // Splunk's reasons quote HEC's own code and text rather than the HTTP status.
            let splunk = row.sink == .splunk
            // Elasticsearch: any non-200 answer retries the whole batch (PROTOCOLS.md).
            let elastic = row.sink == .elastic
            switch row.fault {
            case .http400: return elastic ? .retried(reported: "400") : .deadLettered(reported: "400")
            case .http403:
                if elastic { return .retried(reported: "Elasticsearch HTTP 403") }
                return .deadLettered(reported: splunk ? "Splunk HEC code 4: Invalid token (check hec_token)" : "403")
            case .http500: return .retried(reported: splunk ? "Splunk HEC code 8: Internal server error" : "500")
            case .http503: return .retried(reported: splunk ? "Splunk HEC code 9: Server is busy" : "503")
            case .slow: return .retried(reported: "timed out after 1500ms")
            // Handshake with a server that speaks plain HTTP: every attempt fails the same way.
            case .tls: return .deadLettered(reported: "SSL")
            case .redirect: return elastic ? .retried(reported: "307") : .deadLettered(reported: "307")
            // Only the status counts for a webhook (the receiver kept the delivery); a SIEM's 200
            // must carry its own answer, else the events are not known to have arrived.
            case .garbage: return row.sink == .webhook ? .delivered : .retried(reported: "502 Bad Gateway")
            }
        }

        @Test(arguments: rows)
        func row(_ row: Row) async throws {
            let harness = try await Harness.start()
            let target = try await Target.start(row.sink)
            Teardown.add {
                await harness.stop(); await target.stop()
            }
            let items = await harness.seed(30)
            let expected = harness.expectedIDs(items)
            switch row.fault {
            case .http400: await target.faults.enqueue(.status(400, body: #"{"error":"injected 400"}"#))
            case .http403: await target.faults.enqueue(.status(403))
            case .http500: await target.faults.enqueue(.status(500), times: 2)
            case .http503: await target.faults.enqueue(.status(503, retryAfter: "4"), times: 2)
            case .garbage: await target.faults.enqueue(.garbage)
            case .slow: await target.faults.enqueue(.delay(.seconds(10)))
            case .tls: break
            case .redirect: await target.faults.enqueue(.redirect(307, location: target.url.absoluteString + "/elsewhere"))
            }
            let config = """
                state: { path: \(harness.statePath) }
                sources:
                  - { name: deploys, type: deploys, base_url: \(harness.deploysURL.absoluteString), project: acme, token: "${DEPLOYS_TOKEN}", lookback: 30d }
                sinks:
                \(target.yaml(scheme: row.fault == .tls ? "https" : "http", timeout: row.fault == .slow ? "1500ms" : row.fault == .tls ? "2s" : "10s"))
                  - { name: archive, type: file, path: \(harness.filePath) }
                """
            let log = LogRecorder()
            let clock = VirtualClock()
            let engine = try harness.engine(
                try ConfigurationLoader.parse(config, environment: harness.environment), clock: clock, logger: log.logger)
            let outcome = await OnceMode.run(engine: engine, deadline: .seconds(60))
            if case .deadLettered = Self.expectation(row) {
                #expect(outcome.onlyDeadLettered(by: "sut"), "\(outcome)")
            } else {
                #expect(outcome == .complete)
            }
            // A broken sink never holds back the others.
            #expect(Set(try harness.fileEventIDs()) == expected)

            switch Self.expectation(row) {
            case .delivered:
                #expect(try engine.store.deadLetters(sink: "sut").isEmpty)
            case .retried(let reported):
                #expect(!log.problems(containing: reported).isEmpty, "\(log.text)")
                #expect(try engine.store.deadLetters(sink: "sut").isEmpty)
                if row.fault == .http503 { #expect(clock.waits.prefix(2) == [.seconds(4), .seconds(4)]) }
            case .deadLettered(let reported):
                #expect(!log.problems(containing: reported).isEmpty, "\(log.text)")
                let letters = try engine.store.deadLetters(sink: "sut")
                #expect(!letters.isEmpty && letters.allSatisfy { $0.reason.contains(reported) }, "\(letters.map(\.reason))")
                #expect(try engine.store.offset(sink: "sut") == (try engine.store.headSeq()))
                // Nothing lost: the operator fixes the cause and replays the dead letters.
                #expect(try engine.store.replayDeadLetters(sink: "sut") == letters.count)
            }
            await engine.shutdown()
            // The fault is gone (for TLS: the URL is fixed), on the same state file.
            let fixed = config.replacingOccurrences(of: target.yaml(scheme: "https", timeout: "2s"), with: target.yaml())
            let again = try harness.engine(try ConfigurationLoader.parse(fixed, environment: harness.environment), clock: clock)
            #expect(await OnceMode.run(engine: again, deadline: .seconds(60)) == .complete)
            #expect(await target.received() == expected)
            #expect(try again.store.deadLetters(sink: "sut").isEmpty)
            // Redirects are never followed.
            #expect(await target.requestPaths().allSatisfy { !$0.contains("elsewhere") })
            await again.shutdown()
        }
    }
}
