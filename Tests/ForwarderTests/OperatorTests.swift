import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// An operator's first day, through the binary: exit codes that tell the truth, output that never
/// crashes the process, admin commands that find and read the state without the service's
/// secrets, and errors in plain words that name the setting to fix.
@Suite(.awaitedTeardown) struct OperatorTests {
    // MARK: Exit codes

    /// A sink refusing connections for the whole run is a failure (1), not "the rest next time"
    /// (75, which the timer counts as success).
    @Test func aSinkDownForTheWholeRunExitsOneNotSeventyFive() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(5)
        await harness.receiver.stop()
        // The webhook points at a port held bound and not listening: refused, and no other test's
        // server can start there while the client retries. A fresh one: the webhook's own, just
        // freed, may already be another test's (CI once failed to take it back).
        let held = try #require(holdFreePort())
        defer { close(held.descriptor) }
        let config = try harness.writeConfig()
        let webhookAddress = "127.0.0.1:\(harness.webhookURL.port!)"
        let text = try String(contentsOfFile: config, encoding: .utf8)
        #expect(text.contains(webhookAddress))
        try text.replacingOccurrences(of: webhookAddress, with: "127.0.0.1:\(held.port)").write(toFile: config, atomically: true, encoding: .utf8)
        // The HTTP client retries a refused connection for its 10 s connect timeout before it
        // reports it: the deadline lets that happen once.
        let result = try await ChildProcess.run(
            ["once", "-c", config, "--deadline", "13s"], environment: harness.environment, directory: harness.directory)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("sink hook delivered nothing this run"), "\(result.stderr)")
        #expect(result.stderr.contains("connection refused by 127.0.0.1:\(held.port)"), "\(result.stderr)")
        // The file sink delivered; the webhook's events wait in the spool for next time.
        #expect(try harness.fileEventIDs().count == 5)
    }

    /// 75 stays what it meant: the deadline passed, nothing failed, the sink was delivering.
    @Test func aSlowButWorkingSinkAtTheDeadlineStillExitsSeventyFive() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(60)
        // One event per request, each answered after 300 ms: 60 take 18 s, the deadline is 8 s.
        for _ in 0..<60 { await harness.receiver.faults.enqueue(.delay(.milliseconds(300))) }
        let config = try harness.writeConfig()
        let result = try await ChildProcess.run(
            ["once", "-c", config, "--deadline", "8s"], environment: harness.environment, directory: harness.directory)
        #expect(result.status == 75, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("deadline passed"), "\(result.stderr)")
    }

    // MARK: Output

    /// `once | head -1`: stdout closes after the first line; the run goes on and delivers all.
    @Test func aClosedStdoutNeverStopsTheRun() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(30)
        let config = try harness.writeConfig()
        try (try String(contentsOfFile: config, encoding: .utf8)).replacingOccurrences(of: "level: warning", with: "level: debug")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let script = "'\(ChildProcess.binary)' once -c '\(config)' 2>'\(harness.directory)/stderr.log' | head -1; echo \"status=${PIPESTATUS[0]}\""
        let result = try await ChildProcess.runTool("/bin/bash", ["-c", "cd '\(harness.directory)' && " + script], environment: harness.environment)
            .output
        #expect(result.contains("status=0"), "\(result)")
        let stderr = (try? String(contentsOfFile: harness.directory + "/stderr.log", encoding: .utf8)) ?? ""
        #expect(!stderr.contains("Fatal error"), "\(stderr)")
        #expect(try harness.fileEventIDs().count == 30)
        #expect(await harness.receiver.receivedEventIDs().count == 30)
    }

    @Test func versionNamesTheReleaseAndTheBuild() async throws {
        let directory = NSTemporaryDirectory()
        let result = try await ChildProcess.run(["--version"], directory: directory)
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("audit-forwarder 0.7.0 ("), "\(result.stdout)")
    }

    // MARK: Admin commands and state

    /// status, checkpoints and deadletters read the state: they run without the service's secret
    /// variables, and check without --connect only notes them.
    @Test func adminCommandsRunWithoutTheSecretsVariables() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(3)
        let config = try harness.writeConfig()
        #expect(try await ChildProcess.run(["once", "-c", config], environment: harness.environment, directory: harness.directory).status == 0)
        // The harness passes its secrets to each child explicitly; here the children get none.
        #expect(ProcessInfo.processInfo.environment["DEPLOYS_TOKEN"] == nil)
        for command in [["status"], ["checkpoints", "list"], ["deadletters", "list"]] {
            let result = try await ChildProcess.run(command + ["-c", config], directory: harness.directory)
            #expect(result.status == 0, "\(command): \(result.stdout)\(result.stderr)")
        }
        let letters = try await ChildProcess.run(["deadletters", "list", "-c", config], directory: harness.directory)
        #expect(letters.stdout.contains("no dead letters"))
        let check = try await ChildProcess.run(["check", "-c", config], directory: harness.directory)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("note: sources[0].token: environment variable DEPLOYS_TOKEN is not set"), "\(check.stdout)")
        let connect = try await ChildProcess.run(["check", "--connect", "-c", config], directory: harness.directory)
        #expect(connect.status == 78)
        let once = try await ChildProcess.run(["once", "-c", config], directory: harness.directory)
        #expect(once.status == 78)
    }

    @Test func theDefaultStatePathIsTheDaemonsWhenItExists() throws {
        let text = "sources: [{ name: s, type: deploys, project: p, token: t }]\nsinks: [{ name: f, type: file, path: /tmp/x.ndjson }]\n"
        let directory = NSTemporaryDirectory() + "af-system-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let system = directory + "/state.sqlite"
        #expect(try ConfigurationLoader.parse(text, environment: [:], systemStatePath: system).state.path == "./audit-forwarder.sqlite")
        FileManager.default.createFile(atPath: system, contents: nil)
        #expect(try ConfigurationLoader.parse(text, environment: [:], systemStatePath: system).state.path == system)
        #expect(
            try ConfigurationLoader.parse(text, environment: ["STATE_DIRECTORY": "/srv/af"], systemStatePath: system).state.path
                == "/srv/af/state.sqlite")
    }

    @Test func checkpointsSetIntoTheFutureIsRefusedUnlessForcedAndThenReported() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let config = try harness.writeConfig()
        let env = harness.environment
        // Before any run: setting where to start creates the state.
        let early = try await ChildProcess.run(
            ["checkpoints", "set", "-c", config, "--source", "deploys", "--to", "2d"], environment: env, directory: harness.directory)
        #expect(early.status == 0, "\(early.stderr)")
        let future = RFC3339.format(Date().addingTimeInterval(3 * 86400))
        let refused = try await ChildProcess.run(
            ["checkpoints", "set", "-c", config, "--source", "deploys", "--to", future], environment: env, directory: harness.directory)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("is in the future") && refused.stderr.contains("Usage: audit-forwarder checkpoints set"), "\(refused.stderr)")
        let forced = try await ChildProcess.run(
            ["checkpoints", "set", "-c", config, "--source", "deploys", "--to", future, "--force"], environment: env, directory: harness.directory)
        #expect(forced.status == 0)
        let status = try await ChildProcess.run(["status", "-c", config], environment: env, directory: harness.directory)
        #expect(status.stdout.contains("AHEAD 2d") || status.stdout.contains("AHEAD 3d"), "\(status.stdout)")
        let json = try await ChildProcess.run(["status", "--json", "-c", config], environment: env, directory: harness.directory)
        #expect(json.stdout.contains("\"ahead_seconds\""))
        let engine = try harness.engine(try harness.configuration())
        Teardown.add { await engine.shutdown() }
        let (ready, reason) = engine.readiness()
        #expect(!ready && reason.contains("ahead of now"), "\(reason)")
        let unknown = try await ChildProcess.run(
            ["checkpoints", "reset", "-c", config, "--source", "typo"], environment: env, directory: harness.directory)
        #expect(unknown.status == 64, "\(unknown.stdout)")
    }

    @Test func purgeWithoutASelectionAsksForAll() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let config = try harness.writeConfig()
        _ = try await ChildProcess.run(["once", "-c", config], environment: harness.environment, directory: harness.directory)
        let bare = try await ChildProcess.run(["deadletters", "purge", "-c", config], environment: harness.environment, directory: harness.directory)
        #expect(bare.status == 64)
        #expect(bare.stderr.contains("--all"), "\(bare.stderr)")
        let all = try await ChildProcess.run(
            ["deadletters", "purge", "--all", "-c", config], environment: harness.environment, directory: harness.directory)
        #expect(all.status == 0)
    }

    // MARK: Errors in plain words

    @Test func checkFindsAMissingStateDirectoryAndATelemetryPortInUse() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 1)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let text = harness.configText(state: "telemetry: { listen: \"127.0.0.1:\(port)\" }")
            .replacingOccurrences(of: "path: \(harness.statePath)", with: "path: \(harness.directory)/missing/state.sqlite")
        let config = harness.directory + "/bad.yaml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let check = try await ChildProcess.run(["check", "-c", config], environment: harness.environment, directory: harness.directory)
        #expect(check.status == 78)
        #expect(check.stderr.contains("state.path: the directory \(harness.directory)/missing does not exist"), "\(check.stderr)")
        #expect(check.stderr.contains("telemetry.listen: 127.0.0.1:\(port): port \(port) is in use"), "\(check.stderr)")
        let run = try await ChildProcess.run(["run", "-c", config], environment: harness.environment, directory: harness.directory)
        #expect(run.status == 78, "a daemon that cannot listen is a configuration error, not a restart loop")
    }

    @Test func aMissingConfigFileSaysSoAndHowToGiveAnother() async throws {
        let result = try await ChildProcess.run(["check", "-c", "/nonexistent/af.yaml"], directory: NSTemporaryDirectory())
        #expect(result.status == 78)
        #expect(result.stderr.contains("cannot read the configuration file /nonexistent/af.yaml: no such file"), "\(result.stderr)")
        #expect(!result.stderr.contains("couldn’t be opened"), "Foundation's boilerplate: \(result.stderr)")
    }

    @Test func aRefusedConnectionIsNamedWithItsAddress() async throws {
        let client = try WireClient()
        Teardown.add { await client.shutdown() }
        // A port bound and not listening: connections to it are refused, and no other test's
        // server can take it while the client retries (a merely free port was taken once).
        let reserved = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(reserved) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(reserved, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(reserved, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        do {
            _ = try await client.send(WireRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(port)/x")!), timeout: .seconds(5))
            Issue.record("nothing listens there")
        } catch let error as WireError {
            #expect(error.description.contains("connection refused by 127.0.0.1:\(port): nothing listens there"), "\(error)")
        }
    }

    /// A wrong type, or an unset secret, is one error: not also "unknown key" for every key after.
    @Test(arguments: [
        ("sinks: [{ name: s, type: splunkk, hec_endpoint: \"https://x:8088\", hec_token: t, index: main, source_type: a }]", "sinks[0].type"),
        (
            "sinks: [{ name: s, type: splunk, hec_endpoint: \"https://x:8088\", hec_token: \"${UNSET_TOKEN}\", index: main, source_type: a, acknowledgements: true }]",
            "sinks[0].hec_token"
        ),
        ("sinks: [{ name: d, type: datadog, api_key: \"${UNSET_TOKEN}\", service: s, tags: [a], source: x, hostname: h }]", "sinks[0].api_key"),
        ("sinks: [{ name: e, type: elastic, index: i, pipeline: p }]", "sinks[0].endpoint"),
    ])
    func oneMistakeIsOneError(sinks: String, path: String) throws {
        let text = "sources: [{ name: s, type: deploys, project: p, token: t }]\n" + sinks
        do {
            _ = try ConfigurationLoader.parse(text, environment: [:])
            Issue.record("accepted")
        } catch let error as ConfigurationError {
            #expect(error.problems.map(\.path) == [path], "\(error)")
        }
    }

    @Test func aNegativeDurationIsNamedAsSuch() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let config = try harness.writeConfig()
        let result = try await ChildProcess.run(
            ["once", "-c", config, "--deadline", "-5m"], environment: harness.environment, directory: harness.directory)
        #expect(result.status == 64)
        #expect(result.stderr.contains("a duration cannot be negative: -5m"), "\(result.stderr)")
        #expect(result.stderr.contains("Usage: audit-forwarder once"), "\(result.stderr)")
    }

    @Test func jsonLogsWriteCountsAsNumbers() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(4)
        let config = try harness.writeConfig()
        try (try String(contentsOfFile: config, encoding: .utf8)).replacingOccurrences(
            of: "log: { level: warning, format: text }", with: "log: { level: info, format: json }"
        )
        .write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await ChildProcess.run(["once", "-c", config], environment: harness.environment, directory: harness.directory)
        #expect(result.status == 0)
        let finished = try #require(result.stdout.split(separator: "\n").first { $0.contains("\"poll finished\"") || $0.contains("poll.spooled") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(finished.utf8)) as? [String: Any])
        #expect(object["poll.spooled"] is NSNumber && !(object["poll.spooled"] is String), "\(finished)")
        #expect(result.stdout.contains("\"once finished\""), "\(result.stdout)")
        #expect(result.stdout.contains("archive=4"), "once says what it delivered: \(result.stdout)")
    }
}

/// A socket bound to a free port of 127.0.0.1 and not listening (connections to it are refused,
/// and no server can take the port while it is held), with that port; nil when none was had.
func holdFreePort() -> (descriptor: Int32, port: Int)? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
    }
    guard bound else {
        close(descriptor)
        return nil
    }
    return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
}
