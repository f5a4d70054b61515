// Moves N events from the emulated deploys.app API to emulated sinks through the real
// `audit-forwarder once` binary, and reports events/s and the forwarder's peak RSS.
//
//   swift build -c release && .build/release/forwarder-benchmark [--events 100000] [--binary PATH]
//       [--scenario file|webhook+file|siem-latency|elastic] [--backfill] [--integrity]
//   (--backfill: `backfill --from 8d` instead of `once`; --integrity: the file sink chains and
//   signs what it writes; siem-latency: Splunk HEC and Elasticsearch each answering 50 ms late,
//   their defaults otherwise; elastic: Elasticsearch alone, no added latency; --max-in-flight N
//   sets their max_in_flight, 1 being how they were sent before several batches went at once)
//   --upstream okta: the events come from the Okta System Log emulator (pages of 1,000) instead of
//   deploys.app (pages of 100), to price an upstream whose pages are read as JSON trees;
//   --upstream github: the GitHub enterprise audit log emulator (pages of 100, random document ids)
//   --scenario grove: HashiCorp Grove 2.2.0 (pip install grove==2.2.0) and `once` side by side on the
//   same events, three interleaved pairs, with the ratios (GroveComparison.swift)
//   --scenario many-sources [--sources 1000] [--poll-seconds 30] [--agents K]: one daemon (or K
//   agents on a --postgres state), N sources, steady-state memory and CPU per poll (ManySources.swift)
//   --postgres URL: the state in PostgreSQL instead of SQLite, a new database per run created on
//   the server of URL (postgresql://user@127.0.0.1:5432/postgres); with many-sources it also
//   reports the server's committed transactions per second (psql must be on PATH)
import Checkpoint
import Connectors
import Emulators
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

struct Options {
    var events = 100_000
    var binary = ".build/release/audit-forwarder"
    var scenarios = ["file", "webhook+file"]
    /// Run `backfill --concurrency 1` over the seeded range instead of `once`.
    var backfill = false
    /// The file sink with `integrity` (a signed hash chain), to price it per event.
    var integrity = false
    /// `max_in_flight` for the SIEM sinks (nil: their default), to price sending several batches at once.
    var maxInFlight: Int?
    /// The many-sources scenario: how many sources, polling how often.
    var sources = 1000
    var pollSeconds = 30
    /// The many-sources scenario: agents sharing the sources (more than one needs --postgres).
    var agents = 1
    /// A PostgreSQL server to keep the state in (a new database per run); nil: SQLite.
    var postgres: PostgresLocation?
    /// Where the events come from: `deploys`, `okta` or `github`.
    var upstream = "deploys"

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--events": events = Int(iterator.next() ?? "") ?? events
            case "--binary": binary = iterator.next() ?? binary
            case "--scenario": scenarios = [iterator.next() ?? "file"]
            case "--backfill": backfill = true
            case "--integrity": integrity = true
            case "--max-in-flight": maxInFlight = Int(iterator.next() ?? "")
            case "--sources": sources = Int(iterator.next() ?? "") ?? sources
            case "--poll-seconds": pollSeconds = Int(iterator.next() ?? "") ?? pollSeconds
            case "--agents": agents = max(1, Int(iterator.next() ?? "") ?? agents)
            case "--postgres": postgres = try? PostgresLocation(url: iterator.next() ?? "")
            case "--upstream": upstream = iterator.next() ?? upstream
            default:
                FileHandle.standardError.write(
                    Data(
                        "usage: forwarder-benchmark [--events N] [--binary PATH] [--scenario file|webhook+file|siem-latency|elastic] [--backfill] [--integrity] [--max-in-flight N] [--upstream deploys|okta|github]\n       forwarder-benchmark --scenario many-sources [--sources 1000] [--poll-seconds 30] [--agents K --postgres URL]\n"
                            .utf8))
                exit(64)
            }
        }
    }
}

struct Result {
    var scenario: String
    var events: Int
    var seconds: Double
    var peakRSSMiB: Double
    var delivered: Int
    /// CPU seconds (user + system) of the forwarder, and of this process (the emulators).
    var forwarderCPU: Double
    var emulatorCPU: Double
}

/// User plus system CPU seconds of this process (`RUSAGE_SELF`) or its waited-for children.
func cpuSeconds(_ who: Int32) -> Double {
    var usage = rusage()
    getrusage(who == 0 ? RUSAGE_SELF.rawValue : RUSAGE_CHILDREN.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func run(scenario: String, options: Options) async throws -> Result {
    let directory = NSTemporaryDirectory() + "af-bench-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let deploys = DeploysEmulator(token: "bench", project: "acme")
    let okta = OktaEmulator(token: "bench", rateLimit: 1_000_000)
    let github = GitHubAuditEmulator(token: "bench", enterprise: "acme", rateLimit: 1_000_000)
    let receiver = WebhookReceiver()
    let splunk = SplunkHECEmulator(token: "bench-hec", indexes: ["security"])
    let elastic = ElasticsearchEmulator(apiKey: "bench-es")
    let toSIEMs = scenario == "siem-latency" || scenario == "elastic"
    let now = Date()
    let source: String
    if options.upstream == "okta" {
        await okta.seed(OktaEmulator.generate(count: options.events, from: now.addingTimeInterval(-7 * 86400), to: now.addingTimeInterval(-60)))
        let oktaURL = try await okta.start()
        source = "{ name: okta, type: okta, base_url: \"\(oktaURL.absoluteString)\", token: bench, lookback: 8d }"
    } else if options.upstream == "github" {
        await github.seed(
            GitHubAuditEmulator.generate(count: options.events, from: now.addingTimeInterval(-7 * 86400), to: now.addingTimeInterval(-60)))
        let githubURL = try await github.start()
        source =
            "{ name: github, type: github, base_url: \"\(githubURL.absoluteString)\", enterprise: acme, token: bench, include: all, lookback: 8d }"
    } else {
        await deploys.seed(
            DeploysEmulator.generate(count: options.events, firstID: 1, from: now.addingTimeInterval(-7 * 86400), to: now.addingTimeInterval(-60)))
        let deploysURL = try await deploys.start()
        source =
            "{ name: deploys, type: deploys, base_url: \"\(deploysURL.absoluteString)\", project: acme, token: bench, lookback: 8d, page_size: 100 }"
    }
    let webhookURL = try await receiver.start()
    let webhook =
        scenario.contains("webhook")
        ? """
          - name: hook
            type: webhook
            url: \(webhookURL.absoluteString)/bench
            batch_size: 500
            max_batch_bytes: 4194304
        """ : ""
    var siems = ""
    let inFlight = options.maxInFlight.map { ", max_in_flight: \($0)" } ?? ""
    if scenario == "siem-latency" {
        await splunk.faults.setLatency(.milliseconds(50))
        await elastic.faults.setLatency(.milliseconds(50))
        let splunkURL = try await splunk.start()
        siems = """
              - { name: splunk, type: splunk, hec_endpoint: "\(splunkURL.absoluteString)/services/collector", hec_token: bench-hec, index: security\(inFlight) }
            """
    }
    if toSIEMs {
        let elasticURL = try await elastic.start()
        siems += """

              - { name: elastic, type: elastic, endpoint: "\(elasticURL.absoluteString)", api_key: bench-es, index: audit\(inFlight) }
            """
    }
    let integrity = options.integrity ? ", integrity: { signing_key: \"\(IntegritySigner.generate().signingKey)\" }" : ""
    let archive = toSIEMs ? "" : "  - { name: archive, type: file, path: \"\(directory)/events.ndjson\", batch_size: 1000\(integrity) }"
    let config = """
        \(try stateLine(options, directory: directory))
        log: { level: warning, format: text }
        sources:
          - \(source)
        sinks:
        \(archive)
        \(webhook)
        \(siems)
        """
    try config.write(toFile: directory + "/config.yaml", atomically: true, encoding: .utf8)

    let arguments =
        options.backfill
        ? ["backfill", "-c", directory + "/config.yaml", "--source", options.upstream, "--from", "8d", "--concurrency", "1", "--deadline", "30m"]
        : ["once", "-c", directory + "/config.yaml", "--deadline", "30m"]
    let run = try await measure([options.binary] + arguments)
    var delivered: Int
    if toSIEMs {
        delivered = await elastic.documentCount()
        if scenario == "siem-latency" { delivered = min(delivered, await splunk.indexedEvents().count) }
    } else {
        let lines = try String(contentsOfFile: directory + "/events.ndjson", encoding: .utf8).utf8.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        delivered = scenario.contains("webhook") ? min(lines, await receiver.receivedEventIDs().count) : lines
    }
    await deploys.stop()
    await okta.stop()
    await github.stop()
    await receiver.stop()
    await splunk.stop()
    await elastic.stop()
    return Result(
        scenario: (options.upstream == "deploys" ? "" : options.upstream + " → ") + (options.backfill ? "backfill → " : "") + scenario
            + (options.integrity ? " (integrity)" : ""), events: options.events,
        seconds: run.seconds, peakRSSMiB: run.peakMiB, delivered: delivered, forwarderCPU: run.cpu, emulatorCPU: run.emulatorCPU)
}

/// `VmHWM` of /proc/PID/status in KiB (0 once the process is gone).
func highWaterMarkKiB(pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

let options = Options(CommandLine.arguments)
guard FileManager.default.isExecutableFile(atPath: options.binary) else {
    FileHandle.standardError.write(Data("no binary at \(options.binary); run `swift build -c release` first or pass --binary\n".utf8))
    exit(1)
}
if options.agents > 1, options.postgres == nil || options.scenarios != ["many-sources"] {
    FileHandle.standardError.write(Data("--agents K needs --scenario many-sources and --postgres URL\n".utf8))
    exit(64)
}
if options.scenarios == ["grove"] {
    do {
        try await runGroveComparison(options: options)
    } catch {
        print("| grove | failed: \(error) |")
        exit(1)
    }
    exit(0)
}
if options.scenarios == ["many-sources"] {
    do {
        let result = try await runManySources(options: options)
        print("| scenario | sources | agents | first round delivered (s) | polls measured | CPU per poll (ms) | RSS (MiB) | peak RSS (MiB) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        print(
            String(
                format: "| many-sources, every %ds | %d | %d | %.1f | %d | %.3f | %.1f | %.1f |", options.pollSeconds, result.sources,
                result.agents, result.settledSeconds, result.polls, result.cpuMillisecondsPerPoll, result.residentMiB, result.peakMiB))
        if !result.shares.isEmpty { print("sources held per agent at the end: \(result.shares)") }
        if let rate = result.databaseTransactionsPerSecond {
            print(
                String(
                    format: "database: %.1f committed transactions/s while polling (%.2f per poll)", rate,
                    rate * Double(2 * options.pollSeconds) / Double(max(1, result.polls))))
        }
    } catch {
        print("| many-sources | failed: \(error) |")
        exit(1)
    }
    exit(0)
}
print("| scenario | events | seconds | events/s | peak RSS (MiB) | delivered | forwarder CPU (s) | emulators CPU (s) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for scenario in options.scenarios {
    do {
        let result = try await run(scenario: scenario, options: options)
        print(
            String(
                format: "| %@ | %d | %.2f | %.0f | %.1f | %d | %.2f | %.2f |", result.scenario, result.events, result.seconds,
                Double(result.events) / result.seconds, result.peakRSSMiB, result.delivered, result.forwarderCPU, result.emulatorCPU))
    } catch {
        print("| \(scenario) | failed: \(error) |")
        exit(1)
    }
}

/// The run's `state:` line: an SQLite file in `directory`, or a new PostgreSQL database.
func stateLine(_ options: Options, directory: String) throws -> String {
    guard var server = options.postgres else { return "state: { path: \(directory)/state.sqlite }" }
    let name = "bench_\(getpid())_\(Int(Date().timeIntervalSince1970 * 1000) % 100_000_000)"
    try PostgresStateStore.createDatabase(name, server: server)
    server.database = name
    let password = server.password.map { ":\($0)" } ?? ""
    return "state: { url: \"postgresql://\(server.user)\(password)@\(server.host):\(server.port)/\(name)?sslmode=\(server.tlsMode.rawValue)\" }"
}
