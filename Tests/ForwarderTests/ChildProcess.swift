import Foundation
import TestSupport

/// The real `audit-forwarder` binary, run as a child process. The test command builds it first
/// (`swift build --build-tests`); it is found by path, never through PATH.
struct ChildProcess {
    static var binary: String {
        if let override = ProcessInfo.processInfo.environment["AUDIT_FORWARDER_BIN"] { return override }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/audit-forwarder").path
    }

    let process: SpawnedProcess
    let stdoutPath: String
    let stderrPath: String

    init(_ arguments: [String], environment: [String: String], directory: String) throws {
        let tag = UUID().uuidString.prefix(8)
        stdoutPath = directory + "/stdout-\(tag).log"
        stderrPath = directory + "/stderr-\(tag).log"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process = try SpawnedProcess(
            executable: Self.binary, arguments: arguments, environment: env, directory: nil, stdout: stdoutPath, stderr: stderrPath)
    }

    /// Runs to completion and returns the exit status.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(arguments, environment: environment, directory: directory)
        let status = await child.wait(timeout: .seconds(120))
        return (status ?? -1, child.stdout, child.stderr)
    }

    /// Waits for the exit; nil when it did not exit in time (then it is killed).
    func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.pid, SIGKILL)
                _ = process.reap()
                return nil
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.status
    }

    func signal(_ signal: Int32) { kill(process.pid, signal) }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
}

extension ChildProcess {
    /// Runs any program to completion without blocking a thread of the cooperative pool (on 2
    /// cores it has 2: a blocking wait stalls every other test); stdout and stderr together.
    static func runTool(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(300)
    ) async throws -> (status: Int32, output: String) {
        let output = NSTemporaryDirectory() + "af-tool-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try SpawnedProcess(
            executable: executable, arguments: arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: nil, stdout: output, stderr: output)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            if ContinuousClock.now > deadline { kill(process.pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return (process.status ?? -1, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}
