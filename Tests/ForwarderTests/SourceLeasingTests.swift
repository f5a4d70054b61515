import Checkpoint
import Foundation
import Logging
import TestSupport
import Testing

@testable import Forwarder

/// An agent's share of the sources (DESIGN.md §8), several agents on one database, each a store
/// and a `SourceLeasing` of its own as separate processes would have: the fair share, one
/// statement per steady renewal round, sources handed back only once their poll has stopped, and
/// polling stopped when a lease can no longer be trusted.
@Suite struct SourceLeasingTests {
    let location: PostgresLocation

    init() throws {
        location = try PostgresTestServer.shared.get().freshDatabase()
    }

    func agent(_ name: String, sources: [String], ttl: Duration = .seconds(60), clock: VirtualClock = VirtualClock()) throws -> SourceLeasing {
        SourceLeasing(
            store: try PostgresStateStore(location: location), agent: name, ttl: ttl, sources: sources, clock: clock.engineClock,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    /// 1,000 sources over three agents: each ends with its share (334 at most), no source is held
    /// twice, and once shared, a renewal round is one statement per agent whatever it holds.
    @Test func aThousandSourcesOverThreeAgentsRenewInOneStatementEach() throws {
        let sources = (1...1000).map { "tenant-\($0)" }
        let agents = try ["a", "b", "c"].map { try agent($0, sources: sources) }
        // The first round of each counts the agents already beating; two more settle the shares.
        for _ in 0..<3 {
            for agent in agents { try agent.tick() }
        }
        let held = agents.map { Set($0.store.heldLeases.keys) }
        #expect(held.allSatisfy { $0.count <= 334 }, "\(held.map(\.count))")
        #expect(held[0].union(held[1]).union(held[2]).count == 1000)
        for agent in agents {
            let before = agent.store.statementsSent
            try agent.tick()
            #expect(agent.store.statementsSent - before == 1, "agent \(agent.agent)")
        }
    }

    /// A source being polled is not handed back: it is marked, its poll is told to stop at the
    /// next page boundary, and the round after the poll ended releases it, so the joining agent
    /// never polls it at the same time.
    @Test func aSourceIsHandedBackOnlyOnceItsPollHasStopped() throws {
        let sources = ["s1", "s2"]
        let a = try agent("a", sources: sources)
        try a.tick()
        #expect(Set(a.store.heldLeases.keys) == ["s1", "s2"])
        #expect(a.beginPoll("s1") == 1)
        #expect(a.beginPoll("s2") == 1)

        let b = try agent("b", sources: sources)
        try b.tick()  // b beats; nothing free to take yet
        #expect(b.store.heldLeases.isEmpty)
        try a.tick()  // a's share is now 1: one source marked, both being polled, neither released
        #expect(a.store.heldLeases.count == 2)
        let marked = try #require(sources.first { !a.mayContinue($0) })
        let kept = sources.first { $0 != marked }!
        #expect(a.mayContinue(kept))
        #expect(a.beginPoll(marked) == nil)
        try b.tick()
        #expect(b.store.heldLeases.isEmpty)

        a.endPoll(marked)
        try a.tick()
        #expect(Set(a.store.heldLeases.keys) == [kept])
        try b.tick()
        #expect(Set(b.store.heldLeases.keys) == [marked])
        #expect(b.beginPoll(marked) == 2)
        #expect(a.beginPoll(marked) == nil)
    }

    /// An agent that cannot renew stops polling once its leases would run out by its own clock,
    /// before another agent may take them; a renewal that reaches the database again resumes.
    @Test func pollingStopsWhenALeaseCanNoLongerBeTrusted() throws {
        let clock = VirtualClock()
        let a = try agent("a", sources: ["s1"], clock: clock)
        try a.tick()
        #expect(a.holds("s1"))
        // Trusted for a tenth less than the TTL (60 s) by the agent's clock; the database's
        // lease still has 5 s to run.
        clock.advance(by: .seconds(53))
        #expect(a.holds("s1"))
        clock.advance(by: .seconds(2))
        #expect(!a.holds("s1"))
        #expect(a.beginPoll("s1") == nil)
        // Nobody took it meanwhile: the next round renews it at the same epoch.
        try a.tick()
        #expect(a.beginPoll("s1") == 1)
    }
}
