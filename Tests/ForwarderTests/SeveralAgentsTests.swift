import Checkpoint
import Connectors
import Emulators
import Foundation
import TestSupport
import Testing

@testable import Forwarder

/// Several real agent processes on one PostgreSQL state (DESIGN.md §8): sources leased to one
/// agent at a time, handed over when one joins, dies or is frozen, nothing lost.
@Suite(.awaitedTeardown, .serialized, .tags(.slow), .enabled(if: SlowTests.enabled, SlowTests.reason)) struct SeveralAgentsTests {
    static let sources = ["d1", "d2", "d3", "d4"]
    static let manySources = (1...12).map { "d\($0)" }

    /// Four deploys sources (one emulator, each source its own ids), a webhook receiver both
    /// agents deliver to, and a fresh database.
    func config(
        _ harness: Harness, _ database: PostgresLocation, ttl: String = "3s", lookback: String = "30d", sources names: [String] = sources,
        log: String = "{ level: info, format: text }", extraSinks: String = ""
    ) throws -> String {
        let sources = names.map { name in
            """
              - { name: \(name), type: deploys, base_url: "\(harness.deploysURL.absoluteString)", project: acme, token: "${DEPLOYS_TOKEN}", lookback: \(lookback), poll_interval: 1s, timeout: 30s }
            """
        }.joined(separator: "\n")
        let text = """
            state:
              url: "${STATE_URL}"
              lease_ttl: \(ttl)
            log: \(log)
            sources:
            \(sources)
            sinks:
              - name: hook
                type: webhook
                url: \(harness.webhookURL.absoluteString)/audit
                auth: { type: bearer, token: "${WEBHOOK_TOKEN}" }
                signing_secret: ${SIGNING_SECRET}
                retry: { initial_backoff: 10ms, max_backoff: 50ms }
            \(extraSinks)
            """
        let path = harness.directory + "/agents.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func environment(_ harness: Harness, _ database: PostgresLocation, agent: String) -> [String: String] {
        harness.environment.merging([
            "STATE_URL": "postgresql://\(database.user):db-secret-password@\(database.host):\(database.port)/\(database.database)?sslmode=disable",
            "AUDIT_FORWARDER_AGENT": agent,
        ]) { $1 }
    }

    func expected(_ harness: Harness, _ items: [DeploysAuditItem], sources: [String] = sources) -> Set<String> {
        sources.reduce(into: Set<String>()) { $0.formUnion(harness.expectedIDs(items, source: $1)) }
    }

    @Test func onceOnAPostgresStateDeliversEverythingOnceAndStatusShowsTheOwners() async throws {
        let server = try PostgresTestServer.shared.get()
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let items = await harness.seed(120)
        let path = try config(harness, database)
        let env = environment(harness, database, agent: "solo")

        let first = try await ChildProcess.run(["once", "-c", path], environment: env, directory: harness.directory)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(Set(await harness.receiver.receivedEventIDs()) == expected(harness, items))
        let second = try await ChildProcess.run(["once", "-c", path], environment: env, directory: harness.directory)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(await harness.receiver.receivedEventIDs().count == 480)

        // The leases were handed back at exit: no owner, each taken once (epoch 2 after the second run).
        let status = try await ChildProcess.run(["status", "--json", "-c", path], environment: env, directory: harness.directory)
        #expect(status.status == 0, "\(status.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let sources = try #require(report["sources"] as? [[String: Any]])
        #expect(sources.map { $0["epoch"] as? Int } == [2, 2, 2, 2], "\(status.stdout)")
        #expect(sources.allSatisfy { $0["owner"] == nil })
        #expect((report["agents"] as? [Any])?.isEmpty == true)
        // With no agent running, an operator moves a cursor: the change takes the lease (epoch 3)
        // and hands it back.
        let set = try await ChildProcess.run(
            ["checkpoints", "set", "-c", path, "--source", "d1", "--to", "1h"], environment: env, directory: harness.directory)
        #expect(set.status == 0, "\(set.stderr)")
        let leases = try PostgresStateStore(location: database).sourceLeases()
        #expect(leases.first { $0.source == "d1" }.map { $0.epoch == 3 && $0.expiresAt < Date() } == true, "\(leases)")
        // check --connect reaches the database too.
        let check = try await ChildProcess.run(["check", "--connect", "-c", path], environment: env, directory: harness.directory)
        #expect(check.stdout.contains("state") && check.stdout.contains("connected; 4 source cursor(s) stored"), "\(check.stdout)")
        for output in [first.stdout, first.stderr, second.stdout, status.stdout, status.stderr, check.stdout, check.stderr] {
            #expect(!output.contains("db-secret-password"))
        }
    }

    /// Agent a starts alone and takes every source; b joins and gets its fair share; a is
    /// SIGKILLed and b takes the rest within the lease TTL. Every event, old and new, arrives.
    @Test func aJoiningAgentGetsItsShareAndAKilledOnesSourcesAreTakenOver() async throws {
        let server = try PostgresTestServer.shared.get()
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        var items = await harness.seed(100)
        let path = try config(harness, database, log: "{ level: debug, format: json }")

        let a = try ChildProcess(["run", "-c", path], environment: environment(harness, database, agent: "a"), directory: harness.directory)
        defer { a.signal(SIGKILL) }
        #expect(await eventually { await harness.receiver.receivedEventIDs().count >= 400 })
        let store = try PostgresStateStore(location: database)
        #expect(try store.sourceLeases().allSatisfy { $0.owner == "a" })

        let b = try ChildProcess(["run", "-c", path], environment: environment(harness, database, agent: "b"), directory: harness.directory)
        defer { b.signal(SIGKILL) }
        // Within a few TTLs (3 s), each holds two.
        let shared = await eventually {
            let owners = ((try? store.sourceLeases()) ?? []).map(\.owner)
            return owners.filter { $0 == "a" }.count == 2 && owners.filter { $0 == "b" }.count == 2
        }
        #expect(shared, "leases: \(String(describing: try? store.sourceLeases()))")
        let status = try await ChildProcess.run(
            ["status", "-c", path], environment: environment(harness, database, agent: "admin"), directory: harness.directory)
        #expect(status.status == 0 && status.stdout.contains("OWNER") && status.stdout.contains("LAST HEARTBEAT"), "\(status.stdout)")
        #expect(status.stdout.split(separator: "\n").filter { $0.hasPrefix("a ") || $0.hasPrefix("b ") }.count == 2, "\(status.stdout)")
        // An operator's cursor change waits for no agent to hold the source: refused, exit 75.
        let set = try await ChildProcess.run(
            ["checkpoints", "set", "-c", path, "--source", "d1", "--to", "1h"], environment: environment(harness, database, agent: "admin"),
            directory: harness.directory)
        #expect(set.status == 75 && set.stderr.contains("source d1 is leased to agent"), "\(set.stderr)")

        a.signal(SIGKILL)
        _ = await a.wait(timeout: .seconds(10))
        let killedAt = Date()
        let late = DeploysAuditItem(id: 9000, action: "role.grant", createdAt: Date().addingTimeInterval(-5))
        await harness.deploys.insert(late)
        items.append(late)
        let everything = expected(harness, items)
        #expect(await eventually { Set(await harness.receiver.receivedEventIDs()).isSuperset(of: everything) })
        let tookOver = Date().timeIntervalSince(killedAt)
        let leases = try store.sourceLeases()
        #expect(leases.allSatisfy { $0.owner == "b" }, "\(leases)")
        // Taking a's two raised their epochs.
        #expect(leases.filter { $0.epoch >= 2 }.count >= 2)
        let received = await harness.receiver.receivedEventIDs()
        print(
            "several agents: \(everything.count) events, 0 lost, \(received.count - everything.count) duplicates, all delivered \(String(format: "%.1f", tookOver)) s after the kill"
        )

        b.signal(SIGTERM)
        #expect(await b.wait(timeout: .seconds(30)) == 0, "\(b.stderr)")
        // Never two agents polling one source at once, and one owner per epoch, by the polls
        // each agent logged (a's last one ended at its kill at the latest).
        let spans = PollSpan.read(a.stdout, agent: "a", endOfLog: killedAt) + PollSpan.read(b.stdout, agent: "b", endOfLog: Date())
        #expect(Set(spans.map(\.agent)) == ["a", "b"] && spans.count > 8, "\(spans.count) polls")
        PollSpan.expectOnePollerAtATime(spans)
        print(
            "several agents: \(spans.count) polls logged by a and b over \(Set(spans.map { "\($0.source)@\($0.epoch)" }).count) (source, epoch) pairs"
        )
        // A clean stop hands the leases back at once.
        #expect(try store.sourceLeases().allSatisfy { $0.expiresAt < Date() })
        #expect(!(a.stdout + a.stderr + b.stdout + b.stderr).contains("db-secret-password"))
    }

    /// Agent a frozen (SIGSTOP) past its leases: b takes every source over and delivers what
    /// arrives meanwhile; resumed, a's late changes are rejected by the epoch check, and nothing
    /// is lost.
    @Test func aFrozenAgentIsFencedOutAndNothingIsLost() async throws {
        let server = try PostgresTestServer.shared.get()
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        var items = await harness.seed(40)
        let path = try config(harness, database)
        let a = try ChildProcess(["run", "-c", path], environment: environment(harness, database, agent: "a"), directory: harness.directory)
        defer { a.signal(SIGKILL) }
        #expect(await eventually { await harness.receiver.receivedEventIDs().count >= 160 })

        a.signal(SIGSTOP)
        let b = try ChildProcess(["run", "-c", path], environment: environment(harness, database, agent: "b"), directory: harness.directory)
        defer { b.signal(SIGKILL) }
        let store = try PostgresStateStore(location: database)
        #expect(await eventually { ((try? store.sourceLeases()) ?? []).allSatisfy { $0.owner == "b" && $0.epoch == 2 } })
        let during = DeploysAuditItem(id: 7000, action: "role.grant", createdAt: Date().addingTimeInterval(-5))
        await harness.deploys.insert(during)
        items.append(during)
        // Frozen for three TTLs in all.
        try await Task.sleep(for: .seconds(5))
        a.signal(SIGCONT)
        let after = DeploysAuditItem(id: 7001, action: "role.revoke", createdAt: Date().addingTimeInterval(-5))
        await harness.deploys.insert(after)
        items.append(after)

        let everything = expected(harness, items)
        #expect(await eventually { Set(await harness.receiver.receivedEventIDs()).isSuperset(of: everything) })
        // a woke holding leases it no longer had: its first changes were refused and it let go.
        #expect(await eventually { a.stdout.contains("no longer leased to agent a") || a.stdout.contains("lease lost") }, "\(a.stdout)")
        // Then the two share the sources again.
        #expect(
            await eventually {
                let owners = ((try? store.sourceLeases()) ?? []).map(\.owner)
                return owners.filter { $0 == "a" }.count == 2 && owners.filter { $0 == "b" }.count == 2
            })
        let received = await harness.receiver.receivedEventIDs()
        print("frozen agent: \(everything.count) events, 0 lost, \(received.count - everything.count) duplicates")
    }

    /// The database ends the agent's connection (`pg_terminate_backend`, as a failover or an
    /// operator would): the agent reconnects and goes on.
    @Test func anAgentWhoseConnectionIsKilledReconnects() async throws {
        let server = try PostgresTestServer.shared.get()
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        var items = await harness.seed(20)
        let path = try config(harness, database)
        let a = try ChildProcess(["run", "-c", path], environment: environment(harness, database, agent: "a"), directory: harness.directory)
        defer { a.signal(SIGKILL) }
        #expect(await eventually { await harness.receiver.receivedEventIDs().count >= 80 })
        // Raises unless it ended at least one of the agent's connections.
        try server.psql(
            """
            DO $$ BEGIN IF (SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = '\(database.database)' AND application_name = 'audit-forwarder') < 1 THEN RAISE 'no backend ended'; END IF; END $$
            """)
        let late = DeploysAuditItem(id: 8000, action: "role.grant", createdAt: Date().addingTimeInterval(-5))
        await harness.deploys.insert(late)
        items.append(late)
        let everything = expected(harness, items)
        #expect(
            await eventually { Set(await harness.receiver.receivedEventIDs()).isSuperset(of: everything) },
            "\(String(a.stdout.suffix(4000)))")
        #expect(a.process.isRunning)
        a.signal(SIGTERM)
        #expect(await a.wait(timeout: .seconds(30)) == 0, "\(a.stderr)")
    }

    /// The database server restarted under two running agents (`pg_ctl stop -m fast`, down for
    /// four seconds, started again): the agents log the failures, stop polling once their leases
    /// can no longer be trusted, reconnect, and deliver what arrived meanwhile; nothing is lost.
    @Test func theDatabaseRestartedMidRunLosesNothing() async throws {
        let server = try PostgresTestServer.dedicated()
        defer { server.remove() }
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        var items = await harness.seed(20)
        let path = try config(harness, database)
        let a = try ChildProcess(["run", "-c", path], environment: environment(harness, database, agent: "a"), directory: harness.directory)
        defer { a.signal(SIGKILL) }
        let b = try ChildProcess(["run", "-c", path], environment: environment(harness, database, agent: "b"), directory: harness.directory)
        defer { b.signal(SIGKILL) }
        #expect(await eventually { await harness.receiver.receivedEventIDs().count >= 80 })

        try server.stop()
        let down = DeploysAuditItem(id: 8100, action: "role.grant", createdAt: Date().addingTimeInterval(-5))
        await harness.deploys.insert(down)
        items.append(down)
        // Longer than the lease TTL (3 s): each agent's renewal rounds (every second) meet the
        // outage even when the whole suite slows them (down for 2 s, one run saw none fail).
        try await Task.sleep(for: .seconds(4))
        try server.start()
        let restartedAt = Date()
        let after = DeploysAuditItem(id: 8101, action: "role.revoke", createdAt: Date().addingTimeInterval(-5))
        await harness.deploys.insert(after)
        items.append(after)

        let everything = expected(harness, items)
        #expect(await eventually { Set(await harness.receiver.receivedEventIDs()).isSuperset(of: everything) })
        let caughtUp = Date().timeIntervalSince(restartedAt)
        #expect(a.process.isRunning && b.process.isRunning)
        // The outage was seen (not slept through between two rounds).
        #expect((a.stdout + b.stdout).contains("lease renewal failed"), "\(a.stdout)")
        // Both go on with a share each.
        let store = try PostgresStateStore(location: database)
        #expect(
            await eventually {
                let owners = ((try? store.sourceLeases()) ?? []).filter { $0.expiresAt > Date() }.map(\.owner)
                return owners.filter { $0 == "a" }.count == 2 && owners.filter { $0 == "b" }.count == 2
            })
        let received = await harness.receiver.receivedEventIDs()
        print(
            "database restart: \(everything.count) events, 0 lost, \(received.count - everything.count) duplicates, "
                + "all delivered \(String(format: "%.1f", caughtUp)) s after the server was back")
        for agent in [a, b] {
            agent.signal(SIGTERM)
            #expect(await agent.wait(timeout: .seconds(30)) == 0, "\(agent.stderr)")
        }
        #expect(!(a.stdout + a.stderr + b.stdout + b.stderr).contains("db-secret-password"))
    }

    /// An SQLite state moved up with `state copy`: the agents on PostgreSQL go on where the
    /// single agent stopped, sending nothing again; a database that is not empty is refused.
    @Test func stateCopyMovesAnSQLiteStateUpWithoutResending() async throws {
        let server = try PostgresTestServer.shared.get()
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let first = await harness.seed(50)
        let sqliteConfig = try harness.writeConfig(source: "    overlap: 1h")
        #expect(try await ChildProcess.run(["once", "-c", sqliteConfig], environment: harness.environment, directory: harness.directory).status == 0)
        #expect(await harness.receiver.receivedEventIDs().count == 50)

        let env = environment(harness, database, agent: "a")
        let copy = try await ChildProcess.run(
            ["state", "copy", "-c", sqliteConfig, "--to", "env:STATE_URL"], environment: env, directory: harness.directory)
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(
            copy.stdout.contains("1 cursor(s)") && copy.stdout.contains("2 sink offset(s)") && copy.stdout.contains("50 dedupe key(s)"),
            "\(copy.stdout)")
        #expect(!(copy.stdout + copy.stderr).contains("db-secret-password"))

        let again = try await ChildProcess.run(
            ["state", "copy", "-c", sqliteConfig, "--to", "env:STATE_URL"], environment: env, directory: harness.directory)
        #expect(again.status == 1 && again.stderr.contains("is not empty"), "\(again.stderr)")

        // New events upstream; the agent on PostgreSQL re-reads its overlap (an hour) and sends
        // only the new ones, to both sinks.
        let second = await harness.seed(20, firstID: 1000, span: 600)
        let postgresConfig = harness.directory + "/postgres.yaml"
        try harness.configText(source: "    overlap: 1h").replacingOccurrences(of: "  path: \(harness.statePath)", with: "  url: \"${STATE_URL}\"")
            .write(toFile: postgresConfig, atomically: true, encoding: .utf8)
        let run = try await ChildProcess.run(["once", "-c", postgresConfig], environment: env, directory: harness.directory)
        #expect(run.status == 0, "\(run.stderr)")
        let received = await harness.receiver.receivedEventIDs()
        #expect(received.count == 70)
        #expect(Set(received) == harness.expectedIDs(first + second))
        #expect(try harness.fileEventIDs().count == 70)
    }

    /// `backfill` on a shared state while an agent runs: the job is leased to the command, which
    /// spools the history; the agent holding the source delivers it.
    @Test func aBackfillSpoolsHistoryThatTheSourcesOwnerDelivers() async throws {
        let server = try PostgresTestServer.shared.get()
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let recent = await harness.seed(10)
        let now = Date()
        let old = DeploysEmulator.generate(
            count: 30, firstID: 5000, from: now.addingTimeInterval(-10 * 86400), to: now.addingTimeInterval(-5 * 86400))
        await harness.deploys.seed(old)
        let path = try config(harness, database, lookback: "1d")
        let a = try ChildProcess(["run", "-c", path], environment: environment(harness, database, agent: "a"), directory: harness.directory)
        defer { a.signal(SIGKILL) }
        #expect(await eventually { await harness.receiver.receivedEventIDs().count >= 40 })
        #expect(Set(await harness.receiver.receivedEventIDs()) == expected(harness, recent))

        let backfill = try await ChildProcess.run(
            ["backfill", "-c", path, "--source", "d1", "--from", "15d"], environment: environment(harness, database, agent: "admin"),
            directory: harness.directory)
        #expect(backfill.status == 0, "\(backfill.stdout)\n\(backfill.stderr)")
        #expect(backfill.stdout.contains("the agents holding d1 deliver"), "\(backfill.stdout)")
        let history = harness.expectedIDs(old, source: "d1")
        #expect(await eventually { Set(await harness.receiver.receivedEventIDs()).isSuperset(of: history) })
        // Only d1's history, once; the other sources' old entries stay upstream.
        #expect(await harness.receiver.receivedEventIDs().count == 70)
        // The command was no agent: it took no source and left no heartbeat.
        let store = try PostgresStateStore(location: database)
        #expect(try store.agents().map(\.name) == ["a"])
        #expect(try store.sourceLeases().filter { !$0.source.hasPrefix("backfill:") }.allSatisfy { $0.owner == "a" })
    }

    /// Three agents, twelve sources, new events every half second, and one agent SIGKILLed and
    /// restarted every three seconds, eight times: every event of every source arrives. Prints
    /// the longest delay between an event's arrival upstream and at the sink (DESIGN.md §8's
    /// bound is 2 × TTL + poll_interval = 7 s here; a figure, not an assertion).
    @Test func threeAgentsKilledInTurnLoseNothing() async throws {
        let server = try PostgresTestServer.shared.get()
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        var items = await harness.seed(10)
        let sources = Self.manySources
        // Beside the webhook, Elasticsearch: its documents are counted at the end.
        let elastic = ElasticsearchEmulator(apiKey: "es-key")
        let elasticURL = try await elastic.start()
        Teardown.add { await elastic.stop() }
        let path = try config(
            harness, database, sources: sources,
            extraSinks: "  - { name: elastic, type: elastic, endpoint: \"\(elasticURL.absoluteString)\", api_key: es-key, index: audit }")
        var agents: [String: ChildProcess] = [:]
        for name in ["a", "b", "c"] {
            agents[name] = try ChildProcess(
                ["run", "-c", path], environment: environment(harness, database, agent: name), directory: harness.directory)
        }
        defer { for agent in agents.values { agent.signal(SIGKILL) } }
        #expect(await eventually { await harness.receiver.receivedEventIDs().count >= 120 })

        // Upstream arrivals with their times, and when each first reached the sink.
        var madeAt: [String: Date] = [:]
        var arrivedAt: [String: Date] = [:]
        func noteArrivals() async {
            let now = Date()
            for received in await harness.receiver.receivedEventIDs() where arrivedAt[received] == nil { arrivedAt[received] = now }
        }
        var kills = 0
        let started = Date()
        var nextKill = started.addingTimeInterval(3)
        var id: Int64 = 20_000
        while Date().timeIntervalSince(started) < 24 {
            let item = DeploysAuditItem(id: id, action: "role.grant", createdAt: Date().addingTimeInterval(-2))
            id += 1
            await harness.deploys.insert(item)
            items.append(item)
            for source in sources { madeAt[AuditEvent.stableID(sourceName: source, upstreamID: String(item.id))] = Date() }
            if Date() >= nextKill {
                let name = ["a", "b", "c"][kills % 3]
                agents[name]?.signal(SIGKILL)
                _ = await agents[name]?.wait(timeout: .seconds(10))
                agents[name] = try ChildProcess(
                    ["run", "-c", path], environment: environment(harness, database, agent: name), directory: harness.directory)
                kills += 1
                nextKill = Date().addingTimeInterval(3)
            }
            for _ in 0..<5 {
                try await Task.sleep(for: .milliseconds(100))
                await noteArrivals()
            }
        }
        let everything = expected(harness, items, sources: sources)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            await noteArrivals()
            if everything.isSubset(of: Set(arrivedAt.keys)) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let missing = everything.subtracting(arrivedAt.keys)
        #expect(missing.isEmpty, "\(missing.count) of \(everything.count) events never arrived")
        let delays = madeAt.compactMap { id, made in arrivedAt[id].map { $0.timeIntervalSince(made) } }
        let received = await harness.receiver.receivedEventIDs()
        // Elasticsearch: one document per event, none twice (a batch sent again after a kill is
        // refused item by item as a version conflict, which the sink counts as delivered).
        #expect(await eventually { Set(await elastic.documents(index: "audit").keys).isSuperset(of: everything) })
        let documents = await elastic.documents(index: "audit")
        #expect(Set(documents.keys) == everything && documents.count == everything.count)
        let itemsSent = await elastic.bulkRequests().reduce(0) { $0 + $1.itemCount }
        print(
            "three agents: \(kills) kills, \(everything.count) events over \(sources.count) sources, \(missing.count) lost, "
                + "\(received.count - Set(received).count) duplicates at the webhook, "
                + "\(documents.count - everything.count) duplicate Elasticsearch documents (\(itemsSent - documents.count) items sent again), "
                + "longest delay for an event made during the run " + String(format: "%.1f s", delays.max() ?? 0))
        #expect(kills >= 7)
    }

    /// `/readyz` is not ready while the shared state cannot be written (here: its database
    /// dropped from under the agent).
    @Test func readinessFailsWhileTheDatabaseCannotBeWritten() async throws {
        let server = try PostgresTestServer.shared.get()
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let path = try config(harness, database)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let configuration = try ConfigurationLoader.parse(text, environment: environment(harness, database, agent: "a"))
        let engine = try harness.engine(configuration)
        #expect(engine.readiness().ready)
        try server.psql("DROP DATABASE \(database.database) WITH (FORCE)")
        let answer = engine.readiness()
        #expect(!answer.ready && answer.reason.contains("state not writable"), "\(answer)")
        await engine.shutdown()
    }
}

/// One poll of a source by an agent, from its JSON log: from `poll started` (debug, with the
/// lease's epoch) to the `poll complete` or `poll failed` that ended it.
struct PollSpan {
    var agent: String
    var source: String
    var epoch: Int
    var start: Date
    var end: Date

    /// The polls in `log`; one still open at the end of the log ends at `endOfLog`.
    static func read(_ log: String, agent: String, endOfLog: Date) -> [PollSpan] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var open: [String: (epoch: Int, start: Date)] = [:]
        var spans: [PollSpan] = []
        for line in log.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let message = object["message"] as? String, let source = object["source"] as? String,
                let time = (object["time"] as? String).flatMap(formatter.date(from:))
            else { continue }
            if message == "poll started", let epoch = object["lease.epoch"] as? Int {
                open[source] = (epoch, time)
            } else if message == "poll complete" || message == "poll failed", let started = open.removeValue(forKey: source) {
                spans.append(PollSpan(agent: agent, source: source, epoch: started.epoch, start: started.start, end: time))
            }
        }
        for (source, started) in open {
            spans.append(PollSpan(agent: agent, source: source, epoch: started.epoch, start: started.start, end: endOfLog))
        }
        return spans
    }

    /// DESIGN.md §8: per source, no two agents' polls overlap in time, each epoch has one agent,
    /// and epochs only rise.
    static func expectOnePollerAtATime(_ spans: [PollSpan], sourceLocation: SourceLocation = #_sourceLocation) {
        for (source, polls) in Dictionary(grouping: spans, by: \.source) {
            let ordered = polls.sorted { $0.start < $1.start }
            for (index, earlier) in ordered.enumerated() {
                for later in ordered[(index + 1)...] where later.agent != earlier.agent {
                    #expect(
                        earlier.end <= later.start, "\(source): \(earlier.agent) polled until \(earlier.end), \(later.agent) from \(later.start)",
                        sourceLocation: sourceLocation)
                }
            }
            for (earlier, later) in zip(ordered, ordered.dropFirst()) {
                #expect(earlier.epoch <= later.epoch, "\(source): epoch \(later.epoch) after \(earlier.epoch)", sourceLocation: sourceLocation)
            }
            for (epoch, same) in Dictionary(grouping: polls, by: \.epoch) {
                #expect(
                    Set(same.map(\.agent)).count == 1, "\(source) epoch \(epoch): polled by \(Set(same.map(\.agent)))", sourceLocation: sourceLocation
                )
            }
        }
    }
}
