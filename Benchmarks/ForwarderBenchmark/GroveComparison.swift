// The side-by-side scenario (`--scenario grove`): HashiCorp Grove 2.2.0 (PyPI `grove`, with the
// small deploys.app connector in Benchmarks/grove) and `audit-forwarder once`, each reading the
// same N events from the same deploys.app emulator into local files, in turn (Grove, forwarder,
// Grove, forwarder, …) so the pairs share the machine's drift. Reports each run's wall time,
// CPU (user + system of the process and its children) and peak RSS, and the ratios per pair.
import Emulators
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

func runGroveComparison(options: Options, pairs: Int = 3) async throws {
    let root = NSTemporaryDirectory() + "af-grove-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let deploys = DeploysEmulator(token: "bench", project: "acme")
    let now = Date()
    await deploys.seed(
        DeploysEmulator.generate(count: options.events, firstID: 1, from: now.addingTimeInterval(-7 * 86400), to: now.addingTimeInterval(-60)))
    let url = try await deploys.start()
    defer { Task { await deploys.stop() } }
    let connectorPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("grove").path

    print("| run | tool | events | seconds | events/s | CPU (s) | CPU per event (µs) | peak RSS (MiB) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    var ratios: [(speed: Double, cpu: Double, rss: Double)] = []
    for pair in 1...pairs {
        // Grove: a connector document, outputs to files, its pointer cache in memory (one run).
        let groveDirectory = root + "/grove-\(pair)"
        for sub in ["config", "out"] {
            try FileManager.default.createDirectory(atPath: groveDirectory + "/" + sub, withIntermediateDirectories: true)
        }
        let document: [String: Any] = [
            "name": "bench", "identity": "acme", "connector": "deploys_audit_log", "key": "bench", "base_url": url.absoluteString,
        ]
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: groveDirectory + "/config/deploys.json"))
        let grove = try await measure(
            ["python3", "-m", "grove.entrypoints.local_process"],
            environment: [
                "PYTHONPATH": connectorPath, "GROVE_CONFIG_HANDLER": "local_file", "GROVE_CONFIG_LOCAL_FILE_PATH": groveDirectory + "/config",
                "GROVE_OUTPUT_HANDLER": "local_file", "GROVE_OUTPUT_LOCAL_FILE_PATH": groveDirectory + "/out", "GROVE_CACHE_HANDLER": "local_memory",
                "GROVE_WORKER_COUNT": "1",
            ]
        )
        let groveDelivered = try groveRecords(in: groveDirectory + "/out")

        // audit-forwarder: its own defaults, a file sink, a new state.
        let directory = root + "/forwarder-\(pair)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
            state: { path: \(directory)/state.sqlite }
            log: { level: warning, format: text }
            sources:
              - { name: deploys, type: deploys, base_url: "\(url.absoluteString)", project: acme, token: bench, lookback: 8d }
            sinks:
              - { name: archive, type: file, path: "\(directory)/events.ndjson" }
            """
        try config.write(toFile: directory + "/config.yaml", atomically: true, encoding: .utf8)
        let forwarder = try await measure([options.binary, "once", "-c", directory + "/config.yaml", "--deadline", "30m"])
        let forwarderDelivered = countLines(directory + "/events.ndjson")
        for (tool, run, delivered) in [("Grove 2.2.0", grove, groveDelivered), ("audit-forwarder", forwarder, forwarderDelivered)] {
            print(
                String(
                    format: "| %d | %@ | %d | %.2f | %.0f | %.2f | %.1f | %.1f |", pair, tool, delivered, run.seconds,
                    Double(delivered) / run.seconds, run.cpu, run.cpu * 1e6 / Double(max(1, delivered)), run.peakMiB))
        }
        ratios.append((grove.seconds / forwarder.seconds, forwarder.cpu / grove.cpu, forwarder.peakMiB / grove.peakMiB))
    }
    let median = { (values: [Double]) in values.sorted()[values.count / 2] }
    print(
        String(
            format: "audit-forwarder against Grove, median of %d pairs: %.2f× its events/s, %.2f× its CPU, %.2f× its peak RSS", pairs,
            median(ratios.map(\.speed)), median(ratios.map(\.cpu)), median(ratios.map(\.rss))))
}

/// Records Grove wrote: gzip files of JSON lines (or one JSON array) under `directory`.
func groveRecords(in directory: String) throws -> Int {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", "-c",
        """
        import gzip, json, pathlib, sys
        n = 0
        for path in pathlib.Path(sys.argv[1]).rglob('*.gz'):
            text = gzip.decompress(path.read_bytes()).decode().strip()
            if not text: continue
            n += len(json.loads(text)) if text.startswith('[') else len(text.splitlines())
        print(n)
        """, directory,
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
}
