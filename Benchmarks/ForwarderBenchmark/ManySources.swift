// The many-sources scenario: `audit-forwarder run` with N deploys.app sources (distinct names, so
// distinct cursors and event ids) polling every `--poll-seconds`, all against one emulator
// holding 20 events. After the first round has delivered every source's 20 events, the steady
// state is measured over two poll intervals: resident memory, and CPU per poll (user + system
// time from /proc, divided by the polls made meanwhile). With `--agents K` (and `--postgres`),
// K agents share the sources through one PostgreSQL state: CPU is theirs together, memory the
// largest agent's.
import Checkpoint
import Emulators
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

struct ManySourcesResult {
    var sources: Int
    var settledSeconds: Double
    var residentMiB: Double
    var peakMiB: Double
    var cpuMillisecondsPerPoll: Double
    var polls: Int
    var agents: Int
    /// Sources each agent held at the end, smallest first.
    var shares: [Int]
    /// With --postgres: transactions the database server committed per second over the
    /// measured intervals (every autocommitted statement is one), all databases together.
    var databaseTransactionsPerSecond: Double?
}

/// The server's committed transactions so far (pg_stat_database), read with psql.
func committedTransactions(_ server: PostgresLocation) -> Int64? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "psql", "-X", "-A", "-t", "-h", server.host, "-p", String(server.port), "-U", server.user, "-d", server.database, "-c",
        "SELECT sum(xact_commit) FROM pg_stat_database",
    ]
    let output = Pipe()
    process.standardOutput = output
    guard (try? process.run()) != nil else { return nil }
    process.waitUntilExit()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return Int64(text.trimmingCharacters(in: .whitespacesAndNewlines))
}

func runManySources(options: Options) async throws -> ManySourcesResult {
    let directory = NSTemporaryDirectory() + "af-bench-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let deploys = DeploysEmulator(token: "bench", project: "acme")
    let now = Date()
    await deploys.seed(DeploysEmulator.generate(count: 20, firstID: 1, from: now.addingTimeInterval(-3600), to: now.addingTimeInterval(-120)))
    let url = try await deploys.start()
    defer { Task { await deploys.stop() } }
    let sources = (0..<options.sources).map { index in
        "  - { name: s\(index), type: deploys, base_url: \"\(url.absoluteString)\", project: acme, token: bench, lookback: 2h, page_size: 100, poll_interval: \(options.pollSeconds)s }"
    }
    let config = """
        \(try stateLine(options, directory: directory))
        log: { level: warning, format: text }
        sources:
        \(sources.joined(separator: "\n"))
        sinks:
          - { name: archive, type: file, path: "\(directory)/events-${BENCH_AGENT}.ndjson", batch_size: 1000 }
        """
    try config.write(toFile: directory + "/config.yaml", atomically: true, encoding: .utf8)

    var processes: [Process] = []
    defer { for process in processes where process.isRunning { process.terminate() } }
    let clock = ContinuousClock()
    let started = clock.now
    for index in 0..<options.agents {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: options.binary)
        process.arguments = ["run", "-c", directory + "/config.yaml"]
        process.environment = ProcessInfo.processInfo.environment.merging(["AUDIT_FORWARDER_AGENT": "bench-\(index)", "BENCH_AGENT": "\(index)"]) {
            $1
        }
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        processes.append(process)
    }
    let wanted = 20 * options.sources
    // Each agent writes its own sources' events to a file of its own.
    while (0..<options.agents).map({ countLines(directory + "/events-\($0).ndjson") }).reduce(0, +) < wanted {
        if let gone = processes.first(where: { !$0.isRunning }) { throw BenchmarkFailure("audit-forwarder exited \(gone.terminationStatus)") }
        guard clock.now - started < .seconds(600) else { throw BenchmarkFailure("the first round did not deliver within 10 minutes") }
        try await Task.sleep(for: .milliseconds(200))
    }
    let settled = clock.now - started
    // Let the first round's stragglers finish, then measure two whole poll intervals.
    try await Task.sleep(for: .seconds(options.pollSeconds))
    let pids = processes.map(\.processIdentifier)
    let requestsBefore = await deploys.requests().count
    let cpuBefore = pids.map(processCPUSeconds).reduce(0, +)
    let transactionsBefore = options.postgres.flatMap(committedTransactions)
    try await Task.sleep(for: .seconds(2 * options.pollSeconds))
    let cpu = pids.map(processCPUSeconds).reduce(0, +) - cpuBefore
    let transactions = options.postgres.flatMap(committedTransactions).flatMap { after in transactionsBefore.map { after - $0 } }
    let polls = await deploys.requests().count - requestsBefore
    let resident = pids.map { statusKiB(pid: $0, field: "VmRSS:") }.max() ?? 0
    let peak = pids.map { statusKiB(pid: $0, field: "VmHWM:") }.max() ?? 0
    let shares = try await leaseShares(directory: directory, agents: options.agents)
    for process in processes { process.interrupt() }
    for process in processes { process.waitUntilExit() }
    return ManySourcesResult(
        sources: options.sources, settledSeconds: seconds(settled), residentMiB: Double(resident) / 1024, peakMiB: Double(peak) / 1024,
        cpuMillisecondsPerPoll: polls > 0 ? cpu * 1000 / Double(polls) : 0, polls: polls, agents: options.agents, shares: shares,
        databaseTransactionsPerSecond: transactions.map { Double($0) / Double(2 * options.pollSeconds) })
}

/// How many sources each agent holds, from `status --json` (empty on SQLite).
func leaseShares(directory: String, agents: Int) async throws -> [Int] {
    guard agents > 1 else { return [] }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Options(CommandLine.arguments).binary)
    process.arguments = ["status", "--json", "-c", directory + "/config.yaml"]
    process.environment = ProcessInfo.processInfo.environment.merging(["BENCH_AGENT": "0"]) { $1 }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let report = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    let owners = (report?["sources"] as? [[String: Any]] ?? []).compactMap { $0["owner"] as? String }
    return Dictionary(grouping: owners, by: { $0 }).values.map(\.count).sorted()
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func countLines(_ path: String) -> Int {
    guard let data = FileManager.default.contents(atPath: path) else { return 0 }
    return data.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
}

/// utime + stime of a running process, from /proc/PID/stat (in clock ticks).
func processCPUSeconds(pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// A `VmRSS:`-style line of /proc/PID/status, in KiB.
func statusKiB(pid: Int32, field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(field) {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}
