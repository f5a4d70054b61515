import Checkpoint
import Foundation
import Testing

@testable import Connectors
@testable import Emulators
@testable import Forwarder

/// The catalog sources (Okta, 1Password, GitHub, Slack) end to end over loopback against their
/// emulators, with a real state file: many pages, late events within the overlap, the vendor's
/// rate limits, a malformed page, a refused token, and the mapping.
@Suite struct CatalogSourceTests {
    static let token = "catalog-token-\(UUID().uuidString)"
    static let environment = ["CATALOG_TOKEN": token]

    func source(_ type: String, _ url: URL, _ extra: String = "") -> String {
        let keys: String =
            switch type {
            case "okta": "type: okta\n    base_url: \(url.absoluteString)\n    token: ${CATALOG_TOKEN}\n    page_size: 50"
            case "onepassword":
                "type: onepassword\n    base_url: \(url.absoluteString)\n    token: ${CATALOG_TOKEN}\n    page_size: 50\n    streams: [auditevents, signinattempts]"
            case "github":
                "type: github\n    base_url: \(url.absoluteString)\n    enterprise: acme\n    token: ${CATALOG_TOKEN}\n    include: all\n    page_size: 50"
            default: "type: slack\n    base_url: \(url.absoluteString)\n    token: ${CATALOG_TOKEN}\n    page_size: 50"
            }
        return "  - name: \(type)\n    \(keys)\n    lookback: 2d\n    timeout: 30s\n\(extra)"
    }

    /// An emulator of `type` seeded with `count` entries over the last day; their upstream ids.
    struct Started {
        var url: URL
        var ids: [String]
        /// Inserts an entry dated `time` upstream; its upstream id.
        var late: @Sendable (Date) async -> String
        var faults: FaultInjector
        /// What the shipped example delivers (GitHub's `include: web` leaves `git.*` out).
        var exampleIDs: [String] = []
    }

    func start(_ type: String, count: Int, harness: UpstreamHarness) async throws -> Started {
        let (from, to) = (Date().addingTimeInterval(-20 * 3600), Date().addingTimeInterval(-120))
        switch type {
        case "okta":
            let emulator = OktaEmulator(token: Self.token)
            let events = OktaEmulator.generate(count: count, from: from, to: to)
            await emulator.seed(events)
            let url = try await emulator.start()
            harness.onFinish { await emulator.stop() }
            let late: @Sendable (Date) async -> String = { time in
                let event = OktaEmulator.generate(count: 1, firstIndex: 90_000, from: time, to: time)[0]
                await emulator.insert(event)
                return event.uuid
            }
            return Started(url: url, ids: events.map(\.uuid), late: late, faults: emulator.faults)
        case "onepassword":
            let emulator = OnePasswordEmulator(token: Self.token)
            let audit = OnePasswordEmulator.generate(count: count, from: from, to: to)
            let signIns = OnePasswordEmulator.generateSignInAttempts(count: count / 2, from: from, to: to)
            await emulator.seed(audit)
            await emulator.seed(signIns)
            let url = try await emulator.start()
            harness.onFinish { await emulator.stop() }
            let late: @Sendable (Date) async -> String = { time in
                let event = OnePasswordEmulator.generate(count: 1, firstIndex: 90_000, from: time, to: time)[0]
                await emulator.insert(event)
                return event.uuid
            }
            return Started(url: url, ids: audit.map(\.uuid) + signIns.map(\.uuid), late: late, faults: emulator.faults)
        case "github":
            let emulator = GitHubAuditEmulator(token: Self.token)
            let events = GitHubAuditEmulator.generate(count: count, from: from, to: to)
            await emulator.seed(events)
            let url = try await emulator.start()
            harness.onFinish { await emulator.stop() }
            let late: @Sendable (Date) async -> String = { time in
                let event = GitHubAuditEmulator.generate(count: 1, firstIndex: 90_000, from: time, to: time)[0]
                await emulator.insert(event)
                return event.documentID
            }
            return Started(
                url: url, ids: events.map(\.documentID), late: late, faults: emulator.faults,
                exampleIDs: events.filter { !$0.action.hasPrefix("git.") }.map(\.documentID))
        default:
            let emulator = SlackAuditEmulator(token: Self.token)
            let entries = SlackAuditEmulator.generate(count: count, from: from, to: to)
            await emulator.seed(entries)
            let url = try await emulator.start()
            harness.onFinish { await emulator.stop() }
            let late: @Sendable (Date) async -> String = { time in
                let entry = SlackAuditEmulator.generate(count: 1, firstIndex: 90_000, from: time, to: time)[0]
                await emulator.insert(entry)
                return entry.id
            }
            return Started(url: url, ids: entries.map(\.id), late: late, faults: emulator.faults)
        }
    }

    static let types = ["okta", "onepassword", "github", "slack"]

    /// Many pages in, each entry once; then a late entry dated behind the cursor (within the
    /// overlap) arrives on the next run, and nothing is sent twice.
    @Test(arguments: types)
    func manyPagesArriveOnceAndALateEntryWithinTheOverlapToo(type: String) async throws {
        let harness = UpstreamHarness()
        defer { harness.finish() }
        let started = try await start(type, count: 230, harness: harness)
        let (url, ids, late) = (started.url, started.ids, started.late)
        let engine = try harness.engine(sources: source(type, url), environment: Self.environment)
        let first = await harness.once(engine)
        #expect(first == .complete, "\(first)")
        let delivered = try harness.fileEventIDs()
        #expect(delivered.count == ids.count)
        #expect(Set(delivered) == UpstreamHarness.ids(ids, source: type))
        let cursor = try #require(try harness.cursor(engine, source: type))
        let lateID = await late(cursor.addingTimeInterval(-30))
        #expect(await harness.once(engine) == .complete)
        let after = try harness.fileEventIDs()
        #expect(after.count == ids.count + 1, "the late entry, once; nothing else again")
        #expect(Set(after).contains(AuditEvent.stableID(sourceName: type, upstreamID: lateID)))
    }

    @Test(arguments: types)
    func aRefusedTokenFailsThePollNamingTheSourceAndTheCursorStays(type: String) async throws {
        let harness = UpstreamHarness()
        defer { harness.finish() }
        let url = try await start(type, count: 5, harness: harness).url
        let engine = try harness.engine(sources: source(type, url), environment: ["CATALOG_TOKEN": "wrong-token"])
        let outcome = await harness.once(engine)
        let text = try #require(outcome.failureText, "\(outcome)")
        #expect(text.contains("source \(type)") && text.contains("401"), "\(text)")
        #expect(try harness.cursor(engine, source: type) == nil)
        #expect(!text.contains(Self.token) && !text.contains("wrong-token"))
    }

    @Test(arguments: types)
    func aMalformedPageFailsThePollAndTheNextRunDeliversAll(type: String) async throws {
        let harness = UpstreamHarness()
        defer { harness.finish() }
        let started = try await start(type, count: 120, harness: harness)
        let (url, ids) = (started.url, started.ids)
        await started.faults.enqueue(.truncatedJSON)
        let engine = try harness.engine(sources: source(type, url), environment: Self.environment)
        let first = await harness.once(engine)
        #expect(first.failureText?.contains("not valid JSON") == true, "\(first)")
        #expect(await harness.once(engine) == .complete)
        #expect(Set(try harness.fileEventIDs()) == UpstreamHarness.ids(ids, source: type))
    }

    /// 429 with the vendor's own signals: Okta's `X-Rate-Limit-Reset`, the others' `Retry-After`;
    /// the poll waits and everything arrives.
    @Test func rateLimitsAreWaitedOutWithTheVendorsHeaders() async throws {
        let harness = UpstreamHarness()
        defer { harness.finish() }
        // The engine runs on virtual time, and Okta's budget comes back on the same clock.
        let clock = VirtualClock()
        let okta = OktaEmulator(token: Self.token, now: { clock.wallNow })
        await okta.seed(OktaEmulator.generate(count: 120, from: Date().addingTimeInterval(-3600), to: Date().addingTimeInterval(-120)))
        let oktaURL = try await okta.start()
        harness.onFinish { await okta.stop() }
        // Spent for 25 s: the first request finds it spent, and the poll waits for the reset.
        await okta.setRateLimitRemaining(0, resetIn: 25)
        let slack = SlackAuditEmulator(token: Self.token)
        await slack.seed(SlackAuditEmulator.generate(count: 120, from: Date().addingTimeInterval(-3600), to: Date().addingTimeInterval(-120)))
        let slackURL = try await slack.start()
        harness.onFinish { await slack.stop() }
        await slack.rateLimit(times: 1, retryAfter: 1)
        let engine = try harness.engine(
            sources: source("okta", oktaURL) + "\n" + source("slack", slackURL), clock: clock, environment: Self.environment)
        let outcome = await harness.once(engine)
        #expect(outcome == .complete, "\(outcome)")
        #expect(try harness.fileEventIDs().count == 240)
        #expect(await okta.rateLimitedCount() >= 1)
        #expect(clock.waits.contains(.seconds(1)), "Slack's Retry-After: 1 was waited: \(clock.waits)")
    }

    // MARK: Mapping

    @Test func oktaMapsOutcomesSeveritiesActorsAndTargets() throws {
        let item = try JSONValue.parse(
            Data(
                #"{"uuid":"u1","published":"2026-05-01T10:00:00.123Z","eventType":"user.session.start","displayMessage":"User login to Okta","severity":"WARN","outcome":{"result":"DENY","reason":"Policy"},"actor":{"id":"00u1","type":"User","alternateId":"ana@acme.io","displayName":"Ana"},"client":{"ipAddress":"203.0.113.9","userAgent":{"rawUserAgent":"curl"}},"target":[{"id":"0oa1","type":"AppInstance","displayName":"Slack"}]}"#
                    .utf8))
        let entry = try OktaNormalizer.normalize(
            item, configuration: .init(name: "okta", baseURL: URL(string: "https://x")!, auth: .bearer(Secret("t"))), receivedAt: Date())
        let event = entry.event
        #expect(event.eventType == .authentication && event.outcome == .denied && event.severity == .medium)
        #expect(event.actor == .init(id: "00u1", name: "Ana", email: "ana@acme.io", type: .user, ip: "203.0.113.9"))
        #expect(event.target == .init(type: "AppInstance", id: "0oa1", name: "Slack"))
        #expect(event.details["outcome_reason"] == .string("Policy"))
        #expect(OktaNormalizer.eventType("group.user_membership.add") == .authorization)
        #expect(OktaNormalizer.eventType("user.account.lock") == .security)
        #expect(OktaNormalizer.eventType("user.lifecycle.create") == .configuration)
        #expect(OktaNormalizer.eventType("something.else") == .other)
        for (result, outcome) in [
            ("SUCCESS", AuditEvent.Outcome.success), ("ALLOW", .success), ("FAILURE", .failure), ("DENY", .denied), ("CHALLENGE", .unknown),
        ] {
            #expect(OktaNormalizer.outcomes[result] == outcome)
        }
    }

    /// Okta entries are built from only the members the normalizer reads (`OktaNormalizer.members`):
    /// the same entries as from whole trees, for every kind of event the emulator makes and for
    /// odd ones (repeated members, other types, nested escapes in members stepped over).
    @Test func oktaEntriesFromTheMembersReadEqualThoseFromWholeTrees() throws {
        let configuration = OktaConfiguration(name: "okta", baseURL: URL(string: "https://x")!, auth: .bearer(Secret("t")))
        let now = Date()
        var items = OktaEmulator.generate(count: 60, from: now.addingTimeInterval(-3600), to: now).map { $0.json() }
        items += [
            #"{"uuid":"odd1","published":"2026-05-01T10:00:00Z","actor":{"id":"a"},"actor":{"id":"b","type":"User"},"debugContext":{"debugData":{"x":[1,2,{"y":"\u00e9\ud83d\ude00"}]}},"target":[1,"x",null],"target":[{"id":"t"},{"id":"u"}]}"#,
            #"{"uuid":7,"published":"2026-05-01T10:00:00.5+02:00","client":null,"outcome":"odd","severity":3,"transaction":{"id":9}}"#,
        ]
        let body = Data(("[" + items.joined(separator: ",") + "]").utf8)
        func normalize(_ item: JSONValue) throws -> NormalizedEntry {
            try OktaNormalizer.normalize(item, configuration: configuration, receivedAt: now)
        }
        let whole = try UpstreamPage.read(body, what: "page", itemsAt: []).entries(normalize)
        let kept = try UpstreamPage.read(body, what: "page", itemsAt: []).entries(keeping: OktaNormalizer.members, normalize)
        #expect(kept.count == items.count)
        #expect(kept == whole)
        let noUUID = Data(#"[{"published":"2026-05-01T10:00:00Z","debugContext":{}}]"#.utf8)
        #expect {
            _ = try UpstreamPage.read(noUUID, what: "page", itemsAt: []).entries(keeping: OktaNormalizer.members, normalize)
        } throws: { error in
            // Quoted whole, members stepped over included, as without `keeping`.
            (error as? SourceError)?.kind == .malformed && "\(error)".contains("Okta LogEvent has no uuid")
                && "\(error)".contains("debugContext")
        }
    }

    @Test func onePasswordNormalizesOffsetsToUTCAndMapsEachStream() throws {
        let audit = try JSONValue.parse(
            Data(
                #"{"uuid":"a1","timestamp":"2026-01-05T10:00:00-03:00","actor_uuid":"U1","actor_details":{"uuid":"U1","name":"Ana","email":"ana@acme.io"},"action":"grant","object_type":"vault","object_uuid":"V1","session":{"ip":"198.51.100.4"},"account_uuid":"ACC"}"#
                    .utf8))
        let configuration = OnePasswordConfiguration(name: "op", baseURL: URL(string: "https://x")!, token: Secret("t"))
        let event = try OnePasswordNormalizer.normalize(audit, stream: "auditevents", configuration: configuration, receivedAt: Date()).event
        #expect(RFC3339.format(event.time) == "2026-01-05T13:00:00.000Z")
        #expect(event.eventType == .authorization && event.action == "grant")
        #expect(event.actor.email == "ana@acme.io" && event.actor.ip == "198.51.100.4")
        #expect(event.target == .init(type: "vault", id: "V1"))
        let signIn = try JSONValue.parse(
            Data(
                #"{"uuid":"s1","timestamp":"2026-01-05T10:00:00+05:30","category":"firewall_failed","target_user":{"uuid":"U2","email":"bo@acme.io"}}"#
                    .utf8))
        let attempt = try OnePasswordNormalizer.normalize(signIn, stream: "signinattempts", configuration: configuration, receivedAt: Date()).event
        #expect(attempt.eventType == .authentication && attempt.outcome == .denied && attempt.action == "signin.firewall_failed")
        #expect(RFC3339.format(attempt.time) == "2026-01-05T04:30:00.000Z")
    }

    @Test func gitHubAndSlackMapTimesActorsAndCategories() throws {
        let github = try JSONValue.parse(
            Data(
                #"{"_document_id":"d1","@timestamp":1767610800123,"action":"org.add_member","actor":"ana","actor_id":7,"actor_ip":"192.0.2.1","user":"bo","org":"acme-org"}"#
                    .utf8))
        let event = try GitHubNormalizer.normalize(
            github, configuration: .init(name: "gh", scope: .enterprise("acme"), token: Secret("t")), receivedAt: Date()
        ).event
        #expect(event.time == Date(timeIntervalSince1970: 1_767_610_800.123))
        #expect(event.eventType == .authorization && event.actor.name == "ana" && event.actor.ip == "192.0.2.1")
        #expect(event.target == .init(type: "user", name: "bo") && event.organization == "acme-org")
        #expect(GitHubNormalizer.eventType("git.clone") == .dataAccess && GitHubNormalizer.eventType("repo.create") == .configuration)
        let slack = try JSONValue.parse(
            Data(
                #"{"id":"e1","date_create":1767610800,"action":"role_change_to_admin","actor":{"type":"user","user":{"id":"W1","name":"ana","email":"ana@acme.io"}},"entity":{"type":"user","user":{"id":"W2","name":"bo"}},"context":{"location":{"type":"enterprise","id":"E1","name":"Acme","domain":"acme"},"ip_address":"192.0.2.7"}}"#
                    .utf8))
        let entry = try SlackNormalizer.normalize(slack, configuration: .init(name: "slack", token: Secret("t")), receivedAt: Date()).event
        #expect(entry.eventType == .authorization && entry.severity == .medium && entry.outcome == .success)
        #expect(entry.actor == .init(id: "W1", name: "ana", email: "ana@acme.io", type: .user, ip: "192.0.2.7"))
        #expect(entry.target == .init(type: "user", id: "W2", name: "bo") && entry.organization == "Acme")
        #expect(SlackNormalizer.outcome("file_downloaded_blocked") == .denied)
    }

    // MARK: The shipped examples

    /// Each `config/<type>.yaml` runs as shipped (only its endpoint and paths pointed at the
    /// emulator of the API it imitates), through the binary.
    @Test(arguments: types)
    func theShippedExampleRunsAgainstItsEmulator(type: String) async throws {
        let harness = UpstreamHarness()
        defer { harness.finish() }
        let started = try await start(type, count: 60, harness: harness)
        let (url, ids) = (started.url, started.exampleIDs.isEmpty ? started.ids : started.exampleIDs)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var text = try String(contentsOf: root.appendingPathComponent("config/\(type).yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "./audit-forwarder.sqlite", with: harness.statePath)
            .replacingOccurrences(of: "/var/log/audit-forwarder/\(type == "onepassword" ? "1password" : type).ndjson", with: harness.filePath)
        text = text.replacingOccurrences(of: "    domain: acme.okta.com ", with: "    base_url: \(url.absoluteString) ")
            .replacingOccurrences(of: "    region: us   ", with: "    base_url: \(url.absoluteString)   ")
            .replacingOccurrences(of: "    type: github\n", with: "    type: github\n    base_url: \(url.absoluteString)\n")
            .replacingOccurrences(of: "    type: slack\n", with: "    type: slack\n    base_url: \(url.absoluteString)\n")
        let config = harness.directory + "/\(type).yaml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let variable = ["okta": "OKTA_TOKEN", "onepassword": "OP_EVENTS_TOKEN", "github": "GITHUB_TOKEN", "slack": "SLACK_AUDIT_TOKEN"][type]!
        let result = try await ChildProcess.run(["once", "-c", config], environment: [variable: Self.token], directory: harness.directory)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let delivered = Set(try harness.fileEventIDs())
        #expect(delivered == UpstreamHarness.ids(ids, source: type), "\(delivered.count) delivered of \(ids.count)")
        let check = try await ChildProcess.run(
            ["check", "--connect", "-c", config], environment: [variable: Self.token], directory: harness.directory)
        #expect(check.stdout.contains("source  \(type)") && check.stdout.contains("OK"), "\(check.stdout)")
        // From a day back: the cursor is at now after the run, with nothing new behind it.
        let dryRun = try await ChildProcess.run(
            ["dry-run", "-c", config, "--limit", "3", "--from", "1d"], environment: [variable: Self.token], directory: harness.directory)
        #expect(dryRun.status == 0 && dryRun.stdout.contains("APPEND"), "\(dryRun.stdout)\(dryRun.stderr)")
        #expect(!dryRun.stdout.contains(Self.token))
        // A backfill within the API's retention runs (everything is already spooled: dedupe);
        // one from further back than Okta's 90 or 1Password's 120 days is refused up front.
        let backfill = try await ChildProcess.run(
            ["backfill", "-c", config, "--source", type, "--from", "2d"], environment: [variable: Self.token], directory: harness.directory)
        #expect(backfill.status == 0, "\(backfill.stdout)\(backfill.stderr)")
        #expect(try harness.fileEventIDs().count == ids.count, "the backfill sent nothing twice")
        if ["okta", "onepassword"].contains(type) {
            let tooOld = try await ChildProcess.run(
                ["backfill", "-c", config, "--source", type, "--from", "150d"], environment: [variable: Self.token], directory: harness.directory)
            #expect(tooOld.status == 64 && tooOld.stderr.contains("is older than \(type) keeps its audit log"), "\(tooOld.stderr)")
        }
    }
}
