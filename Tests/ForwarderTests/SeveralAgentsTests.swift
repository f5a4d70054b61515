import Checkpoint
import Emulators
import Foundation
import TestSupport
import Testing

@testable import Forwarder

/// Several real agent processes on one PostgreSQL state (DESIGN.md §8): sources leased to one
/// agent at a time, handed over when one joins, dies or is frozen, nothing lost.
@Suite(.serialized) struct SeveralAgentsTests {
    static let sources = ["d1", "d2", "d3", "d4"]

    /// Four deploys sources (one emulator, each source its own ids), a webhook receiver both
    /// agents deliver to, and a fresh database.
    func config(_ harness: Harness, _ database: PostgresLocation, ttl: String = "3s") throws -> String {
        let sources = Self.sources.map { name in
            """
              - { name: \(name), type: deploys, base_url: "\(harness.deploysURL.absoluteString)", project: acme, token: "${DEPLOYS_TOKEN}", lookback: 30d, poll_interval: 1s, timeout: 30s }
            """
        }.joined(separator: "\n")
        let text = """
            state:
              url: "${STATE_URL}"
              lease_ttl: \(ttl)
            log: { level: info, format: text }
            sources:
            \(sources)
            sinks:
              - name: hook
                type: webhook
                url: \(harness.webhookURL.absoluteString)/audit
                auth: { type: bearer, token: "${WEBHOOK_TOKEN}" }
                signing_secret: ${SIGNING_SECRET}
                retry: { initial_backoff: 10ms, max_backoff: 50ms }
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

    func expected(_ harness: Harness, _ items: [DeploysAuditItem]) -> Set<String> {
        Self.sources.reduce(into: Set<String>()) { $0.formUnion(harness.expectedIDs(items, source: $1)) }
    }

    @Test func onceOnAPostgresStateDeliversEverythingOnceAndStatusShowsTheOwners() async throws {
        let server = try PostgresTestServer.shared.get()
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let items = await harness.seed(120)
        let path = try config(harness, database)
        let env = environment(harness, database, agent: "solo")

        let first = try await ChildProcess.run(["once", "-c", path], environment: env, directory: harness.directory)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(Set(await harness.receiver.receivedEventIDs()) == expected(harness, items))
        let second = try await ChildProcess.run(["once", "-c", path], environment: env, directory: harness.directory)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(await harness.receiver.receivedEventIDs().count == 480)

        let status = try await ChildProcess.run(["status", "-c", path], environment: env, directory: harness.directory)
        #expect(status.status == 0, "\(status.stderr)")
        for output in [first.stdout, first.stderr, second.stdout, status.stdout, status.stderr] {
            #expect(!output.contains("db-secret-password"))
        }
    }

    /// Agent a starts alone and takes every source; b joins and gets its fair share; a is
    /// SIGKILLed and b takes the rest within the lease TTL. Every event, old and new, arrives.
    @Test func aJoiningAgentGetsItsShareAndAKilledOnesSourcesAreTakenOver() async throws {
        let server = try PostgresTestServer.shared.get()
        let database = try server.freshDatabase()
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        var items = await harness.seed(100)
        let path = try config(harness, database)

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
        print("several agents: \(everything.count) events, 0 lost, \(received.count - everything.count) duplicates, all delivered \(String(format: "%.1f", tookOver)) s after the kill")

        b.signal(SIGTERM)
        #expect(await b.wait(timeout: .seconds(30)) == 0, "\(b.stderr)")
        // A clean stop hands the leases back at once.
        #expect(try store.sourceLeases().allSatisfy { $0.expiresAt < Date() })
        #expect(!(a.stdout + a.stderr + b.stdout + b.stderr).contains("db-secret-password"))
    }
}
