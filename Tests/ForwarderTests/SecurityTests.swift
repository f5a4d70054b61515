import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// The agent holds every SaaS admin token and SIEM key of a company: credentials go only to the
/// origin they were configured for, what it writes is private, what hostile servers send is
/// bounded, and nothing prints a secret. Through the real binary against hostile loopback
/// servers; 127.0.0.2 stands in for another machine.
@Suite(.awaitedTeardown) struct SecurityTests {
    let directory = NSTemporaryDirectory() + "af-security-\(UUID().uuidString)"
    let token = "hostile-token-\(UUID().uuidString)"

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    static func items(_ count: Int, from first: Int = 1) -> String {
        let now = Date().addingTimeInterval(-600)
        return (first..<(first + count)).map { #"{"id":"e\#($0)","ts":"\#(RFC3339.format(now.addingTimeInterval(Double($0))))"}"# }
            .joined(separator: ",")
    }

    /// A one-source, one-file-sink configuration; `source` is the source's keys after its name.
    func writeConfig(source: String, extra: String = "", name: String = "config.yaml") throws -> String {
        let text = """
            state: { path: \(directory)/state.sqlite }
            log: { level: info, format: text }
            \(extra)
            sources:
              - { name: paged, \(source) }
            sinks:
              - { name: archive, type: file, path: \(directory)/out/events.ndjson }
            """
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func lines(_ path: String) -> [Substring] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    // MARK: Credentials stay with their origin

    enum LinkStyle: String, CaseIterable { case linkHeader, nextLink, deepIntShield }

    @Test(arguments: LinkStyle.allCases)
    func aPaginationLinkToAnotherHostIsRefusedAndGetsNothing(style: LinkStyle) async throws {
        let thief = HostileServer { _, _ in (200, [("Content-Type", "application/json")], Data(#"{"items":[]}"#.utf8)) }
        let thiefURL = try await thief.start(host: "127.0.0.2")
        let steal = thiefURL.absoluteString + "/steal?page=2"
        let upstream = HostileServer { _, _ in
            switch style {
            case .linkHeader:
                return (
                    200, [("Content-Type", "application/json"), ("Link", "<\(steal)>; rel=\"next\"")], Data(#"{"items":[\#(Self.items(3))]}"#.utf8)
                )
            case .nextLink:
                return (200, [("Content-Type", "application/json")], Data(#"{"items":[\#(Self.items(3))],"next":"\#(steal)"}"#.utf8))
            case .deepIntShield:
                let now = RFC3339.format(Date().addingTimeInterval(-600))
                let log =
                    #"{"event_id":"d1","timestamp":"\#(now)","event_type":"authentication","action":"login","status":"success","severity":"low","user":{"id":"u1","email":"a@b.c"},"resource":{"type":"session","id":"s1"}}"#
                return (200, [("Content-Type", "application/json")], Data(#"{"audit_logs":[\#(log)],"next_page":"\#(steal)"}"#.utf8))
            }
        }
        let upstreamURL = try await upstream.start()
        Teardown.add {
            await thief.stop(); await upstream.stop()
        }
        let source =
            switch style {
            case .linkHeader:
                #"type: http_json, url: "\#(upstreamURL)/events", auth: { type: bearer, token: "${HOSTILE_TOKEN}" }, items: items, id_field: id, time_field: ts, pagination: { type: link_header }"#
            case .nextLink:
                #"type: http_json, url: "\#(upstreamURL)/events", auth: { type: bearer, token: "${HOSTILE_TOKEN}" }, items: items, id_field: id, time_field: ts, pagination: { type: next_link, path: next }"#
            case .deepIntShield:
                #"type: deepintshield, base_url: "\#(upstreamURL)", token: "${HOSTILE_TOKEN}""#
            }
        let config = try writeConfig(source: source)
        let result = try await ChildProcess.run(["once", "-c", config], environment: ["HOSTILE_TOKEN": token], directory: directory)
        let output = result.stdout + result.stderr
        #expect(result.status == 1, "\(output)")
        #expect(thief.requests.isEmpty, "the other host was sent \(thief.requests.map(\.path))")
        #expect(output.contains("refusing to send a request to 127.0.0.2"), "\(output)")
        #expect(!output.contains(token))
        // The page read before the link is kept and delivered.
        #expect(lines(directory + "/out/events.ndjson").count == (style == .deepIntShield ? 1 : 3))
        #expect(upstream.requests.count == 1)
        #expect(upstream.requests.allSatisfy { $0.headers.contains { $0.name.lowercased() == "authorization" && $0.value == "Bearer \(token)" } })
    }

    @Test func originsCompareSchemeHostAndPort() throws {
        let configured = URL(string: "https://API.example.com/v1/logs")!
        #expect(
            ForeignOriginError(connector: "s", request: URL(string: "https://api.example.com:443/v1/logs?page=2")!, configured: configured) == nil)
        for other in [
            "http://api.example.com/v1/logs", "https://api.example.com:8443/v1", "https://evil.example.com/v1", "https://api.example.com.evil.net/",
        ] {
            let error = try #require(ForeignOriginError(connector: "s", request: URL(string: other)!, configured: configured), "\(other)")
            #expect(error.description.contains(URL(string: other)!.host!))
        }
    }

    // MARK: Private files

    @Test func stateLockAndFileSinkOutputArePrivateWhateverTheUmask() async throws {
        let upstream = HostileServer { _, _ in (200, [("Content-Type", "application/json")], Data(#"{"items":[\#(Self.items(5))]}"#.utf8)) }
        let url = try await upstream.start()
        Teardown.add { await upstream.stop() }
        let previous = umask(0o022)
        defer { umask(previous) }
        let config = try writeConfig(
            source:
                #"type: http_json, url: "\#(url)/events", auth: { type: bearer, token: "${HOSTILE_TOKEN}" }, items: items, id_field: id, time_field: ts"#
        )
        // A second sink for a group reader (a Splunk forwarder): mode 0640.
        try
            (try String(contentsOfFile: config, encoding: .utf8)
            + "\n  - { name: shared, type: file, path: \(directory)/shared/events.ndjson, mode: \"0640\" }\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await ChildProcess.run(["once", "-c", config], environment: ["HOSTILE_TOKEN": token], directory: directory)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        func mode(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        for file in ["state.sqlite", "state.sqlite-wal", "state.sqlite-shm", "state.sqlite.lock", "out/events.ndjson"] {
            let path = directory + "/" + file
            guard FileManager.default.fileExists(atPath: path) else { continue }
            #expect(mode(path) == 0o600, "\(file) is \(String(mode(path), radix: 8))")
        }
        #expect(mode(directory + "/state.sqlite") == 0o600)
        // The spool's segment files hold whole events too.
        #expect(mode(directory + "/state.sqlite-spool") == 0o700)
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory + "/state.sqlite-spool")
        #expect(!segments.isEmpty)
        for segment in segments { #expect(mode(directory + "/state.sqlite-spool/" + segment) == 0o600, "\(segment)") }
        #expect(mode(directory + "/out") == 0o700)
        #expect(mode(directory + "/shared/events.ndjson") == 0o640)
        #expect(mode(directory + "/shared") == 0o750)
        #expect(lines(directory + "/shared/events.ndjson").count == 5)

        // A state file made open by hand is named in a warning at the next run.
        chmod(directory + "/state.sqlite", 0o644)
        let again = try await ChildProcess.run(["once", "-c", config], environment: ["HOSTILE_TOKEN": token], directory: directory)
        #expect(again.status == 0)
        #expect((again.stdout + again.stderr).contains("is open to others than its owner (mode bits 044)"), "\(again.stdout)\(again.stderr)")
    }

    @Test func fileSinkModeIsCheckedWithItsKeyPath() throws {
        for bad in ["0777", "0660", "0400", "rw-r--r--", "06400"] {
            let text = """
                sources: [{ name: s, type: deploys, project: p, token: t }]
                sinks: [{ name: f, type: file, path: /tmp/x.ndjson, mode: "\(bad)" }]
                """
            #expect(throws: ConfigurationError.self) { try ConfigurationLoader.parse(text, environment: [:]) }
            do { _ = try ConfigurationLoader.parse(text, environment: [:]) } catch let error as ConfigurationError {
                #expect(error.problems.contains { $0.path == "sinks[0].mode" }, "\(bad): \(error)")
            }
        }
    }

    // MARK: Bounded pages

    @Test func aPageWithTooManyItemsFailsAndTheCursorStays() async throws {
        let upstream = HostileServer { _, _ in (200, [("Content-Type", "application/json")], Data(#"{"items":[\#(Self.items(1_001))]}"#.utf8)) }
        let url = try await upstream.start()
        Teardown.add { await upstream.stop() }
        let config = try writeConfig(
            source:
                #"type: http_json, url: "\#(url)/events", auth: { type: bearer, token: "${HOSTILE_TOKEN}" }, items: items, id_field: id, time_field: ts, max_page_items: 1000"#
        )
        let result = try await ChildProcess.run(["once", "-c", config], environment: ["HOSTILE_TOKEN": token], directory: directory)
        let output = result.stdout + result.stderr
        #expect(result.status == 1, "\(output)")
        #expect(output.contains("more than 1000 items in one array"), "\(output)")
        #expect(output.contains("max_page_items"))
        #expect(lines(directory + "/out/events.ndjson").isEmpty)
        let cursors = try await ChildProcess.run(["checkpoints", "list", "-c", config], environment: ["HOSTILE_TOKEN": token], directory: directory)
        #expect(!cursors.stdout.contains(String(RFC3339.format(Date()).prefix(10))), "the cursor moved:\n\(cursors.stdout)")
    }

    @Test func aPageOverMaxPageBytesFailsWithoutRetrying() async throws {
        let upstream = HostileServer { _, _ in (200, [("Content-Type", "application/json")], Data(#"{"items":[\#(Self.items(200))]}"#.utf8)) }
        let url = try await upstream.start()
        Teardown.add { await upstream.stop() }
        let config = try writeConfig(
            source:
                #"type: http_json, url: "\#(url)/events", auth: { type: bearer, token: "${HOSTILE_TOKEN}" }, items: items, id_field: id, time_field: ts, max_page_bytes: 4096"#
        )
        let result = try await ChildProcess.run(["once", "-c", config], environment: ["HOSTILE_TOKEN": token], directory: directory)
        let output = result.stdout + result.stderr
        #expect(result.status == 1, "\(output)")
        #expect(output.contains("over max_page_bytes (4096)"), "\(output)")
        #expect(upstream.requests.count == 1, "a page too large is not fetched again: \(upstream.requests.count) requests")
    }

    /// The bound holds whatever the shape: one item holding a huge array, or a deep tree of small values.
    @Test func theParserCountsValuesAndArrayElementsOfAnyShape() throws {
        let wide = Data(("{\"items\":[{\"id\":\"1\",\"tags\":[" + Array(repeating: "1", count: 5_000).joined(separator: ",") + "]}]}").utf8)
        #expect(throws: MalformedPayload.self) {
            try PageLimits.$current.withValue(.forPage(maxItems: 1_000)) { _ = try JSONValue.parse(wide) }
        }
        #expect(throws: Never.self) { _ = try JSONValue.parse(wide) }
        let many = Data(("[" + Array(repeating: #"{"a":1,"b":2,"c":3}"#, count: 300).joined(separator: ",") + "]").utf8)
        let limits = PageLimits(maxItems: 10_000, maxValues: 1_000)
        do {
            _ = try PageLimits.$current.withValue(limits) { try JSONValue.parse(many) }
            Issue.record("1,200 values passed a bound of 1,000")
        } catch let error as MalformedPayload {
            #expect(error.description.contains("more than 1000 JSON values"))
            #expect(!error.description.contains("\"a\""), "an over-limit page is not quoted")
        }
    }

    // MARK: Nothing printed

    @Test func dryRunShowsSinkURLsWithoutUserinfoOrQueryValues() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(3)
        let secretQuery = "q-\(UUID().uuidString)"
        let secretPassword = "pw-\(UUID().uuidString)"
        var text = harness.configText()
        text = text.replacingOccurrences(
            of: "url: \(harness.webhookURL.absoluteString)/audit",
            with: "url: \"http://user:\(secretPassword)@\(harness.webhookURL.host!):\(harness.webhookURL.port!)/audit?token=\(secretQuery)&x=1\"")
        let config = directory + "/dry.yaml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await ChildProcess.run(["dry-run", "-c", config, "--sink", "hook"], environment: harness.environment, directory: directory)
        let output = result.stdout + result.stderr
        #expect(result.status == 0, "\(output)")
        #expect(!output.contains(secretQuery) && !output.contains(secretPassword), "\(output)")
        #expect(output.contains("/audit?token=<redacted>&x=<redacted>"), "\(output)")
    }

    @Test func excerptsOfRemoteBodiesAreShortAndCannotForgeLogLines() {
        let body = Data(("\u{1B}[31mred\nlevel=info message=\"forged\"" + String(repeating: "x", count: 500)).utf8)
        let excerpt = MalformedPayload.excerpt(of: body)
        #expect(!excerpt.contains("\u{1B}") && !excerpt.contains("\n"))
        #expect(excerpt.contains("\\u{1b}[31mred\\nlevel=info"))
        #expect(excerpt.count < 120)
        #expect(excerpt.hasSuffix("(\(body.count) bytes)"))
    }

    @Test func configurationErrorsDoNotEchoValuesFromVariables() throws {
        let hidden = "not-a-number-\(UUID().uuidString)"
        let text = """
            state: { spool_max_events: "${SPOOL}" }
            sources: [{ name: s, type: deploys, project: p, token: t, timeout: "${TIMEOUT}" }]
            sinks: [{ name: f, type: file, path: /tmp/x.ndjson, batch_size: lots }]
            """
        do {
            _ = try ConfigurationLoader.parse(text, environment: ["SPOOL": hidden, "TIMEOUT": hidden])
            Issue.record("accepted")
        } catch let error as ConfigurationError {
            let message = error.description
            #expect(!message.contains(hidden), "\(message)")
            #expect(message.contains("state.spool_max_events") && message.contains("sources[0].timeout"))
            #expect(message.contains("comes from a variable"))
            // A literal value is still quoted: it is the operator's own text.
            #expect(message.contains("got \"lots\""))
        }
    }

    @Test func readyzNamesAFailingSinkWithoutItsAnswer() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let engine = try harness.engine(try harness.configuration())
        Teardown.add { await engine.shutdown() }
        let marker = "remote-said-\(UUID().uuidString)"
        let entry = SpoolEntry(
            upstreamID: "u1", eventID: "e1", eventTime: Date(), eventType: "other", severity: "info", action: "a", outcome: "success",
            payload: Data("{}".utf8))
        try engine.store.appendPage(
            source: "deploys", entries: [entry], cursor: nil, onlySinks: nil, walk: .unchanged, now: Date().addingTimeInterval(-60))
        try engine.store.recordSinkError(sink: "hook", error: "HTTP 500: \(marker)")
        let (ready, reason) = engine.readiness(failingFor: -1)
        #expect(!ready)
        #expect(reason.contains("hook") && !reason.contains(marker), "\(reason)")
    }

    // MARK: TLS

    @Test func aServerOfferingOnlyTLS11IsRefusedAndTLS12IsTheFloor() async throws {
        let files = try TLSFixtures.write(to: directory)
        let old = HostileServer { _, _ in (200, [], Data("{}".utf8)) }
        let url = try await old.start(tls: EmulatorTLS(certificateChainFile: files.certificate, privateKeyFile: files.key, maximumVersion: .tlsv11))
        Teardown.add { await old.stop() }
        let target = URL(string: "https://localhost:\(url.port!)/")!
        var options = TLSOptions()
        options.caFile = files.ca
        let client = try WireClient(tls: options)
        Teardown.add { await client.shutdown() }
        await #expect(throws: WireError.self) { _ = try await client.send(WireRequest(method: "GET", url: target), timeout: .seconds(5)) }
        #expect(old.requests.isEmpty)
        // The same server with TLS 1.2 answers: the refusal above is the version, not the setup.
        let modern = HostileServer { _, _ in (200, [], Data("{}".utf8)) }
        let modernURL = try await modern.start(
            tls: EmulatorTLS(certificateChainFile: files.certificate, privateKeyFile: files.key, maximumVersion: .tlsv12))
        Teardown.add { await modern.stop() }
        let answer = try await client.send(
            WireRequest(method: "GET", url: URL(string: "https://localhost:\(modernURL.port!)/")!), timeout: .seconds(5))
        #expect(answer.status == 200)
        // min_version: "1.3" refuses that TLS 1.2 server too.
        options.minimumVersion = .tls13
        let strict = try WireClient(tls: options)
        Teardown.add { await strict.shutdown() }
        await #expect(throws: WireError.self) {
            _ = try await strict.send(WireRequest(method: "GET", url: URL(string: "https://localhost:\(modernURL.port!)/")!), timeout: .seconds(5))
        }
    }

    // MARK: Warnings at start

    @Test func checkWarnsAboutSkippedVerificationPlainHTTPAndAWorldReadableConfigWithInlineSecrets() async throws {
        let text = """
            state: { path: \(directory)/state.sqlite }
            sources:
              - { name: shield, type: deepintshield, base_url: "https://shield.example.com", token: inline-secret-value, tls: { insecure_skip_verify: true } }
            sinks:
              - { name: splunk, type: splunk, hec_endpoint: "http://splunk.example.com:8088/services/collector", hec_token: "${HEC}" }
            """
        let config = directory + "/warn.yaml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)
        let result = try await ChildProcess.run(["check", "-c", config], environment: ["HEC": "hec-value"], directory: directory)
        let output = result.stdout + result.stderr
        #expect(result.status == 0, "\(output)")
        #expect(output.contains("sources[0] (shield): tls.insecure_skip_verify is on"), "\(output)")
        #expect(output.contains("sinks[0] (splunk): its credentials go over plain http://"), "\(output)")
        #expect(output.contains("readable by every user and holds secrets inline (sources[0].token)"), "\(output)")
        #expect(!output.contains("inline-secret-value") && !output.contains("hec-value"))
        chmod(config, 0o640)
        let quiet = try await ChildProcess.run(["check", "-c", config], environment: ["HEC": "hec-value"], directory: directory)
        #expect(!quiet.stdout.contains("readable by every user"), "\(quiet.stdout)")
    }

    /// A thousand sources with inline tokens make one short warning, not a 30 KB line.
    @Test func theInlineSecretsWarningNamesFiveKeysAndCountsTheRest() {
        let keys = (0..<1000).map { "sources[\($0)].token" }
        #expect(
            ForwarderConfiguration.keyList(keys)
                == "sources[0].token, sources[1].token, sources[2].token, sources[3].token, sources[4].token and 995 more")
        #expect(ForwarderConfiguration.keyList(["state.url"]) == "state.url")
    }

    // MARK: Secrets from files

    @Test func secretsComeFromFilesAndTheCredentialsDirectory() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(4)
        let credentials = directory + "/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        // As systemd names a file of the shipped units' LoadCredential= directory.
        try (harness.deploysToken + "\n").write(toFile: credentials + "/audit-forwarder_deploys_token", atomically: true, encoding: .utf8)
        try harness.webhookToken.write(toFile: directory + "/webhook_token", atomically: true, encoding: .utf8)
        let text = harness.configText()
            .replacingOccurrences(of: "token: ${DEPLOYS_TOKEN}", with: "token_file: deploys_token")
            .replacingOccurrences(of: #"token: "${WEBHOOK_TOKEN}""#, with: #"token_file: "\#(directory)/webhook_token""#)
        let config = directory + "/files.yaml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let environment = ["SIGNING_SECRET": harness.signingSecret, "CREDENTIALS_DIRECTORY": credentials]
        let result = try await ChildProcess.run(["once", "-c", config], environment: environment, directory: directory)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(await harness.receiver.receivedEventIDs().count == 4)

        // Both forms at once, or a file that is not there: exit 78 naming the key.
        try text.replacingOccurrences(of: "token_file: deploys_token", with: "token_file: deploys_token\n    token: x")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let both = try await ChildProcess.run(["check", "-c", config], environment: environment, directory: directory)
        #expect(both.status == 78)
        #expect(both.stderr.contains("sources[0].token_file: give token or token_file, not both"), "\(both.stderr)")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let missing = try await ChildProcess.run(
            ["check", "--connect", "-c", config], environment: ["SIGNING_SECRET": harness.signingSecret], directory: directory)
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("sources[0].token_file: cannot read deploys_token: no such file"), "\(missing.stderr)")
    }

    // MARK: Telemetry and proxies

    @Test func telemetryWithoutAHostListensOnLoopbackOnly() {
        #expect(TelemetryServer.address(":9464")! == ("127.0.0.1", 9464))
        #expect(TelemetryServer.address("0.0.0.0:9464")! == ("0.0.0.0", 9464))
        #expect(TelemetryServer.address("[::1]:9464")! == ("::1", 9464))
    }

    @Test func proxiesComeFromTheKeyOrTheEnvironmentAndNoProxyBypassesThem() throws {
        let https = URL(string: "https://api.example.com/v1")!
        let http = URL(string: "http://siem.internal.corp:8088/")!
        let environment = ["HTTPS_PROXY": "http://user:pw@proxy.corp:3128", "http_proxy": "proxy.corp:8080", "NO_PROXY": "localhost,.internal.corp"]
        let viaEnvironment = try #require(try ProxyServer.resolve(for: https, choice: .environment, environment: environment))
        #expect(viaEnvironment.host == "proxy.corp" && viaEnvironment.port == 3128 && viaEnvironment.username == "user")
        #expect(viaEnvironment.description == "http://proxy.corp:3128", "credentials never printed")
        #expect(try ProxyServer.resolve(for: http, choice: .environment, environment: environment) == nil, "NO_PROXY suffix")
        #expect(try ProxyServer.resolve(for: http, choice: .environment, environment: ["http_proxy": "proxy.corp:8080"])?.port == 8080)
        #expect(try ProxyServer.resolve(for: https, choice: .direct, environment: environment) == nil)
        #expect(ProxyServer.bypasses(host: "api.example.com", noProxy: "*"))
        #expect(!ProxyServer.bypasses(host: "evilinternal.corp", noProxy: "internal.corp"))
        #expect(ProxyServer.bypasses(host: "10.0.0.5", noProxy: "10.0.0.5:443"))
        #expect(throws: ProxyServer.InvalidVariable.self) {
            _ = try ProxyServer.resolve(for: https, choice: .environment, environment: ["HTTPS_PROXY": "socks5://x:1"])
        }
    }

    /// Requests really go through the proxy: `HTTP_PROXY` points at a recording server, which
    /// sees the deploys.app request in absolute form; `proxy: none` on the source goes direct.
    @Test func aSourceReachesItsUpstreamThroughTheEnvironmentsProxy() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(2)
        let proxy = HostileServer { _, _ in (502, [], Data("proxy says no".utf8)) }
        let proxyURL = try await proxy.start(host: "127.0.0.3")
        Teardown.add { await proxy.stop() }
        let config = try harness.writeConfig()
        let environment = harness.environment.merging(["HTTP_PROXY": proxyURL.absoluteString, "NO_PROXY": "127.0.0.2"]) { $1 }
        let result = try await ChildProcess.run(["check", "--connect", "-c", config], environment: environment, directory: directory)
        #expect(result.status == 1, "\(result.stdout)")
        #expect(proxy.requests.contains { $0.path.contains(harness.deploysURL.host!) || $0.path.hasPrefix("/") }, "\(proxy.requests.map(\.path))")
        #expect(!proxy.requests.isEmpty)
        let direct = try await ChildProcess.run(
            ["check", "--connect", "-c", config],
            environment: harness.environment.merging(["HTTP_PROXY": proxyURL.absoluteString, "NO_PROXY": "127.0.0.1"]) { $1 },
            directory: directory)
        #expect(direct.stdout.contains("deploys") && direct.stdout.contains("OK"), "\(direct.stdout)")
    }
}
