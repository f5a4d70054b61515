import Connectors
import Foundation
import Testing

@testable import Forwarder

@Suite struct ConfigurationTests {
    let minimal = """
        sources:
          - name: deploys
            type: deploys
            project: acme
            token: ${DEPLOYS_TOKEN}
        sinks:
          - name: hook
            type: webhook
            url: https://hooks.example/audit
          - name: archive
            type: file
            path: /tmp/events.ndjson
        """

    func problems(_ text: String, environment: [String: String] = ["DEPLOYS_TOKEN": "t"]) -> [String] {
        do {
            _ = try ConfigurationLoader.parse(text, environment: environment)
            return []
        } catch let error as ConfigurationError {
            return error.problems.map(\.description)
        } catch {
            return ["unexpected: \(error)"]
        }
    }

    /// `state.url`: a PostgreSQL state, its lease TTL and CA file; never beside `state.path`, and
    /// no problem quotes the URL (it holds the password).
    @Test func aPostgresStateIsReadAndItsMistakesNamedWithoutTheURL() throws {
        let url = "postgresql://agent:hunter2@db.internal:5433/audit?sslmode=verify-full"
        let good = try ConfigurationLoader.parse(
            "state: { url: \"${STATE_URL}\", lease_ttl: 20s, tls: { ca_file: /etc/ssl/db-ca.pem } }\n" + minimal,
            environment: ["DEPLOYS_TOKEN": "t", "STATE_URL": url])
        #expect(good.state.database?.host == "db.internal" && good.state.database?.port == 5433)
        #expect(good.state.database?.caFile == "/etc/ssl/db-ca.pem" && good.state.leaseTTL == .seconds(20))
        #expect(good.state.isShared && good.state.displayName == "postgresql://agent:***@db.internal:5433/audit?sslmode=verify-full")
        #expect(try ConfigurationLoader.parse(minimal, environment: ["DEPLOYS_TOKEN": "t"]).state.database == nil)

        for (state, key) in [
            ("{ url: \"${STATE_URL}\", path: /tmp/s.sqlite }", "state.url"),
            ("{ url: \"${STATE_URL}\", lease_ttl: 1s }", "state.lease_ttl"),
            ("{ url: \"${STATE_URL}\", lease_ttl: 10m }", "state.lease_ttl"),
            ("{ lease_ttl: 20s }", "state.url"),
            ("{ url: \"${BAD_URL}\" }", "state.url"),
            ("{ url: \"${PLAIN_URL}\", tls: { ca_file: /x.pem } }", "state.tls.ca_file"),
        ] {
            let found = problems(
                "state: \(state)\n" + minimal,
                environment: [
                    "DEPLOYS_TOKEN": "t", "STATE_URL": url, "BAD_URL": "postgresql://agent:hunter2@db.internal:5433/",
                    "PLAIN_URL": "postgresql://agent:hunter2@db.internal/audit?sslmode=require",
                ])
            #expect(found.contains { $0.hasPrefix(key) }, "\(state): \(found)")
            #expect(!found.joined().contains("hunter2"))
        }
    }

    @Test func defaultsAreTheDocumentedOnes() throws {
        let configuration = try ConfigurationLoader.parse(minimal, environment: ["DEPLOYS_TOKEN": "t"])
        let source = try #require(configuration.sources.first)
        #expect(source.pollInterval == .seconds(300))
        #expect(source.lookback == .seconds(86400))
        #expect(source.overlap == .seconds(120))
        #expect(source.settleDelay == .zero)
        #expect(source.timeout == .seconds(30))
        #expect(source.concurrency == 2)
        let deploys = try #require(source.connector as? DeploysSource)
        #expect(deploys.configuration.baseURL.absoluteString == "https://api.deploys.app")
        #expect(deploys.configuration.pageSize == 100)
        let hook = configuration.sinks[0]
        #expect(hook.batchSize == 1)
        #expect(hook.flushInterval == .seconds(1))
        #expect(hook.retry == RetryPolicy(maxAttempts: nil, backoff: .exponential, initialBackoff: .seconds(1), maxBackoff: .seconds(300)))
        #expect(configuration.sinks[1].batchSize == 500)
        #expect(configuration.state.path == "./audit-forwarder.sqlite")
        #expect(configuration.state.spoolMaxEvents == 1_000_000)
        #expect(configuration.state.dedupeWindow == .seconds(7 * 86400))
        #expect(configuration.log.level == .info && configuration.log.format == .json)
    }

    @Test func concurrencyIsOneToEight() throws {
        let with = { (value: String) in
            self.minimal.replacingOccurrences(of: "    token: ${DEPLOYS_TOKEN}", with: "    token: ${DEPLOYS_TOKEN}\n    concurrency: \(value)")
        }
        #expect(try ConfigurationLoader.parse(with("1"), environment: ["DEPLOYS_TOKEN": "t"]).sources[0].concurrency == 1)
        #expect(try ConfigurationLoader.parse(with("8"), environment: ["DEPLOYS_TOKEN": "t"]).sources[0].concurrency == 8)
        #expect(problems(with("0")).contains("sources[0].concurrency: must be between 1 and 8"))
        #expect(problems(with("9")).contains("sources[0].concurrency: must be between 1 and 8"))
    }

    /// Ids forgotten sooner than a poll re-reads them would be sent again on every poll.
    @Test func theDedupeWindowMustCoverOverlapAndPollInterval() {
        let short = "state: { dedupe_window: 5m }\n" + minimal
        #expect(
            problems(short).contains { $0.hasPrefix("state.dedupe_window: must be at least the largest overlap + poll_interval of the sources (7m)") }
        )
        #expect(problems("state: { dedupe_window: 7m }\n" + minimal).isEmpty)
    }

    /// The document is composed without Yams' implicit tags, so a request body template's plain
    /// scalars are typed by the reader: numbers, YAML's booleans and null keep their types,
    /// quoted text stays text.
    @Test func aBodyTemplateKeepsItsValuesTypes() throws {
        let text = """
            body: { per_page: 7, ratio: 0.5, active: true, archived: no, quoted: "true", count: "7", nothing: null, name: acme, tags: [on, x] }
            """
        let root = try #require(try ConfigurationLoader.compose(text))
        let reader = try #require(ConfigReader(node: root, path: "", context: .init(environment: [:])))
        #expect(
            reader.json("body")
                == .object([
                    "per_page": .integer(7), "ratio": .double(0.5), "active": .bool(true), "archived": .bool(false),
                    "quoted": .string("true"), "count": .string("7"), "nothing": .null, "name": .string("acme"),
                    "tags": .array([.bool(true), .string("x")]),
                ]))
    }
    /// Splunk acknowledgement: the documented defaults, and `ack_max_in_flight` within 1-64.
    @Test func splunkAcknowledgementDefaultsAndLimits() throws {
        func splunk(_ extra: String) -> String {
            minimal + "\n  - name: splunk\n    type: splunk\n    hec_endpoint: https://splunk.example:8088/services/collector"
                + "\n    hec_token: h\n    acknowledgements: true" + extra
        }
        let configuration = try ConfigurationLoader.parse(splunk(""), environment: ["DEPLOYS_TOKEN": "t"])
        let acknowledgement = try #require(configuration.sinks[2].acknowledgement)
        #expect(acknowledgement.queryInterval == .seconds(10))
        #expect(acknowledgement.timeout == .seconds(300))
        #expect(acknowledgement.maxInFlight == 1)
        let raised = try ConfigurationLoader.parse(splunk("\n    ack_max_in_flight: 16"), environment: ["DEPLOYS_TOKEN": "t"])
        #expect(raised.sinks[2].acknowledgement?.maxInFlight == 16)
        #expect(problems(splunk("\n    ack_max_in_flight: 65")).contains { $0.hasPrefix("sinks[2].ack_max_in_flight: must be between 1 and 64") })
    }

    @Test func stateDirectoryFromSystemdIsTheDefaultStatePath() throws {
        let configuration = try ConfigurationLoader.parse(
            minimal, environment: ["DEPLOYS_TOKEN": "t", "STATE_DIRECTORY": "/var/lib/audit-forwarder"])
        #expect(configuration.state.path == "/var/lib/audit-forwarder/state.sqlite")
    }

    @Test func environmentVariablesExpandInsideValuesOnly() throws {
        // A secret with YAML-significant characters cannot change the document's structure.
        let token = "a: b\n- c # ${NOT_EXPANDED_AGAIN}"
        let configuration = try ConfigurationLoader.parse(minimal, environment: ["DEPLOYS_TOKEN": token])
        let deploys = try #require(configuration.sources.first?.connector as? DeploysSource)
        guard case .bearer(let secret) = deploys.configuration.auth else { Issue.record("not bearer"); return }
        #expect(secret.reveal() == token)
        let withDefault = minimal.replacingOccurrences(of: "${DEPLOYS_TOKEN}", with: "${MISSING:-fallback}")
        let fallback = try ConfigurationLoader.parse(withDefault, environment: [:])
        guard case .bearer(let value) = (fallback.sources[0].connector as! DeploysSource).configuration.auth else { return }
        #expect(value.reveal() == "fallback")
    }

    @Test func numbersAndDurationsMayComeFromVariables() throws {
        let text = minimal + "\n    batch_size: ${BATCH}\n    flush_interval: ${FLUSH}"
        let configuration = try ConfigurationLoader.parse(text, environment: ["DEPLOYS_TOKEN": "t", "BATCH": "50", "FLUSH": "250ms"])
        #expect(configuration.sinks[1].batchSize == 50)
        #expect(configuration.sinks[1].flushInterval == .milliseconds(250))
    }

    @Test func anUnsetVariableNamesTheKey() {
        #expect(
            problems(minimal, environment: [:]) == [
                "sources[0].token: environment variable DEPLOYS_TOKEN is not set (use ${DEPLOYS_TOKEN:-default} for a default)"
            ])
    }

    @Test func everyProblemIsReportedWithItsKeyPath() {
        let text = """
            state: { dedupe_windw: 7d }
            sources:
              - name: deploys
                type: deploys
                project: acme
                token: t
                poll_interval: often
            sinks:
              - name: hook
                type: webhook
                url: ftp://nope
              - name: archive
                type: file
                path: /tmp/x
                batch_size: 0
                retry: { max_attempts: -1 }
                filters: { severity: [urgent] }
                rotate: { max_bytes: 10, kepe: 3 }
              - name: hook
                type: splunkk
            """
        let found = problems(text)
        #expect(found.contains { $0.hasPrefix("state.dedupe_windw: unknown key") })
        #expect(found.contains("sources[0].poll_interval: must be a duration like 500ms, 10s, 5m, 2h or 7d (at most 36500d), got \"often\""))
        #expect(found.contains("sinks[0].url: must be an http:// or https:// URL"))
        #expect(found.contains("sinks[1].batch_size: must be between 1 and 10000"))
        #expect(found.contains("sinks[1].retry.max_attempts: must be between 1 and 1000000"))
        #expect(found.contains { $0.hasPrefix("sinks[1].filters.severity[0]: \"urgent\" is not one of") })
        #expect(found.contains("sinks[1].rotate.max_bytes: must be between 4096 and 1099511627776"))
        #expect(found.contains { $0.hasPrefix("sinks[1].rotate.kepe: unknown key") })
        #expect(found.contains { $0.hasPrefix("sinks[2].type: unsupported sink type \"splunkk\"") })
    }

    @Test func duplicateNamesMissingKeysAndBadDocumentsAreRefused() {
        #expect(problems("sources: []\nsinks: []").isEmpty == false || true)
        #expect(
            problems("just a string").contains(": must be a mapping of keys to values")
                || problems("just a string").contains("must be a mapping of keys to values"))
        #expect(problems("{ sources: [ { name: a } ] }").contains("sources[0].type: is required"))
        #expect(problems("sinks:\n  - { name: f, type: file }").contains("sinks[0].path: is required"))
        #expect(
            problems("sinks:\n  - { name: f, type: file, path: /a }\n  - { name: f, type: file, path: /b }")
                .contains("sinks[1].name: \"f\" is used by another entry; names must be unique"))
        #expect(problems("sources: [ {").first?.hasPrefix("not valid YAML or JSON") == true)
    }

    @Test func aBadCAFileIsAConfigurationErrorNamingTheKey() throws {
        let path = NSTemporaryDirectory() + "bad-ca-\(UUID().uuidString).pem"
        try "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n".write(toFile: path, atomically: true, encoding: .utf8)
        let text = minimal.replacingOccurrences(
            of: "    url: https://hooks.example/audit", with: "    url: https://hooks.example/audit\n    tls: { ca_file: \(path) }")
        let found = problems(text)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("sinks[0].tls.ca_file: not a usable PEM file (") == true)
        let missing = problems(
            minimal.replacingOccurrences(
                of: "    url: https://hooks.example/audit", with: "    url: https://hooks.example/audit\n    tls: { ca_file: /nonexistent/ca.pem }"))
        #expect(missing == ["sinks[0].tls.ca_file: cannot read /nonexistent/ca.pem"])
    }

    @Test func jsonIsAcceptedToo() throws {
        let json = """
            {"sources": [{"name": "deploys", "type": "deploys", "project": "acme", "token": "t"}],
             "sinks": [{"name": "archive", "type": "file", "path": "/tmp/x", "batch_size": 10}]}
            """
        let configuration = try ConfigurationLoader.parse(json, environment: [:])
        #expect(configuration.sinks[0].batchSize == 10)
    }

    @Test func everyExampleConfigInTheRepositoryLoads() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../config").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        #expect(!files.isEmpty)
        let environment = [
            "DEPLOYS_TOKEN": "t", "WEBHOOK_AUTH_TOKEN": "w", "WEBHOOK_SIGNING_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "OKTA_TOKEN": "o", "OP_EVENTS_TOKEN": "p", "DEEPINTSHIELD_TOKEN": "d", "LOGFIRE_TOKEN": "l",
            "SPLUNK_HEC_TOKEN": "s", "DATADOG_API_KEY": "k", "ELASTIC_API_KEY": "e", "GITHUB_TOKEN": "g", "SLACK_AUDIT_TOKEN": "s",
            "VENDOR_TOKEN": "v", "STATE_URL": "postgresql://forwarder:pw@db.internal:5432/audit?sslmode=verify-full",
        ]
        for file in files {
            do {
                _ = try ConfigurationLoader.load(path: directory.appendingPathComponent(file).path, environment: environment)
            } catch {
                Issue.record("config/\(file): \(error)")
            }
        }
    }
}

@Suite struct DurationAndRetryTests {
    @Test(arguments: [("500ms", 500), ("10s", 10_000), ("5m", 300_000), ("2h", 7_200_000), ("365d", 31_536_000_000), ("0", 0), ("1.5s", 1500)])
    func durationsParse(text: String, milliseconds: Int64) {
        #expect(DurationText.parse(text) == .milliseconds(milliseconds))
    }

    @Test(arguments: ["", "5", "-1s", "5 minutes", "1x", "+5s"])
    func badDurationsAreRefused(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func timesAcceptRFC3339DatesAndAges() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(TimeText.parse("2024-01-01T00:00:00Z", now: now) == Date(timeIntervalSince1970: 1_704_067_200))
        #expect(TimeText.parse("2024-01-01", now: now) == Date(timeIntervalSince1970: 1_704_067_200))
        #expect(TimeText.parse("6h", now: now) == now.addingTimeInterval(-21600))
        #expect(TimeText.parse("yesterday", now: now) == nil)
    }

    @Test func backoffIsExponentialWithFullJitterCappedAndRetryAfterWins() {
        let policy = RetryPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(10))
        #expect(policy.delay(afterAttempts: 1, retryAfter: nil, random: 1) == .seconds(1))
        #expect(policy.delay(afterAttempts: 3, retryAfter: nil, random: 1) == .seconds(4))
        #expect(policy.delay(afterAttempts: 3, retryAfter: nil, random: 0.5) == .seconds(2))
        #expect(policy.delay(afterAttempts: 30, retryAfter: nil, random: 1) == .seconds(10))
        #expect(policy.delay(afterAttempts: 3, retryAfter: nil, random: 0) == .zero)
        #expect(policy.delay(afterAttempts: 5, retryAfter: .seconds(66), random: 1) == .seconds(66))
        #expect(RetryPolicy(maxAttempts: 3).allowsAnother(after: 2))
        #expect(!RetryPolicy(maxAttempts: 3).allowsAnother(after: 3))
        #expect(RetryPolicy().allowsAnother(after: 1_000_000))
    }

    @Test func environmentExpansion() throws {
        #expect(try EnvironmentExpansion.expand("a${X}b${Y:-d}c", environment: ["X": "1"]) == "a1bdc")
        #expect(try EnvironmentExpansion.expand("$${X}", environment: ["X": "1"]) == "${X}")
        #expect(throws: EnvironmentExpansion.Failure.unset("Z")) { try EnvironmentExpansion.expand("${Z}", environment: [:]) }
        #expect(throws: EnvironmentExpansion.Failure.unterminated) { try EnvironmentExpansion.expand("${Z", environment: [:]) }
    }
}
