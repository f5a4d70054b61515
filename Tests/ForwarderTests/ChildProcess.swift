import Foundation

/// The real `audit-forwarder` binary, run as a child process. The test command builds it first
/// (`swift build --build-tests`); it is found by path, never through PATH.
struct ChildProcess {
    static var binary: String {
        if let override = ProcessInfo.processInfo.environment["AUDIT_FORWARDER_BIN"] { return override }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/audit-forwarder").path
    }

    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    init(_ arguments: [String], environment: [String: String], directory: String) throws {
        let tag = UUID().uuidString.prefix(8)
        stdoutPath = directory + "/stdout-\(tag).log"
        stderrPath = directory + "/stderr-\(tag).log"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    /// Runs to completion and returns the exit status.
    static func run(_ arguments: [String], environment: [String: String] = [:], directory: String) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(arguments, environment: environment, directory: directory)
        let status = await child.wait(timeout: .seconds(120))
        return (status ?? -1, child.stdout, child.stderr)
    }

    /// Waits for the exit; nil when it did not exit in time (then it is killed).
    func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
}
