import Foundation

#if canImport(Glibc)
    import Glibc
#endif

struct Measured {
    var seconds: Double
    /// User + system seconds of the command and its children.
    var cpu: Double
    /// User + system seconds of this process meanwhile: the emulators serving the command.
    var emulatorCPU: Double
    /// The command's own high-water mark (VmHWM), polled: its peak RSS, not the emulators'.
    var peakMiB: Double
}

/// Runs `arguments` (through /usr/bin/env) to completion and measures it from outside; throws
/// with the end of its stderr when it fails.
func measure(_ arguments: [String], environment: [String: String] = [:]) async throws -> Measured {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    // A file, not a pipe: Grove logs every page to stderr, and a pipe nobody drains fills and stops it.
    let errorPath = NSTemporaryDirectory() + "af-bench-stderr-\(UUID().uuidString.prefix(8)).log"
    _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errorPath) }
    process.standardError = FileHandle(forWritingAtPath: errorPath)
    let clock = ContinuousClock()
    let (cpuBefore, selfBefore) = (cpuSeconds(1), cpuSeconds(0))
    let started = clock.now
    try process.run()
    var peakKiB = 0
    while process.isRunning {
        peakKiB = max(peakKiB, highWaterMarkKiB(pid: process.processIdentifier))
        try await Task.sleep(for: .milliseconds(5))
    }
    let elapsed = clock.now - started
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let text = String(decoding: (FileManager.default.contents(atPath: errorPath) ?? Data()).suffix(2000), as: UTF8.self)
        throw BenchmarkFailure("\(arguments.prefix(3).joined(separator: " ")) exited \(process.terminationStatus): \(text)")
    }
    return Measured(
        seconds: seconds(elapsed), cpu: cpuSeconds(1) - cpuBefore, emulatorCPU: cpuSeconds(0) - selfBefore, peakMiB: Double(peakKiB) / 1024)
}
