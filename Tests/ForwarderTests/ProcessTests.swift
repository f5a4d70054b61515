import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// Tests that run the real binary: crashes, signals, exit statuses, the run lock.
@Suite(.awaitedTeardown, .serialized, .tags(.slow), .enabled(if: SlowTests.enabled, SlowTests.reason)) struct ProcessTests {
    @Test func sigkillAtTenRandomMomentsLosesNothingAndTheCursorNeverRunsAhead() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(3000)
        // Both sinks chain and sign what they deliver: the chains must verify after the kills.
        let keys = IntegritySigner.generate()
        let integrity = "    integrity: { signing_key: \"${INTEGRITY_KEY}\" }"
        let config = try harness.writeConfig(source: "    page_size: 50", webhook: "    batch_size: 1\n" + integrity, file: integrity)
        let environment = harness.environment.merging(["INTEGRITY_KEY": keys.signingKey]) { $1 }
        let allSecrets = [harness.deploysToken, harness.webhookToken, harness.signingSecret, keys.signingKey]
        var outputs = ""
        var kills = 0
        for _ in 0..<10 {
            let child = try ChildProcess(["once", "-c", config], environment: environment, directory: harness.directory)
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...1500)))
            if child.process.isRunning {
                child.signal(SIGKILL)
                kills += 1
            }
            _ = await child.wait(timeout: .seconds(30))
            outputs += child.stdout + child.stderr
            // After every kill: each upstream event older than the cursor is in the spool's dedupe index.
            let store = try StateStore(path: harness.statePath)
            if let cursor = try store.cursor(source: "deploys").flatMap(RFC3339.parse) {
                let seen = try store.seenUpstreamIDs(source: "deploys")
                let behindCursor = items.filter { $0.createdAt < cursor }.map { String($0.id) }
                #expect(behindCursor.allSatisfy(seen.contains), "cursor \(cursor) ran ahead of the spool")
            }
            #expect(try store.integrityCheck() == "ok")
        }
        let final = try await ChildProcess.run(["once", "-c", config], environment: environment, directory: harness.directory)
        #expect(final.status == 0, "final run: \(final.stderr)")
        outputs += final.stdout + final.stderr

        let expected = harness.expectedIDs(items)
        let webhook = await harness.receiver.receivedEventIDs()
        let file = try harness.fileEventIDs()
        #expect(Set(webhook) == expected, "lost at the webhook: \(expected.subtracting(webhook).count)")
        #expect(Set(file) == expected, "lost in the file: \(expected.subtracting(file).count)")
        // At-least-once with bounded duplicates: at most the batches in flight per kill (the
        // webhook's `max_in_flight`, 8 by default, of one event each; the file's one batch).
        #expect(webhook.count - expected.count <= kills * SinkConfigurationReader.defaultMaxInFlight)
        #expect(file.count - expected.count <= kills * 500)
        #expect(kills >= 3, "the run finished too fast for the kills to land")
        for secret in allSecrets { #expect(!outputs.contains(secret)) }
        // The chains of both outputs verify, resends and all: the webhook's bodies as received.
        let received = harness.directory + "/webhook.ndjson"
        try (await harness.receiver.deliveries()).map { String(decoding: $0.body, as: UTF8.self) }.joined(separator: "\n")
            .write(toFile: received, atomically: true, encoding: .utf8)
        for output in [harness.filePath, received] {
            let verify = try await ChildProcess.run(["verify", "--public-key", keys.publicKey, output], directory: harness.directory)
            #expect(verify.status == 0, "\(output): \(verify.stdout)")
            #expect(verify.stdout.contains("3000 event(s) verified"), "\(verify.stdout)")
        }
        print(
            "crash test: \(kills) kills, \(expected.count) events, 0 lost, duplicates webhook \(webhook.count - expected.count), file \(file.count - expected.count)"
        )
    }

    @Test func daemonDeliversKeepsPollingAndDrainsOnSigterm() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(200)
        let config = try harness.writeConfig(source: "    poll_interval: 1s\n    overlap: 1m")
        let daemon = try ChildProcess(["run", "-c", config], environment: harness.environment, directory: harness.directory)
        #expect(await eventually { await harness.receiver.receivedEventIDs().count >= 200 })
        let late = DeploysAuditItem(id: 5000, action: "role.grant", createdAt: Date().addingTimeInterval(-5))
        await harness.deploys.insert(late)
        #expect(await eventually { await harness.receiver.receivedEventIDs().count >= 201 })
        daemon.signal(SIGTERM)
        let status = await daemon.wait(timeout: .seconds(30))
        #expect(status == 0, "stderr: \(daemon.stderr)")
        #expect(Set(await harness.receiver.receivedEventIDs()) == harness.expectedIDs(items + [late]))
        #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items + [late]))
        let output = daemon.stdout + daemon.stderr
        for secret in [harness.deploysToken, harness.webhookToken, harness.signingSecret] { #expect(!output.contains(secret)) }
    }

    @Test func jsonLogsAreOneObjectPerLine() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(5)
        let path = harness.directory + "/json.yaml"
        try harness.configText().replacingOccurrences(of: "log: { level: warning, format: text }", with: "log: { level: info, format: json }")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await ChildProcess.run(["once", "-c", path], environment: harness.environment, directory: harness.directory)
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] is String && object?["level"] is String && object?["message"] is String)
        }
        #expect(lines.contains { $0.contains("\"message\":\"poll complete\"") && $0.contains("\"source\":\"deploys\"") })
    }

    @Test func invalidConfigurationExits78NamingTheKeyPath() async throws {
        let directory = NSTemporaryDirectory() + "af-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/bad.yaml"
        try """
        sources:
          - { name: d, type: deploys, project: acme, token: "${UNSET_TOKEN_FOR_TEST}" }
        sinks:
          - { name: f, type: file, path: /tmp/x, batch_size: 0 }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        for command in ["check", "once", "run"] {
            let result = try await ChildProcess.run([command, "-c", path], directory: directory)
            #expect(result.status == 78)
            #expect(result.stderr.contains("sinks[0].batch_size: must be between 1 and 10000"))
            // check without --connect sends nothing, so it does not need the secret's variable.
            #expect(result.stderr.contains("sources[0].token: environment variable UNSET_TOKEN_FOR_TEST is not set") == (command != "check"))
        }
        let missing = try await ChildProcess.run(["check", "-c", directory + "/nope.yaml"], directory: directory)
        #expect(missing.status == 78)
        let usage = try await ChildProcess.run(["once", "--bogus"], directory: directory)
        #expect(usage.status == 64)
    }

    @Test func aSecondRunnerOnTheSameStateIsRefusedClearly() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let config = try harness.writeConfig()
        let lock = RunLock(statePath: harness.statePath)
        try await lock.acquire()
        let result = try await ChildProcess.run(
            ["once", "-c", config, "--lock-wait", "300ms"], environment: harness.environment, directory: harness.directory)
        #expect(result.status == 75)
        #expect(result.stderr.contains("another audit-forwarder is running on this state file"))
        lock.release()
        let after = try await ChildProcess.run(["once", "-c", config], environment: harness.environment, directory: harness.directory)
        #expect(after.status == 0)
    }

    /// 75 means "try again later" (a timer counts it as success); a lock file that cannot be
    /// opened at all is a failure no retry fixes.
    @Test func aLockFileThatCannotBeOpenedIsAFailureNotATryAgain() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let path = harness.directory + "/unopenable.yaml"
        try harness.configText().replacingOccurrences(of: harness.statePath, with: harness.directory + "/missing/state.sqlite")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await ChildProcess.run(["once", "-c", path], environment: harness.environment, directory: harness.directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot open lock file"))
    }

    @Test func aForeignStateFileIsRefusedNotOverwritten() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let config = try harness.writeConfig()
        try Data("definitely not sqlite".utf8).write(to: URL(fileURLWithPath: harness.statePath))
        let result = try await ChildProcess.run(["once", "-c", config], environment: harness.environment, directory: harness.directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("is not an SQLite database"))
        #expect(try String(contentsOfFile: harness.statePath, encoding: .utf8) == "definitely not sqlite")
    }
}

/// Polls `condition` until it holds or 30 s pass.
func eventually(_ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: .seconds(30))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return false
}
