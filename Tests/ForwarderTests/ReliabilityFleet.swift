import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

/// Issue 6's reliability suites (CrashConsistencyTests, OutageTests). One at a time: each runs a
/// busy daemon, and together they would starve each other and the rest of the suite.
@Suite(.serialized, .tags(.slow), .enabled(if: SlowTests.enabled, SlowTests.reason)) enum ReliabilityTests {}

/// How hard the reliability suites push. `swift test` runs the CI profile;
/// `AFWD_RELIABILITY_PROFILE=full` (see scripts/reliability.sh) runs the one the README quotes.
struct ReliabilityProfile: Sendable {
    var name: String
    /// Events seeded over the three upstreams (half up front, half while the forwarder runs).
    var events: Int
    var kills: Int
    /// How long a killed forwarder lives, in milliseconds.
    var lifetime: ClosedRange<Int>
    /// Each phase of a sink outage: connection refused, then 503.
    var outagePhase: Duration

    static let ci = ReliabilityProfile(name: "ci", events: 6000, kills: 8, lifetime: 300...2500, outagePhase: .seconds(2))
    static let full = ReliabilityProfile(name: "full", events: 50_000, kills: 30, lifetime: 300...4000, outagePhase: .seconds(30))

    static var current: ReliabilityProfile {
        ProcessInfo.processInfo.environment["AFWD_RELIABILITY_PROFILE"] == "full" ? .full : .ci
    }
}

/// Every upstream and every sink emulator on loopback, a state file and a file sink in a
/// temporary directory, and the stable ids of everything seeded so far, per source.
final class ReliabilityFleet: @unchecked Sendable {
    let deploys: DeploysEmulator
    let shield: DeepIntShieldEmulator
    let logfire: LogfireEmulator
    let splunk: SplunkHECEmulator
    let datadog: DatadogLogsEmulator
    let elastic: ElasticsearchEmulator
    let webhook: WebhookReceiver
    let directory = NSTemporaryDirectory() + "af-reliability-\(UUID().uuidString)"
    /// Every credential, by environment variable; none may appear in any output.
    let secrets: [String: String]
    /// The sources the webhook's filter lets through; every other sink wants every source.
    static let webhookSources: Set<String> = ["deploys", "shield"]

    private var urls: [String: URL] = [:]
    private let lock = NSLock()
    private var seeded: [String: [String]] = [:]
    private var nextIndex = 1

    var statePath: String { directory + "/state.sqlite" }
    var filePath: String { directory + "/events.ndjson" }
    var configPath: String { directory + "/config.yaml" }

    private init() {
        func secret(_ name: String) -> String { "\(name)-\(UUID().uuidString)" }
        secrets = [
            "DEPLOYS_TOKEN": secret("deploys"), "SHIELD_TOKEN": secret("shield"), "LOGFIRE_TOKEN": secret("logfire"),
            "HEC_TOKEN": secret("hec"), "DD_API_KEY": secret("dd"), "ES_API_KEY": secret("es"),
            "WEBHOOK_TOKEN": secret("hook"),
            "SIGNING_SECRET": "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
        ]
        deploys = DeploysEmulator(token: secrets["DEPLOYS_TOKEN"]!, project: "acme")
        shield = DeepIntShieldEmulator(token: secrets["SHIELD_TOKEN"]!)
        logfire = LogfireEmulator(token: secrets["LOGFIRE_TOKEN"]!)
        splunk = SplunkHECEmulator(token: secrets["HEC_TOKEN"]!, indexes: ["security"], acknowledgements: true)
        datadog = DatadogLogsEmulator(apiKey: secrets["DD_API_KEY"]!)
        elastic = ElasticsearchEmulator(apiKey: secrets["ES_API_KEY"]!)
        webhook = WebhookReceiver(signingSecret: secrets["SIGNING_SECRET"]!, bearerToken: secrets["WEBHOOK_TOKEN"]!)
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    static func start() async throws -> ReliabilityFleet {
        let fleet = ReliabilityFleet()
        fleet.urls = [
            "deploys": try await fleet.deploys.start(), "shield": try await fleet.shield.start(),
            "logfire": try await fleet.logfire.start(), "splunk": try await fleet.splunk.start(),
            "datadog": try await fleet.datadog.start(), "elastic": try await fleet.elastic.start(),
            "webhook": try await fleet.webhook.start(),
        ]
        return fleet
    }

    func stop() async {
        for emulator in [deploys.stop, shield.stop, logfire.stop, splunk.stop, datadog.stop, elastic.stop, webhook.stop] as [() async -> Void] {
            await emulator()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Upstream events

    /// Adds `count` events split over the three upstreams, spread from `from` to `to`, and
    /// returns their upstream ids and times per source. Events that land behind a source's
    /// cursor are late ones, found again through its `overlap`.
    @discardableResult
    func produce(_ count: Int, from: Date, to: Date) async -> [String: [(id: String, time: Date)]] {
        let share = count / 3
        let (first, counts) = lock.withLock { () -> (Int, [Int]) in
            defer { nextIndex += count }
            return (nextIndex, [share, share, count - 2 * share])
        }
        let items = DeploysEmulator.generate(count: counts[0], firstID: Int64(first), from: from, to: to)
        let entries = DeepIntShieldEmulator.generate(count: counts[1], firstIndex: first, from: from, to: to)
        let records = LogfireEmulator.generate(count: counts[2], firstIndex: first, from: from, to: to)
        await deploys.seed(items)
        await shield.seed(entries)
        await logfire.seed(records)
        lock.withLock {
            seeded["deploys", default: []] += items.map { String($0.id) }
            seeded["shield", default: []] += entries.map(\.eventID)
            seeded["logfire", default: []] += records.map(\.id)
        }
        return [
            "deploys": items.map { (String($0.id), $0.createdAt) }, "shield": entries.map { ($0.eventID, $0.timestamp) },
            "logfire": records.map { ($0.id, $0.createdAt) },
        ]
    }

    /// Adds `count` events over the last minute: new ones, and late ones behind a cursor (within
    /// the sources' two-minute `overlap`). Spreading each batch over a minute keeps every second
    /// under the 100 rows deploys.app can page, however often batches come.
    func produceLive(_ count: Int) async {
        let now = Date()
        await produce(count, from: now.addingTimeInterval(-60), to: now.addingTimeInterval(-1))
    }

    /// Upstream ids seeded so far, per source.
    var upstreamIDs: [String: [String]] { lock.withLock { seeded } }

    /// The stable ids a sink should end up with.
    func expectedIDs(sink: String) -> Set<String> {
        var ids = Set<String>()
        for (source, upstream) in upstreamIDs where sink != "webhook" || Self.webhookSources.contains(source) {
            ids.formUnion(upstream.map { AuditEvent.stableID(sourceName: source, upstreamID: $0) })
        }
        return ids
    }

    // MARK: What the sinks got

    static let sinkNames = ["splunk", "datadog", "elastic", "webhook", "file"]

    /// Every event id each sink received, duplicates kept. Elasticsearch lists its stored
    /// documents (one per `_id`); its resends show up as refused `create`s, see `elasticResends`.
    func received() async throws -> [String: [String]] {
        let splunkIDs = await splunk.indexedEvents().map { $0.forwardedEventID ?? "?" }
        return [
            "splunk": splunkIDs,
            "datadog": await datadog.acceptedLogs().map { $0["id"] as? String ?? "?" },
            "elastic": Array(await elastic.documents(index: "audit").keys),
            "webhook": await webhook.receivedEventIDs(),
            "file": try fileEventIDs(),
        ]
    }

    /// Items sent to Elasticsearch beyond one per stored document: resends that `create` refused.
    func elasticResends() async -> Int {
        let items = await elastic.bulkRequests().reduce(0) { $0 + $1.itemCount }
        return items - (await elastic.documentCount())
    }

    /// Ids in the NDJSON file. Every line must be a whole JSON object: a torn line is an error.
    func fileEventIDs() throws -> [String] {
        guard let text = try? String(contentsOfFile: filePath, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try #require(object?["id"] as? String, "not an event line in the file sink: \(line.prefix(120))")
        }
    }

    /// Newlines in the NDJSON file, counted with memchr (a debug build is slow byte by byte).
    func fileLineCount() -> Int {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: filePath)) else { return 0 }
        return data.withUnsafeBytes { buffer in
            guard var cursor = buffer.baseAddress else { return 0 }
            let end = cursor + buffer.count
            var lines = 0
            while cursor < end, let found = memchr(cursor, 10, end - cursor) {
                lines += 1
                cursor = UnsafeRawPointer(found) + 1
            }
            return lines
        }
    }

    /// Whether every sink has every event it wants (duplicates allowed). Compares counts
    /// first: decoding every event on each poll would slow the emulators it shares a process with.
    func allDelivered() async -> Bool {
        await have(Self.sinkNames)
    }

    /// Whether each of `sinks` has every event it wants.
    func have(_ sinks: [String]) async -> Bool {
        let counts: [String: Int] = [
            "splunk": await splunk.indexedEvents().count, "datadog": await datadog.acceptedCount(),
            "elastic": await elastic.documentCount(), "webhook": await webhook.receivedEventIDs().count, "file": fileLineCount(),
        ]
        let expected = Dictionary(uniqueKeysWithValues: sinks.map { ($0, expectedIDs(sink: $0)) })
        guard sinks.allSatisfy({ counts[$0]! >= expected[$0]!.count }), let received = try? await received() else { return false }
        return sinks.allSatisfy { expected[$0]!.isSubset(of: received[$0] ?? []) }
    }

    // MARK: Configuration

    var environment: [String: String] { secrets }

    /// The configuration, written to `configPath`: all three sources, all five sinks, Splunk with
    /// indexer acknowledgement. Retries are unlimited (the default) with short backoffs; sink
    /// timeouts are long, so that a busy machine does not add resends to those the kills cause.
    @discardableResult
    func writeConfig(spoolMaxEvents: Int = 1_000_000, pageSize: Int? = nil, logLevel: String = "warning") throws -> String {
        let paged = pageSize.map { ", page_size: \($0)" } ?? ""
        let retry = "retry: { initial_backoff: 50ms, max_backoff: 500ms }"
        let text = """
            state:
              path: \(statePath)
              spool_max_events: \(spoolMaxEvents)
            log: { level: \(logLevel), format: text }
            sources:
              - { name: deploys, type: deploys, base_url: "\(urls["deploys"]!.absoluteString)", project: acme, token: "${DEPLOYS_TOKEN}", lookback: 30d, poll_interval: 1s, timeout: 5s\(paged) }
              - { name: shield, type: deepintshield, base_url: "\(urls["shield"]!.absoluteString)", token: "${SHIELD_TOKEN}", lookback: 30d, poll_interval: 1s, timeout: 5s\(paged) }
              - { name: logfire, type: logfire, base_url: "\(urls["logfire"]!.absoluteString)/api", token: "${LOGFIRE_TOKEN}", lookback: 30d, poll_interval: 1s, timeout: 5s }
            sinks:
              - name: splunk
                type: splunk
                hec_endpoint: \(urls["splunk"]!.absoluteString)/services/collector
                hec_token: ${HEC_TOKEN}
                source_type: "audit:test"
                index: security
                acknowledgements: true
                ack_query_interval: 50ms
                ack_timeout: 60s
                batch_size: 200
                timeout: 30s
                \(retry)
              - { name: datadog, type: datadog, endpoint: "\(urls["datadog"]!.absoluteString)/api/v2/logs", api_key: "${DD_API_KEY}", service: audit, batch_size: 200, timeout: 30s, \(retry) }
              - { name: elastic, type: elastic, endpoint: "\(urls["elastic"]!.absoluteString)", api_key: "${ES_API_KEY}", index: audit, batch_size: 200, timeout: 30s, \(retry) }
              - name: webhook
                type: webhook
                url: \(urls["webhook"]!.absoluteString)/audit
                auth: { type: bearer, token: "${WEBHOOK_TOKEN}" }
                signing_secret: ${SIGNING_SECRET}
                batch_size: 20
                timeout: 30s
                filters: { sources: [\(Self.webhookSources.sorted().joined(separator: ", "))] }
                \(retry)
              - { name: file, type: file, path: "\(filePath)", batch_size: 500 }
            """
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        return configPath
    }

    /// Fails the test when any secret value appears in `output`.
    func expectNoSecrets(in output: String) {
        for (name, value) in secrets { #expect(!output.contains(value), "secret \(name) leaked into the output") }
    }
}

/// What one sink got against what it should have.
struct SinkTally: CustomStringConvertible {
    var sink: String
    var lost: Int
    var unexpected: Int
    var duplicates: Int

    init(sink: String, received: [String], expected: Set<String>) {
        self.sink = sink
        let distinct = Set(received)
        lost = expected.subtracting(distinct).count
        unexpected = distinct.subtracting(expected).count
        duplicates = received.count - distinct.count
    }

    var description: String { "\(sink): lost \(lost), duplicates \(duplicates)" + (unexpected > 0 ? ", unexpected \(unexpected)" : "") }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(500))
    }
    return await condition()
}

// MARK: Sink outages

extension ReliabilityFleet {
    static let httpSinks = ["splunk", "datadog", "elastic", "webhook"]

    private func faults(of sink: String) -> FaultInjector {
        switch sink {
        case "splunk": splunk.faults
        case "datadog": datadog.faults
        case "elastic": elastic.faults
        default: webhook.faults
        }
    }

    /// The sink stops listening: every connection is refused. What it received is kept.
    func refuseConnections(_ sink: String) async {
        switch sink {
        case "splunk": await splunk.stop()
        case "datadog": await datadog.stop()
        case "elastic": await elastic.stop()
        default: await webhook.stop()
        }
    }

    /// The sink listens again on its port but answers every request 503.
    func answer503(_ sink: String) async throws {
        await faults(of: sink).enqueue(.status(503), times: 100_000)
        let url: URL
        switch sink {
        case "splunk": url = try await splunk.restart()
        case "datadog": url = try await datadog.restart()
        case "elastic": url = try await elastic.restart()
        default: url = try await webhook.restart()
        }
        #expect(url == urls[sink], "\(sink) came back on another port")
    }

    func recover(_ sink: String) async {
        await faults(of: sink).clear()
    }
}
