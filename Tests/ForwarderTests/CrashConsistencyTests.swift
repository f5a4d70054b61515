import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

extension ReliabilityTests {
    /// Issue 6, item 1: the real daemon against every upstream and every sink, killed with SIGKILL
    /// at random moments and restarted, must lose nothing and duplicate at most the batches in flight per kill.
    @Suite(.awaitedTeardown) struct CrashConsistencyTests {
        /// Why a kill counted: what was under way when it landed (read back after the kill).
        struct Phases {
            var polling = 0
            var delivering = 0
            var ackPending = 0
        }

        @Test func sigkillAtRandomMomentsAcrossAllUpstreamsAndSinksLosesNothing() async throws {
            let profile = ReliabilityProfile.current
            let started = ContinuousClock.now
            let fleet = try await ReliabilityFleet.start()
            Teardown.add { await fleet.stop() }
            // Four fifths are history (the last two hours); the rest arrive while it runs.
            let now = Date()
            let historyCount = profile.events * 4 / 5
            let history = await fleet.produce(historyCount, from: now.addingTimeInterval(-7200), to: now.addingTimeInterval(-120))
            let wave = (profile.events - historyCount) / profile.kills
            let config = try fleet.writeConfig()
            var outputs = ""
            var kills = 0
            var phases = Phases()

            for round in 0..<profile.kills {
                let acksBefore = await fleet.splunk.outstandingAcks()
                let child = try ChildProcess(["run", "-c", config], environment: fleet.environment, directory: fleet.directory)
                try await Task.sleep(for: .milliseconds(Int.random(in: profile.lifetime)))
                if child.process.isRunning {
                    child.signal(SIGKILL)
                    kills += 1
                }
                _ = await child.wait(timeout: .seconds(30))
                outputs += child.stdout + child.stderr
                try checkAfterKill(fleet, history: history, phases: &phases, acksGrew: await fleet.splunk.outstandingAcks() > acksBefore)
                // Upstream keeps producing between lives: new events, and late ones behind the cursor.
                await fleet.produceLive(round == profile.kills - 1 ? profile.events - historyCount - wave * round : wave)
            }

            // One last life, left to finish and stopped cleanly.
            let final = try ChildProcess(["run", "-c", config], environment: fleet.environment, directory: fleet.directory)
            let drained = await eventually(timeout: .seconds(profile.name == "full" ? 900 : 180)) { await fleet.allDelivered() }
            final.signal(SIGTERM)
            #expect(await final.wait(timeout: .seconds(60)) == 0, "final run: \(final.stderr.suffix(2000))")
            outputs += final.stdout + final.stderr
            #expect(drained, "not everything arrived after the last restart")

            let received = try await fleet.received()
            var tallies: [SinkTally] = []
            // A kill resends what was in flight: up to `max_in_flight` batches (8 by default) for
            // the HTTP sinks, one for the file and for Splunk with acknowledgements (ack_max_in_flight 1).
            let inFlight = SinkConfigurationReader.defaultMaxInFlight
            let resendable = ["splunk": 200, "datadog": 200 * inFlight, "elastic": 200 * inFlight, "webhook": 20 * inFlight, "file": 500]
            for sink in ReliabilityFleet.sinkNames {
                let tally = SinkTally(sink: sink, received: received[sink] ?? [], expected: fleet.expectedIDs(sink: sink))
                tallies.append(tally)
                #expect(tally.lost == 0, "\(tally)")
                #expect(tally.unexpected == 0, "\(tally)")
                #expect(tally.duplicates <= kills * resendable[sink]!, "\(tally): more than the batches in flight per kill (\(kills) kills)")
            }
            // Elasticsearch stores one document per `_id`: resends are refused, never stored twice.
            #expect(await fleet.elastic.documentCount() == fleet.expectedIDs(sink: "elastic").count)
            #expect(await fleet.datadog.droppedStale().isEmpty)
            let store = try StateStore(path: fleet.statePath)
            #expect(try store.integrityCheck() == "ok")
            #expect(try store.deadLetters().isEmpty)
            #expect(kills >= profile.kills / 2, "the forwarder finished before most kills could land")
            fleet.expectNoSecrets(in: outputs)
            // A seeding mistake, not the forwarder's: deploys.app cannot page a second of over 100 rows.
            #expect(!outputs.contains("more than 100 events share the second"))

            let seconds = (ContinuousClock.now - started).components.seconds
            print(
                "reliability[\(profile.name)] crash: \(fleet.expectedIDs(sink: "file").count) events, \(kills) kills "
                    + "(during polls \(phases.polling), with deliveries pending \(phases.delivering), with a Splunk ack pending \(phases.ackPending)); "
                    + tallies.map(\.description).joined(separator: "; ")
                    + "; elastic \(await fleet.elastic.documentCount()) documents for \(fleet.expectedIDs(sink: "elastic").count) events "
                    + "(\(await fleet.elasticResends()) resent items refused by create); integrity ok; \(seconds) s")
            await fleet.stop()
        }

        /// After each kill: the state file is sound, and no cursor ran ahead of the spool (every
        /// history event older than a source's cursor is in its dedupe index).
        private func checkAfterKill(
            _ fleet: ReliabilityFleet, history: [String: [(id: String, time: Date)]], phases: inout Phases, acksGrew: Bool
        ) throws {
            let store = try StateStore(path: fleet.statePath)
            #expect(try store.integrityCheck() == "ok")
            var polling = false
            for (source, events) in history {
                let seen = try store.seenUpstreamIDs(source: source)
                if seen.count < fleet.upstreamIDs[source]?.count ?? 0 { polling = true }
                guard let cursor = try store.cursor(source: source).flatMap(RFC3339.parse) else { continue }
                let behind = events.filter { $0.time < cursor }
                let missing = behind.filter { !seen.contains($0.id) }
                #expect(missing.isEmpty, "\(source): cursor \(cursor) ran ahead of the spool by \(missing.count) events")
            }
            let head = try store.headSeq()
            let delivering = try ReliabilityFleet.sinkNames.contains { try store.offset(sink: $0) < head }
            phases.polling += polling ? 1 : 0
            phases.delivering += delivering ? 1 : 0
            phases.ackPending += acksGrew ? 1 : 0
        }
    }
}
