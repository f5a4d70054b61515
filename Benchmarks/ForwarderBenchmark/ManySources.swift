// The many-sources scenario: one `audit-forwarder run` with N deploys.app sources (distinct
// names, so distinct cursors and event ids) polling every `--poll-seconds`, all against one
// emulator holding 20 events. After the first round has delivered every source's 20 events, the
// daemon's steady state is measured over two poll intervals: resident memory, and CPU per poll
// (the process's user + system time from /proc, divided by the polls made meanwhile).
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
          - { name: archive, type: file, path: "\(directory)/events.ndjson", batch_size: 1000 }
        """
    try config.write(toFile: directory + "/config.yaml", atomically: true, encoding: .utf8)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: options.binary)
    process.arguments = ["run", "-c", directory + "/config.yaml"]
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    let clock = ContinuousClock()
    let started = clock.now
    try process.run()
    defer { if process.isRunning { process.terminate() } }
    let wanted = 20 * options.sources
    while countLines(directory + "/events.ndjson") < wanted {
        guard process.isRunning else { throw BenchmarkFailure("audit-forwarder exited \(process.terminationStatus)") }
        guard clock.now - started < .seconds(600) else { throw BenchmarkFailure("the first round did not deliver within 10 minutes") }
        try await Task.sleep(for: .milliseconds(200))
    }
    let settled = clock.now - started
    // Let the first round's stragglers finish, then measure two whole poll intervals.
    try await Task.sleep(for: .seconds(options.pollSeconds))
    let requestsBefore = await deploys.requests().count
    let cpuBefore = processCPUSeconds(pid: process.processIdentifier)
    let transactionsBefore = options.postgres.flatMap(committedTransactions)
    try await Task.sleep(for: .seconds(2 * options.pollSeconds))
    let cpu = processCPUSeconds(pid: process.processIdentifier) - cpuBefore
    let transactions = options.postgres.flatMap(committedTransactions).flatMap { after in transactionsBefore.map { after - $0 } }
    let polls = await deploys.requests().count - requestsBefore
    let resident = statusKiB(pid: process.processIdentifier, field: "VmRSS:")
    let peak = statusKiB(pid: process.processIdentifier, field: "VmHWM:")
    process.interrupt()
    process.waitUntilExit()
    return ManySourcesResult(
        sources: options.sources, settledSeconds: seconds(settled), residentMiB: Double(resident) / 1024, peakMiB: Double(peak) / 1024,
        cpuMillisecondsPerPoll: polls > 0 ? cpu * 1000 / Double(polls) : 0, polls: polls,
        databaseTransactionsPerSecond: transactions.map { Double($0) / Double(2 * options.pollSeconds) })
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
