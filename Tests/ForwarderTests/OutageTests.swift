import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

extension ReliabilityTests {
    /// Issue 6, item 2: a sink that refuses everything for a long stretch (connection refused, then
    /// 503) while upstream keeps producing: nothing is lost, the other sinks keep up, the spool
    /// drains after; a full spool pauses polling instead of dropping.
    @Suite(.awaitedTeardown) struct OutageTests {
        @Test func eachSinkDownInTurnLosesNothingAndTheOthersKeepUp() async throws {
            let profile = ReliabilityProfile.current
            let fleet = try await ReliabilityFleet.start()
            Teardown.add { await fleet.stop() }
            await fleet.produce(600, from: Date().addingTimeInterval(-3600), to: Date().addingTimeInterval(-120))
            let daemon = try ChildProcess(["run", "-c", try fleet.writeConfig()], environment: fleet.environment, directory: fleet.directory)
            #expect(await eventually(timeout: .seconds(120)) { await fleet.allDelivered() }, "the first backlog never arrived")

            // The yardstick: the same production with every sink up. Polls re-read the `overlap`, so
            // how long they take depends on how much was produced lately: compare like with like.
            let store = try StateStore(path: fleet.statePath)
            await produce(fleet, for: profile.outagePhase * 2)
            let baseline = await catchUp(fleet, store, sinks: ReliabilityFleet.sinkNames)
            #expect(baseline.delivered != nil)
            var report = ["with every sink up: \(baseline)"]
            for broken in ReliabilityFleet.httpSinks {
                await fleet.refuseConnections(broken)
                await produce(fleet, for: profile.outagePhase)
                try await fleet.answer503(broken)
                await produce(fleet, for: profile.outagePhase)
                // Still broken: the healthy sinks must have everything produced so far, the broken one must not.
                let healthy = await catchUp(fleet, store, sinks: ReliabilityFleet.sinkNames.filter { $0 != broken })
                #expect(healthy.delivered != nil, "with \(broken) down, the healthy sinks fell behind")
                #expect(!(await fleet.have([broken])), "\(broken) got everything: the outage did not hold")
                await fleet.recover(broken)
                let recovered = ContinuousClock.now
                #expect(await eventually(timeout: .seconds(120)) { await fleet.allDelivered() }, "\(broken) did not catch up after the outage")
                report.append(
                    "\(broken) down \(seconds(profile.outagePhase * 2)) (refused, then 503), the others: \(healthy); "
                        + "\(broken) caught up \(seconds(ContinuousClock.now - recovered)) after it recovered")
            }

            #expect(await eventually(timeout: .seconds(30)) { (try? store.spoolDepth()) == 0 }, "the spool did not drain")
            daemon.signal(SIGTERM)
            #expect(await daemon.wait(timeout: .seconds(60)) == 0, "stderr: \(daemon.stderr.suffix(2000))")
            let received = try await fleet.received()
            for sink in ReliabilityFleet.sinkNames {
                let tally = SinkTally(sink: sink, received: received[sink] ?? [], expected: fleet.expectedIDs(sink: sink))
                #expect(tally.lost == 0 && tally.unexpected == 0, "\(tally)")
            }
            #expect(await fleet.elastic.documentCount() == fleet.expectedIDs(sink: "elastic").count)
            #expect(try store.deadLetters().isEmpty)
            #expect(try store.integrityCheck() == "ok")
            fleet.expectNoSecrets(in: daemon.stdout + daemon.stderr)
            print(
                "reliability[\(profile.name)] outage: \(fleet.expectedIDs(sink: "file").count) events, 0 lost, spool drained; "
                    + report.joined(separator: "; "))
            await fleet.stop()
        }

        @Test func aFullSpoolPausesPollingInsteadOfDroppingAndResumesAfter() async throws {
            let profile = ReliabilityProfile.current
            let fleet = try await ReliabilityFleet.start()
            Teardown.add { await fleet.stop() }
            let limit = 500
            await fleet.produce(300, from: Date().addingTimeInterval(-3600), to: Date().addingTimeInterval(-120))
            let config = try fleet.writeConfig(spoolMaxEvents: limit, pageSize: 100, logLevel: "info")
            let daemon = try ChildProcess(["run", "-c", config], environment: fleet.environment, directory: fleet.directory)
            #expect(await eventually(timeout: .seconds(120)) { await fleet.allDelivered() })

            // Elasticsearch goes away; upstream produces far more than the spool may hold.
            await fleet.refuseConnections("elastic")
            let store = try StateStore(path: fleet.statePath)
            let depths = DepthSampler(store: store)
            await produce(fleet, for: max(profile.outagePhase * 2, .seconds(6)), perWave: 90)
            try await Task.sleep(for: .seconds(2))  // let the pollers reach the limit and stop
            let produced = fleet.upstreamIDs.values.reduce(0) { $0 + $1.count }
            let spooled = try ["deploys", "shield", "logfire"].reduce(0) { $0 + (try store.seenUpstreamIDs(source: $1).count) }
            let deepest = depths.stop()
            #expect(produced > 2 * limit)
            #expect(spooled < produced, "everything was fetched: polling never paused")
            // The limit stops polling between pages: one page per source may land on top of it.
            #expect(deepest <= Int64(2 * limit), "spool grew to \(deepest) with a limit of \(limit)")
            try await fleet.answer503("elastic")
            try await Task.sleep(for: .seconds(1))
            await fleet.recover("elastic")
            #expect(await eventually(timeout: .seconds(180)) { await fleet.allDelivered() }, "events were dropped or polling never resumed")
            #expect(await eventually(timeout: .seconds(30)) { (try? store.spoolDepth()) == 0 })

            daemon.signal(SIGTERM)
            #expect(await daemon.wait(timeout: .seconds(60)) == 0)
            let log = daemon.stdout + daemon.stderr
            #expect(log.contains("spool full, polling paused"))
            #expect(log.contains("spool has room again, polling resumed"))
            #expect(try store.deadLetters().isEmpty)
            fleet.expectNoSecrets(in: log)
            print(
                "reliability[\(profile.name)] full spool: limit \(limit), deepest \(deepest), \(spooled) of \(produced) events fetched while elastic was down, then all delivered"
            )
            await fleet.stop()
        }

        /// How long after the last event was produced everything was spooled, and `sinks` had it.
        struct CatchUp: CustomStringConvertible {
            var spooled: Duration?
            var delivered: Duration?
            var description: String {
                "everything spooled \(spooled.map(seconds) ?? "never") and delivered \(delivered.map(seconds) ?? "never") after the last event"
            }
        }

        private func catchUp(_ fleet: ReliabilityFleet, _ store: StateStore, sinks: [String]) async -> CatchUp {
            let start = ContinuousClock.now
            var result = CatchUp()
            let spooled = await eventually(timeout: .seconds(60)) {
                (try? fleet.upstreamIDs.allSatisfy { source, ids in try store.seenUpstreamIDs(source: source).count >= ids.count }) == true
            }
            if spooled { result.spooled = ContinuousClock.now - start }
            if await eventually(timeout: .seconds(30), { await fleet.have(sinks) }) { result.delivered = ContinuousClock.now - start }
            return result
        }

        /// Upstream keeps producing: a wave every half second.
        private func produce(_ fleet: ReliabilityFleet, for duration: Duration, perWave: Int = 30) async {
            let end = ContinuousClock.now.advanced(by: duration)
            while ContinuousClock.now < end {
                await fleet.produceLive(perWave)
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

/// Samples the spool depth every 100 ms until stopped; returns the deepest seen.
final class DepthSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var deepest: Int64 = 0
    private var task: Task<Void, Never>?

    init(store: StateStore) {
        task = Task { [self] in
            while !Task.isCancelled {
                if let depth = try? store.spoolDepth() { lock.withLock { deepest = max(deepest, depth) } }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func stop() -> Int64 {
        task?.cancel()
        return lock.withLock { deepest }
    }
}

/// "12.3 s".
func seconds(_ duration: Duration) -> String {
    let (whole, atto) = duration.components
    return String(format: "%.1f s", Double(whole) + Double(atto) / 1e18)
}
