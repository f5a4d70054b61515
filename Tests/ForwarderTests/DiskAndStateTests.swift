import Connectors
import Emulators
import Foundation
import ServiceLifecycle
import Testing

@testable import Checkpoint
@testable import Forwarder

/// Disk and state (issue 6): a full disk during a spool write, and state files that are not ours.
/// A small tmpfs cannot be mounted without root here, so the full disk is simulated: the state file
/// is capped at its size (`PRAGMA max_page_count`, SQLite answers SQLITE_FULL) and the spool's
/// segment files refuse writes with ENOSPC, as on a full disk.
@Suite(.awaitedTeardown, .tags(.slow), .enabled(if: SlowTests.enabled, SlowTests.reason)) struct DiskAndStateTests {
    /// 300 events of 4 KB in the last ten minutes: far more than a fresh state file has room for.
    static func seedMoreThanAFreshStateFileHolds(_ harness: Harness) async -> [DeploysAuditItem] {
        let now = Date()
        let items = (0..<300).map { index in
            DeploysAuditItem(
                id: Int64(1 + index), detail: String(repeating: "x", count: 4000), createdAt: now.addingTimeInterval(-Double(600 - index)))
        }
        await harness.deploys.seed(items)
        return items
    }

    /// What a full disk's error says: the page's payloads are written, and fail, first.
    static let noSpace = "cannot write spool segment 1: No space left on device"

    @Test func aFullDiskStopsThePollWithAnErrorAndNothingIsLostWhenSpaceReturns() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await Self.seedMoreThanAFreshStateFileHolds(harness)
        let log = LogRecorder()
        let engine = try harness.engine(try harness.configuration(source: "    page_size: 50"), clock: VirtualClock(), logger: log.logger)
        Teardown.add { await engine.shutdown() }

        try (engine.store as! StateStore).simulateFullDisk(true)
        let failure = try #require(await OnceMode.run(engine: engine, deadline: .seconds(60)).failureText)
        #expect(failure.contains(Self.noSpace), "\(failure)")
        #expect(!log.problems(containing: Self.noSpace).isEmpty, "\(log.text)")
        // Nothing was spooled, so the cursor did not move.
        #expect(try engine.store.cursor(source: "deploys") == nil)
        #expect(try harness.fileEventIDs().isEmpty)

        try (engine.store as! StateStore).simulateFullDisk(false)
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
        #expect(Set(await harness.receiver.receivedEventIDs()) == harness.expectedIDs(items))
        #expect(try engine.store.integrityCheck() == "ok")
    }

    /// The daemon rides out a full disk without a restart: every poll fails and says so, nothing
    /// is delivered meanwhile, and once space returns the next poll spools everything and it
    /// reaches both sinks, each event once in the file.
    @Test func theDaemonResumesOnItsOwnWhenSpaceReturns() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await Self.seedMoreThanAFreshStateFileHolds(harness)
        let log = LogRecorder()
        // Webhook batches of 100: 300 signed requests one by one took over 30 s in a loaded debug run.
        let configuration = try harness.configuration(source: "    page_size: 50\n    poll_interval: 1s", webhook: "    batch_size: 100")
        let engine = try harness.engine(configuration, logger: log.logger)
        Teardown.add { await engine.shutdown() }
        try (engine.store as! StateStore).simulateFullDisk(true)
        let group = DaemonMode.serviceGroup(engine: engine, stopsOnSignals: false)
        let daemon = Task { try await group.run() }

        let failedTwice = await eventually(timeout: .seconds(20)) { log.problems(containing: Self.noSpace).count >= 2 }
        #expect(failedTwice, "\(log.text)")
        #expect(try harness.fileEventIDs().isEmpty)
        #expect(try engine.store.cursor(source: "deploys") == nil)

        try (engine.store as! StateStore).simulateFullDisk(false)
        let expected = harness.expectedIDs(items)
        let delivered = await eventually(timeout: .seconds(60)) {
            let received = Set(await harness.receiver.receivedEventIDs())
            return received == expected && (try? Set(harness.fileEventIDs())) == expected
        }
        await group.triggerGracefulShutdown()
        try await daemon.value
        #expect(delivered, "\(log.text)")
        #expect(try harness.fileEventIDs().count == items.count)
        #expect(Set(await harness.receiver.receivedEventIDs()) == expected)
        #expect(try engine.store.integrityCheck() == "ok")
    }

    /// The file sink's own outage: its path cannot be opened for a while (a directory stands where
    /// the file should be, as an unmounted or read-only volume would refuse it). Its batches are
    /// retried with the error logged, the webhook is not held up, and once the path is free every
    /// event is written, each once, and nothing was dead-lettered.
    @Test func aFileSinkThatCannotOpenItsPathRetriesWhileTheWebhookGoesOn() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(200)
        let expected = harness.expectedIDs(items)
        try FileManager.default.createDirectory(atPath: harness.filePath, withIntermediateDirectories: false)
        let log = LogRecorder()
        let configuration = try harness.configuration(
            webhook: "    batch_size: 50", file: "    retry: { initial_backoff: 50ms, max_backoff: 200ms }")
        let engine = try harness.engine(configuration, logger: log.logger)
        Teardown.add { await engine.shutdown() }
        let once = Task { await OnceMode.run(engine: engine, deadline: .seconds(60)) }

        let webhookDone = await eventually(timeout: .seconds(30)) { Set(await harness.receiver.receivedEventIDs()) == expected }
        #expect(webhookDone)
        let retried = await eventually(timeout: .seconds(30)) { log.problems(containing: harness.filePath).count >= 2 }
        #expect(retried, "\(log.text)")
        #expect(try engine.store.offset(sink: "archive") == 0)

        try FileManager.default.removeItem(atPath: harness.filePath)
        #expect(await once.value == .complete)
        #expect(try harness.fileEventIDs().sorted() == expected.sorted())
        #expect(try engine.store.deadLetters(sink: "archive").isEmpty)
    }

    /// The binary refuses a state file that is not its own, says why, and leaves it byte for byte.
    @Test(arguments: ["text file", "another program's SQLite", "corrupted SQLite"])
    func aForeignOrCorruptStateFileIsRefusedByTheBinaryAndLeftUntouched(kind: String) async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(30)
        let config = try harness.writeConfig()
        let expected: String
        switch kind {
        case "text file":
            try Data("definitely not sqlite\n".utf8).write(to: URL(fileURLWithPath: harness.statePath))
            expected = "is not an SQLite database"
        case "another program's SQLite":
            let python = try await ChildProcess.runTool(
                "/usr/bin/env",
                [
                    "python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table t(x)'); c.commit()",
                    harness.statePath,
                ])
            try #require(python.status == 0, "\(python.output)")
            expected = "an SQLite database of another program"
        default:
            // A real state file, then every page after the first overwritten with noise.
            let made = try await ChildProcess.run(["once", "-c", config], environment: harness.environment, directory: harness.directory)
            try #require(made.status == 0, "\(made.stderr)")
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: harness.statePath)))
            try #require(bytes.count > 8192)
            var random = SplitMix64(seed: 7)
            for index in 4096..<bytes.count { bytes[index] = UInt8.random(in: 0...255, using: &random) }
            try Data(bytes).write(to: URL(fileURLWithPath: harness.statePath))
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: harness.statePath + suffix) }
            expected = "malformed"
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: harness.statePath))
        let result = try await ChildProcess.run(["once", "-c", config], environment: harness.environment, directory: harness.directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: harness.statePath)) == before)
    }
}
