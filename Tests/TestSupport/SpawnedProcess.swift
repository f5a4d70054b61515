import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child started with `posix_spawn`, for the tests that run real programs. Foundation's
/// `Process.run` on Linux (Swift 6.3) reads past the end of a `/proc/self/fd` directory entry
/// while it looks for descriptors to close, and crashes when that entry ends a page: with the
/// many sockets this test process holds, about one full run in three did (a bad pointer
/// dereference in `memmove` under `Process.run`; fixed upstream in swift-corelibs-foundation
/// #5472). Here the child closes every descriptor above 2 with glibc's `closefrom` file action,
/// and gets every signal back at its default, as `Process` does.
public final class SpawnedProcess: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    public struct SpawnFailure: Error, CustomStringConvertible {
        public var code: Int32
        public var description: String { "posix_spawn failed: \(String(cString: strerror(code)))" }
    }

    /// stdin is /dev/null; stdout and stderr are appended to the given files (one file may be both).
    public init(executable: String, arguments: [String], environment: [String: String], directory: String?, stdout: String, stderr: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        if stderr == stdout {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        }
        // The `_np` actions are glibc extensions (2.29, 2.34) that Swift's Glibc module does not import.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }
        if let directory, let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") {
            _ = directory.withCString { unsafeBitCast(symbol, to: ChangeDirectory.self)(&actions, $0) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let code = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard code == 0 else { throw SpawnFailure(code: code) }
        pid = child
    }

    /// The exit status (the signal's number when a signal ended it), once it has exited; nil
    /// while it runs. Reaps the child once.
    public var status: Int32? {
        lock.withLock {
            if let exitStatus { return exitStatus }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
            let signal = raw & 0x7f
            exitStatus = signal == 0 ? (raw >> 8) & 0xff : signal
            return exitStatus
        }
    }

    public var isRunning: Bool { status == nil }

    /// Blocks until it exits: only after a SIGKILL, which ends it at once.
    public func reap() -> Int32 {
        while true {
            if let status { return status }
            usleep(1000)
        }
    }
}

extension SpawnedProcess {
    /// Runs a program to completion (blocking this thread) with the test process's environment,
    /// and returns its exit status with stdout and stderr together: for the tools the tests call
    /// (python3, systemd-analyze), instead of `Process` and its crash (see above).
    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let output = NSTemporaryDirectory() + "af-tool-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try SpawnedProcess(
            executable: executable, arguments: arguments, environment: ProcessInfo.processInfo.environment, directory: nil,
            stdout: output, stderr: output)
        let status = process.reap()
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}
