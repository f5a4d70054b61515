import Connectors
import Emulators
import Foundation
import Testing

@testable import Checkpoint
@testable import Forwarder

/// `backfill` with concurrent windows: how the range is cut, that N windows really run at once
/// (and never more), that they share the source's rate limit, and a killed and resumed Logfire job
/// as real processes.
@Suite(.awaitedTeardown, .serialized) struct BackfillTests {
    static let day: TimeInterval = 86400

    // MARK: The plan

    @Test func aResumedJobGetsOnlyTheWindowsThatHadNotFinished() {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        func day(_ n: Double) -> Date { start.addingTimeInterval(n * Self.day) }
        var job = BackfillJob(
            id: 1, source: "s", rangeStart: day(0), rangeEnd: day(5.5), position: day(1.25), onlySinks: nil, events: 0, finishedAt: nil)
        job.finishedAhead = [day(3)..<day(4)]
        let windows = BackfillPlan.pendingWindows(of: job, length: Self.day)
        #expect(
            windows == [
                PollWindow(start: day(1.25), end: day(2)), PollWindow(start: day(2), end: day(3)),
                PollWindow(start: day(4), end: day(5)), PollWindow(start: day(5), end: day(5.5)),
            ])
        job.position = day(5.5)
        #expect(BackfillPlan.pendingWindows(of: job, length: Self.day).isEmpty)
    }

    @Test func windowsStayWithinWhatTheAPIAllows() {
        struct Hourly: SourceConnector {
            var name: String { "hourly" }
            var origin: URL { URL(string: "http://x")! }
            var maximumWindow: TimeInterval? { 3600 }
            func makePoll(window: PollWindow) -> any SourcePoll { fatalError("not polled") }
            func upstreamMessage(in response: WireResponse) -> String? { nil }
        }
        #expect(BackfillPlan.windowLength(for: Hourly()) == 3600)
        let logfire = LogfireSource(configuration: LogfireConfiguration(name: "l", baseURL: URL(string: "http://x")!, token: Secret("t")))
        #expect(BackfillPlan.windowLength(for: logfire) == Self.day)
        #expect(logfire.maximumWindow == 90 * Self.day)
    }

    // MARK: Concurrency, in process against the Logfire emulator

    /// 12: more than AsyncHTTPClient's default of 8 connections per host, which queued the rest.
    @Test(arguments: [1, 3, 12])
    func windowsRunConcurrentlyUpToTheLimitAndNeverMore(limit: Int) async throws {
        let harness = UpstreamHarness()
        defer { harness.finish() }
        let (logfire, url) = try await harness.logfire()
        let now = Date()
        let entries = LogfireEmulator.generate(count: 120, from: now.addingTimeInterval(-12 * Self.day), to: now.addingTimeInterval(-3600))
        await logfire.seed(entries)
        // Each request lasts long enough for the other windows' requests to arrive meanwhile.
        await logfire.faults.setLatency(.milliseconds(300))
        let engine = try harness.engine(sources: UpstreamHarness.logfireSource(url))
        let job = try engine.store.createBackfillJob(source: "logfire", from: now.addingTimeInterval(-12 * Self.day), to: now, onlySinks: ["archive"])

        let outcome = await BackfillMode.run(engine: engine, job: job, concurrency: limit, deadline: .seconds(120)) { _ in }
        #expect(outcome == .complete, "\(outcome.failureText ?? "")")
        #expect(await logfire.windowsAsked().count == 12)
        #expect(await logfire.peakConcurrentRequests() == limit)
        #expect(Set(try harness.fileEventIDs()) == UpstreamHarness.ids(entries.map(\.id), source: "logfire"))
        #expect(try engine.store.backfillJob(id: job.id)?.finishedAt != nil)
    }

    @Test func concurrentWindowsShareTheSourcesRateLimit() async throws {
        let harness = UpstreamHarness()
        defer { harness.finish() }
        let (logfire, url) = try await harness.logfire()
        let now = Date()
        // Two requests per hour, one budget for the job.
        let clock = VirtualClock(requestCount: { await logfire.requests().count })
        let engine = try harness.engine(
            sources: UpstreamHarness.logfireSource(url, "    rate_limit: { requests: 2, per: 1h }"), clock: clock)
        let job = try engine.store.createBackfillJob(source: "logfire", from: now.addingTimeInterval(-6 * Self.day), to: now, onlySinks: nil)

        let outcome = await BackfillMode.run(engine: engine, job: job, concurrency: 3, deadline: .seconds(60)) { _ in }
        #expect(outcome == .complete, "\(outcome.failureText ?? "")")
        #expect(await logfire.windowsAsked().count == 6)
        // Six requests at two an hour: two hours on the (virtual) clock. A budget per window
        // would have waited for nothing.
        #expect(clock.now.offset >= .seconds(7200), "\(clock.countedWaits)")
        #expect(clock.countedWaits.filter { $0.duration > .seconds(3000) }.count >= 2)
    }

    // MARK: Events for some sinks only

    /// A backfill for one sink of two fills the spool with events the other never wants. That
    /// sink's offset must still move past them, or they are never pruned: with a small
    /// `spool_max_events` the backfill waited for room forever, and later the live tail would.
    @Test func aBackfillForOneSinkDoesNotPinTheSpoolForTheOthers() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let now = Date()
        let items = (1...450).map { DeploysAuditItem(id: Int64($0), createdAt: now.addingTimeInterval(-Self.day - Double($0))) }
        await harness.deploys.seed(items)
        let engine = try harness.engine(try harness.configuration(state: "  spool_max_events: 100"))
        Teardown.add { await engine.shutdown() }
        let job = try engine.store.createBackfillJob(source: "deploys", from: now.addingTimeInterval(-2 * Self.day), to: now, onlySinks: ["archive"])

        let outcome = await BackfillMode.run(engine: engine, job: job, deadline: .seconds(30)) { _ in }
        #expect(outcome == .complete, "\(outcome.failureText ?? "")")
        #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
        #expect(await harness.receiver.receivedEventIDs().isEmpty)
        // Both offsets reached the head, so everything was pruned.
        let head = try engine.store.headSeq()
        #expect(try engine.store.offset(sink: "hook") == head)
        #expect(try engine.store.offset(sink: "archive") == head)
        engine.maintain()
        #expect(try engine.store.spoolDepth() == 0)
    }

    // MARK: A real process, killed and resumed

    @Test func logfireBackfillOfTwoHundredDaysInConcurrentWindowsKilledAndResumedDeliversEachEventOnce() async throws {
        let harness = UpstreamHarness()
        defer { harness.finish() }
        let (logfire, url) = try await harness.logfire()
        let now = Date()
        let entries = LogfireEmulator.generate(
            count: 2000, from: now.addingTimeInterval(-200 * Self.day), to: now.addingTimeInterval(-2 * Self.day))
        await logfire.seed(entries)
        let expected = UpstreamHarness.ids(entries.map(\.id), source: "logfire")
        let config = harness.directory + "/config.yaml"
        // A long source timeout: the one window held back below must not be retried meanwhile.
        try harness.configText(
            sources: UpstreamHarness.logfireSource(url, "    lookback: 1h").replacingOccurrences(of: "timeout: 30s", with: "timeout: 60s")
        )
        .write(toFile: config, atomically: true, encoding: .utf8)
        let env = harness.environment
        let state = harness.statePath
        // The live tail first: a cursor at now, nothing of the history.
        #expect(try await ChildProcess.run(["once", "-c", config], environment: env, directory: harness.directory).status == 0)
        let liveCursor = try StateStore(path: state).cursor(source: "logfire")
        #expect(liveCursor != nil)
        #expect(try harness.fileEventIDs().isEmpty)

        // The 40th request of the backfill (a window a fifth into the range) is held back while the
        // other windows go on: the kill then finds windows finished ahead of an unfinished one.
        await logfire.faults.enqueue(.delay(.zero), times: 39)
        await logfire.faults.enqueue(.delay(.seconds(300)))
        let first = try ChildProcess(
            ["backfill", "-c", config, "--source", "logfire", "--from", "201d", "--sink", "archive", "--concurrency", "3"],
            environment: env, directory: harness.directory)
        #expect(await eventually { ((try? StateStore(path: state).backfillJob(id: 1))?.progress ?? 0) > 0.4 })
        first.signal(SIGKILL)
        _ = await first.wait(timeout: .seconds(10))
        #expect(first.stdout.contains("backfill job 1: logfire from"))
        let interrupted = try #require(try StateStore(path: state).backfillJob(id: 1))
        #expect(interrupted.finishedAt == nil && interrupted.progress < 1)
        // One request per one-day window: the 40th request is window 39's, or with three windows in
        // flight, arriving in any order, as late as window 41's; the position stops at its start (day 41).
        #expect(
            interrupted.position < interrupted.rangeStart.addingTimeInterval(41.5 * Self.day) && !interrupted.finishedAhead.isEmpty,
            "position \(interrupted.position.timeIntervalSince(interrupted.rangeStart) / Self.day) days into the range, \(interrupted.finishedAhead.count) windows finished ahead"
        )

        // The resume reaches the emulator as `localhost`: its requests are told from the killed
        // run's by the host they address, whenever those were read or answered.
        try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "http://127.0.0.1:", with: "http://localhost:")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let resumed = try await ChildProcess.run(
            ["backfill", "-c", config, "--resume", "1", "--concurrency", "3"], environment: env, directory: harness.directory)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("backfill job 1: done"))

        // The resume asked for exactly the windows that had not finished, each once: with the finished
        // prefix and the windows finished ahead of it they tile the range, without a gap or an
        // overlap. (Logfire's times are whole seconds.)
        func seconds(_ time: Date) -> Int64 { Int64(time.timeIntervalSince1970.rounded(.down)) }
        let again = await logfire.requests().filter { $0.authority?.hasPrefix("localhost:") == true }.map { request in
            let query = queryParameters(request.path)
            return [query["start_time"], query["end_time"]].map { $0.flatMap(Connectors.RFC3339.parse).map(seconds) ?? -1 }
        }
        let done =
            [[seconds(interrupted.rangeStart), seconds(interrupted.position)]]
            + interrupted.finishedAhead.map { [seconds($0.lowerBound), seconds($0.upperBound)] }
        let tiles = (done + again).sorted { $0[0] < $1[0] }
        #expect(again.count > 0 && again.count < 200)
        #expect(tiles.first?[0] == seconds(interrupted.rangeStart) && tiles.last?[1] == seconds(interrupted.rangeEnd))
        let seams = zip(tiles, tiles.dropFirst()).filter { $0.0[1] != $0.1[0] }
        #expect(seams.isEmpty, "a gap or an overlap: \(seams.prefix(3).map { "\($0.0) then \($0.1)" })")
        // Every window within the API's 90 days.
        #expect(await logfire.refusedLongWindows() == 0)

        // Each event spooled once over both runs; at the file, every id, repeated at most for the
        // batch the kill caught between its write and its offset.
        let job = try #require(try StateStore(path: state).backfillJob(id: 1))
        #expect(job.finishedAt != nil && job.finishedAhead.isEmpty)
        #expect(job.events == entries.count)
        let file = try harness.fileEventIDs()
        #expect(Set(file) == expected)
        #expect(file.count - entries.count <= 500)
        // The live cursor did not move, and the next live run resends nothing.
        #expect(try StateStore(path: state).cursor(source: "logfire") == liveCursor)
        #expect(try await ChildProcess.run(["once", "-c", config], environment: env, directory: harness.directory).status == 0)
        #expect(try harness.fileEventIDs().count == file.count)
    }
}
