import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One runner per state file (DESIGN.md §1.7): an exclusive `flock` on `<state>.lock`.
///
/// The kernel releases a flock when its process dies, so a killed daemon never leaves a
/// stale lock behind (unlike a PID file).
public final class RunLock: @unchecked Sendable {
    public let path: String
    private var descriptor: Int32 = -1

    public init(statePath: String) {
        path = Self.resolved(statePath) + ".lock"
    }

    /// The state file's path with symbolic links resolved (of its directory, when the file does not
    /// exist yet), so two spellings of one file take one lock. A running forwarder keeps cursors
    /// in memory on the strength of this lock (`PollPositionCache`); SQLite, too, puts its `-wal`
    /// beside the file a link points to.
    static func resolved(_ statePath: String) -> String {
        if let full = realpath(statePath, nil) {
            defer { free(full) }
            return String(cString: full)
        }
        let url = URL(fileURLWithPath: statePath)
        let directory = url.deletingLastPathComponent().path
        guard let full = realpath(directory, nil) else { return statePath }
        defer { free(full) }
        return URL(fileURLWithPath: String(cString: full)).appendingPathComponent(url.lastPathComponent).path
    }

    deinit { release() }

    /// Takes the lock, polling until `wait` has passed; throws `StateError.locked` then.
    public func acquire(wait: Duration = .zero) async throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StateError(.lockUnavailable, "cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: wait)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard clock.now < deadline else {
                close(fd)
                throw StateError(
                    .locked,
                    "another audit-forwarder is running on this state file (lock \(path) is held); wait for it to finish or stop it")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        descriptor = fd
    }

    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }
}
