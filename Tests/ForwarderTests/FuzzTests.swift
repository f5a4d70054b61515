import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// Bad input (issue 6): every parser of outside bytes, fed mutated valid samples (truncated,
/// bit-flipped, deeply nested, huge numbers, wrong types, invalid UTF-8). None may trap, and every
/// rejection must be a thrown error with a message. `Fuzz.iterations` per target (300 in CI);
/// `AFWD_FUZZ_ITERATIONS=200000 swift test --skip-build --filter FuzzTests` for a long run.
@Suite struct FuzzTests {
    // MARK: JSON and RFC 3339

    @Test func jsonParserRejectsWithAMessageAndWhatItAcceptsWritesBackAsValidJSON() async throws {
        let samples = try await Self.pages().map(\.body) + Self.sinkBodies
        Fuzz.run("json") { random, iteration in
            let input = Mutator.mutate(samples.randomElement(using: &random)!, using: &random)
            do {
                let value = try JSONValue.parse(input)
                // The writer (used for every spooled payload) must produce JSON the parser reads back.
                let written = try NativeEncoding.encode(value)
                #expect(throws: Never.self, "iteration \(iteration)") { try JSONValue.parse(written) }
            } catch let error as MalformedPayload {
                #expect(!error.description.isEmpty)
            } catch {
                Issue.record("iteration \(iteration): unexpected error type \(type(of: error)): \(error)")
            }
        }
        // Nesting far past the limit is refused, not a stack overflow.
        for open in ["[", "{\"a\":"] {
            let deep = Data(String(repeating: open, count: 200_000).utf8)
            #expect(throws: MalformedPayload.self) { try JSONValue.parse(deep) }
        }
    }

    @Test func rfc3339ParsesOrRefusesAndWhatItParsesFormats() {
        let samples = [
            "2026-05-01T10:30:00.123Z", "2026-05-01t10:30:00+02:00", "2024-02-29 23:59:60-0130", "9999-12-31T23:59:59.999999Z",
            "0000-01-01T00:00:00+23:59", "2026-05-01T10:30:00",
        ].map { Data($0.utf8) }
        Fuzz.run("rfc3339") { random, _ in
            let text = String(decoding: Mutator.mutate(samples.randomElement(using: &random)!, using: &random), as: UTF8.self)
            for date in [RFC3339.parse(text), RFC3339.parseLenient(text)].compactMap({ $0 }) {
                let written = RFC3339.format(date)
                _ = RFC3339.formatSeconds(date)
                // An offset can carry 0000-01-01 or 9999-12-31 across the year range RFC 3339 writes.
                if (-62_135_596_800.0..<253_370_764_800).contains(date.timeIntervalSince1970) {
                    #expect(RFC3339.parse(written) != nil, "\(text) → \(written)")
                }
            }
        }
    }

    // MARK: Page parsers

    struct PageSample: @unchecked Sendable {
        var source: SourceConfiguration
        var body: Data
        var headers: [(name: String, value: String)]
    }

    /// One real first page from each upstream emulator, read by the source connector itself.
    static func pages() async throws -> [PageSample] {
        let now = Date()
        let deploys = DeploysEmulator(token: "t", project: "acme")
        await deploys.seed(DeploysEmulator.generate(count: 4, from: now.addingTimeInterval(-3600), to: now.addingTimeInterval(-60)))
        let shield = DeepIntShieldEmulator(token: "t")
        await shield.seed(DeepIntShieldEmulator.generate(count: 4, from: now.addingTimeInterval(-3600), to: now.addingTimeInterval(-60)))
        let logfire = LogfireEmulator(token: "t")
        await logfire.seed(LogfireEmulator.generate(count: 6, from: now.addingTimeInterval(-3600), to: now.addingTimeInterval(-60)))
        let paged = PagedJSONEmulator(apiKey: "k")
        await paged.seed(count: 4, from: now.addingTimeInterval(-3600), to: now.addingTimeInterval(-60))
        let urls = (
            try await deploys.start(), try await shield.start(), try await logfire.start(), try await paged.start()
        )
        let yaml = """
            sources:
              - { name: d, type: deploys, base_url: \(urls.0.absoluteString), project: acme, token: t }
              - { name: s, type: deepintshield, base_url: \(urls.1.absoluteString), token: t }
              - { name: l, type: logfire, base_url: \(urls.2.absoluteString)/api, token: t, fetch_details: true }
              - name: p
                type: http_json
                url: \(urls.3.absoluteString)/next-link?per_page=2
                auth: { type: header, name: X-API-Key, value: k }
                window: { start_param: since, end_param: until }
                items: data.items
                id_field: uuid
                time_field: ts
                pagination: { type: next_link, path: links.next }
                mapping: { action: kind, actor_name: who.login, message: detail }
            sinks:
              - { name: f, type: file, path: /dev/null }
            """
        let configuration = try ConfigurationLoader.parse(yaml, environment: [:])
        let client = try WireClient()
        var samples: [PageSample] = []
        for source in configuration.sources {
            var poll = source.connector.makePoll(window: PollWindow(start: now.addingTimeInterval(-7200), end: now))
            let response = try await client.send(try #require(try poll.nextRequest()), timeout: .seconds(10))
            try #require(response.status == 200, "\(source.name): \(response.status)")
            samples.append(PageSample(source: source, body: response.body, headers: response.headers))
        }
        await client.shutdown()
        await deploys.stop()
        await shield.stop()
        await logfire.stop()
        await paged.stop()
        return samples
    }

    @Test func everyPageParserRefusesBadPagesWithAMessageAndEncodesWhatItAccepts() async throws {
        let samples = try await Self.pages()
        let window = PollWindow(start: Date().addingTimeInterval(-7200), end: Date())
        Fuzz.run("pages") { random, iteration in
            let sample = samples.randomElement(using: &random)!
            let body = Mutator.mutate(sample.body, using: &random)
            let connector = sample.source.connector
            var poll = connector.makePoll(window: window)
            do {
                _ = try poll.nextRequest()
                let page = try poll.read(WireResponse(status: 200, headers: sample.headers, body: body), receivedAt: Date())
                let entries = try page.make()
                // What a page yields must spool and encode for every sink; written for the spool
                // straight from the page, the same bytes as through its events.
                #expect(try page.encode() == entries.map(EncodedEntry.init))
                for entry in entries {
                    _ = try SourcePoller.spoolEntry(entry)
                    _ = ECSEncoding.encode(entry.event)
                    _ = OCSFEncoding.encode(entry.event)
                }
                _ = poll.checkpoint.map(RFC3339.format)
                _ = try poll.nextRequest()
            } catch let error as SourceError {
                #expect(!error.message.isEmpty, "\(connector.name) iteration \(iteration)")
            } catch {
                #expect(!"\(error)".isEmpty, "\(connector.name) iteration \(iteration)")
            }
            // Error answers: the upstream's message is read from whatever the body holds.
            _ = connector.upstreamMessage(in: WireResponse(status: 500, body: body))
            var failed = connector.makePoll(window: window)
            _ = try? failed.nextRequest()
            _ = try? failed.readFailure(WireResponse(status: 404, body: body), receivedAt: Date())
        }
    }

    // MARK: Sink response classifiers

    static let sinkBodies: [Data] = [
        #"{"text":"Success","code":0,"ackId":3}"#, #"{"text":"Invalid data format","code":6,"invalid-event-number":1}"#,
        #"{"acks":{"0":true,"1":false}}"#, "{}", #"{"errors":[{"detail":"bad","status":"400","title":"Bad Request"}]}"#,
        #"{"took":3,"errors":true,"items":[{"create":{"_id":"a","status":201}},{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"busy"}}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad"}}}]}"#,
        #"{"error":{"type":"security_exception","reason":"no"},"status":401}"#, "<html>502 Bad Gateway</html>", "",
    ].map { Data($0.utf8) }

    static let statuses = [200, 201, 202, 204, 301, 302, 307, 400, 401, 403, 404, 408, 409, 410, 413, 429, 500, 502, 503, 504, 0, 999]

    static let retryAfters = [
        "1", "0", "-1", "2.5", "1e300", "-1e300", "nan", "inf", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT", "", "soon",
    ]

    @Test func everySinkClassifierAnswersEveryResponseWithAReason() throws {
        let yaml = """
            sources:
              - { name: d, type: deploys, base_url: http://127.0.0.1:9, project: acme, token: t }
            sinks:
              - { name: splunk, type: splunk, hec_endpoint: http://127.0.0.1:9/services/collector, hec_token: t }
              - { name: datadog, type: datadog, endpoint: http://127.0.0.1:9/api/v2/logs, api_key: k }
              - { name: elastic, type: elastic, endpoint: http://127.0.0.1:9, api_key: k, index: audit }
              - { name: webhook, type: webhook, url: http://127.0.0.1:9/hook }
            """
        let connectors = try ConfigurationLoader.parse(yaml, environment: [:]).sinks.compactMap { sink -> (any HTTPSinkConnector)? in
            if let http = sink.target as? HTTPSinkTarget { return http.connector }
            return nil
        }
        try #require(connectors.count == 4)
        let batch = (0..<3).map { EncodedEvent(id: "e\($0)", time: Date(), body: Data("{}".utf8)) }
        Fuzz.run("sinks") { random, iteration in
            let body =
                Bool.random(using: &random)
                ? Self.sinkBodies.randomElement(using: &random)! : Mutator.mutate(Self.sinkBodies.randomElement(using: &random)!, using: &random)
            var retryAfter = Self.retryAfters.randomElement(using: &random)!
            if Int.random(in: 0..<4, using: &random) == 0 {
                retryAfter = String(decoding: Mutator.mutate(Data(retryAfter.utf8), using: &random), as: UTF8.self)
            }
            let response = WireResponse(status: Self.statuses.randomElement(using: &random)!, headers: [("Retry-After", retryAfter)], body: body)
            for connector in connectors {
                let context = "\(connector.name) iteration \(iteration) status \(response.status)"
                switch connector.classify(response, batch: batch) {
                case .delivered:
                    #expect((200..<300).contains(response.status), "\(context)")
                case .retry(let after, let reason):
                    #expect(!reason.isEmpty && (after ?? .zero) >= .zero, "\(context)")
                case .partial(let retry, let rejected, let after):
                    #expect(retry.allSatisfy(batch.indices.contains) && rejected.allSatisfy { batch.indices.contains($0.index) }, "\(context)")
                    #expect(rejected.allSatisfy { !$0.reason.isEmpty } && (after ?? .zero) >= .zero, "\(context)")
                case .rejected(_, let reason), .gone(_, let reason), .tooLarge(let reason):
                    #expect(!reason.isEmpty, "\(context)")
                }
            }
            _ = SplunkHECSink.parseAcks(response)
        }
    }

    // MARK: Configuration

    static let configurationSample = """
        state: { path: /tmp/af-fuzz.sqlite, spool_max_events: 5000, dedupe_window: 7d }
        telemetry: { listen: "127.0.0.1:9464" }
        log: { level: info, format: json }
        sources:
          - name: shield
            type: deepintshield
            base_url: https://shield.example.com
            token: ${SHIELD_TOKEN}
            filters: { event_types: [authentication] }
            poll_interval: 5m
            lookback: 24h
            overlap: 2m
            timeout: 30s
            rate_limit: { requests: 10, per: 1s }
          - { name: logfire, type: logfire, region: eu, token: "${LOGFIRE_TOKEN:-x}", fetch_details: true }
          - { name: deploys, type: deploys, base_url: https://api.deploys.app, project: acme, token: t, page_size: 50 }
          - name: paged
            type: http_json
            method: POST
            url: https://api.example.com/search
            body: { per_page: 7 }
            auth: { type: basic, username: u, password: p }
            window: { start_param: since, end_param: until, in: body, format: unix_ms }
            items: entries
            id_field: uuid
            time_field: ts
            time_format: unix
            pagination: { type: cursor, param: cursor, path: next_cursor, in: body }
            mapping: { action: kind, actor_name: who.login }
        sinks:
          - { name: splunk, type: splunk, hec_endpoint: "https://splunk:8088/services/collector", hec_token: h, acknowledgements: true, ack_timeout: 5m }
          - { name: datadog, type: datadog, api_key: k, site: datadoghq.eu, tags: [env:prod], compression: gzip }
          - { name: elastic, type: elastic, endpoint: "https://es:9200", username: u, password: p, index: audit, encoding: ecs }
          - name: hook
            type: webhook
            url: https://hooks.example.com/audit
            auth: { type: bearer, token: "${HOOK_TOKEN}" }
            filters: { severity: [high, critical] }
            retry: { max_attempts: 3, backoff: exponential, initial_backoff: 1s, max_backoff: 1m }
            batch_size: 100
            max_batch_bytes: 1000000
            flush_interval: 1s
            redact: [actor.email]
          - { name: archive, type: file, path: /tmp/af-fuzz.ndjson, encoding: ocsf }
        """

    /// Problems about the document as a whole have no key to name.
    static let documentLevel = ["not valid YAML or JSON", "the document is empty", "must be a mapping", "keys must be plain strings", "cannot read"]

    @Test func theConfigurationLoaderRefusesEveryBadDocumentNamingTheKey() throws {
        let environment = ["SHIELD_TOKEN": "s", "HOOK_TOKEN": "h"]
        let sample = Data(Self.configurationSample.utf8)
        _ = try ConfigurationLoader.parse(Self.configurationSample, environment: environment)
        let file = NSTemporaryDirectory() + "af-fuzz-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: file) }
        Fuzz.run("config") { random, iteration in
            let bytes = Mutator.mutate(sample, using: &random)
            do {
                // Mostly straight from text; every tenth from a file, where invalid UTF-8 is kept as is.
                if iteration % 10 == 0 {
                    try bytes.write(to: URL(fileURLWithPath: file))
                    _ = try ConfigurationLoader.load(path: file, environment: environment)
                } else {
                    _ = try ConfigurationLoader.parse(String(decoding: bytes, as: UTF8.self), environment: environment)
                }
            } catch let error as ConfigurationError {
                #expect(!error.problems.isEmpty, "iteration \(iteration)")
                for problem in error.problems {
                    #expect(!problem.message.isEmpty, "iteration \(iteration)")
                    #expect(
                        !problem.path.isEmpty || Self.documentLevel.contains { problem.message.contains($0) },
                        "iteration \(iteration): no key path in \"\(problem.message)\"")
                }
            } catch {
                Issue.record("iteration \(iteration): not a ConfigurationError: \(type(of: error)) \(error)")
            }
        }
    }
}
