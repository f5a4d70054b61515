import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `type: file` — appends one encoded event per line (NDJSON) and fsyncs before the batch
/// counts as delivered, so the sink's offset never runs ahead of what is on disk. With `rotation`,
/// a batch that would take the file past `maxBytes` starts a new one (`path` → `path.1` → …).
public final class FileSink: @unchecked Sendable {
    public static let type = "file"

    /// Size-based rotation: `path.1` is the newest full file, `path.<keep>` the oldest kept.
    public struct Rotation: Sendable, Equatable {
        public var maxBytes: Int
        public var keep: Int

        public init(maxBytes: Int, keep: Int) {
            self.maxBytes = maxBytes
            self.keep = keep
        }
    }

    public let name: String
    public let path: String
    public let rotation: Rotation?
    /// Permission bits of the files this sink creates, whatever the umask. Default: 0600 (the
    /// events are audit data); `mode: "0640"` lets a group (a Splunk forwarder) read them.
    public let mode: mode_t
    public static let defaultMode: mode_t = 0o600
    private let lock = NSLock()
    private var descriptor: Int32 = -1
    /// Bytes in the open file (known from open, then counted).
    private var size: Int = 0
    /// The last batch's lines, emptied, for the next: a fresh buffer of a batch's size is mapped
    /// and faulted in anew every batch.
    private var lines: [UInt8] = []
    /// A buffer larger than this (an outsized batch) is let go rather than kept for the next.
    private static let keptBufferBytes = 4 << 20

    public init(name: String, path: String, rotation: Rotation? = nil, mode: mode_t = FileSink.defaultMode) {
        self.name = name
        self.path = path
        self.rotation = rotation
        self.mode = mode
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Appends `batch` and fsyncs. Throws with the system's reason (e.g. "No space left on device").
    public func write(_ batch: [EncodedEvent]) throws {
        try lock.withLock {
            defer {
                lines.removeAll(keepingCapacity: lines.capacity <= Self.keptBufferBytes)
            }
            lines.reserveCapacity(batch.reduce(0) { $0 + $1.body.count + 1 })
            for event in batch {
                lines.append(contentsOf: event.body)
                lines.append(UInt8(ascii: "\n"))
            }
            do {
                try append(lines)
            } catch {
                // Part of the batch may be on disk (a full disk stops a write midway): reopen
                // next time, which cuts that torn tail before the batch is written again.
                closeDescriptor()
                throw error
            }
        }
    }

    private func append(_ bytes: [UInt8]) throws {
        var fd = try openIfNeeded()
        if let rotation, size > 0, size + bytes.count > rotation.maxBytes {
            try rotate(keep: rotation.keep)
            fd = try openIfNeeded()
        }
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw FileSinkError(path: path, operation: "write", code: errno)
                }
                offset += written
            }
        }
        if fsync(fd) != 0 { throw FileSinkError(path: path, operation: "fsync", code: errno) }
        size += bytes.count
    }

    /// Shifts `path.N` to `path.N+1` (the oldest beyond `keep` is replaced), `path` to `path.1`, and
    /// makes the renames durable. A kill midway leaves every delivered line in some file.
    private func rotate(keep: Int) throws {
        closeDescriptor()
        for index in stride(from: keep - 1, through: 1, by: -1) where FileManager.default.fileExists(atPath: "\(path).\(index)") {
            guard rename("\(path).\(index)", "\(path).\(index + 1)") == 0 else {
                throw FileSinkError(path: "\(path).\(index)", operation: "rotate", code: errno)
            }
        }
        guard rename(path, "\(path).1") == 0 else { throw FileSinkError(path: path, operation: "rotate", code: errno) }
        syncDirectory()
    }

    /// Makes renames and a newly created file's name durable: fsyncing a file does not sync the
    /// directory entry that names it, so after a power loss lines fsynced (and offsets committed)
    /// could sit in a file no name leads to.
    private func syncDirectory() {
        let directory = (path as NSString).deletingLastPathComponent
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    private func closeDescriptor() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        size = 0
    }

    private func openIfNeeded() throws -> Int32 {
        if descriptor >= 0 { return descriptor }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            // Directories this sink creates are 0700 (0750 when the files are for a group).
            let directoryMode = 0o700 | (mode & 0o040 != 0 ? 0o050 : 0) | (mode & 0o004 != 0 ? 0o005 : 0)
            try? FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: directoryMode])
        }
        let existed = FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileSinkError(path: path, operation: "open", code: errno) }
        if !existed {
            // open's mode is masked by the umask; the configured mode is what the operator asked for.
            fchmod(fd, mode)
            syncDirectory()
        }
        do {
            try dropTornTail(fd)
        } catch {
            close(fd)
            throw error
        }
        descriptor = fd
        size = Int(lseek(fd, 0, SEEK_END))
        return fd
    }

    /// A kill during `write` can leave part of a batch: the kernel stops a large write between
    /// pages. That batch's offset never moved, so it is written again whole; the torn tail is cut
    /// back to the last newline so it cannot glue itself onto the next line.
    private func dropTornTail(_ fd: Int32) throws {
        var end = lseek(fd, 0, SEEK_END)
        guard end > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var keep: off_t = 0
        search: while end > 0 {
            let start = max(0, end - off_t(chunk.count))
            let count = Int(end - start)
            guard pread(fd, &chunk, count, start) == count else { throw FileSinkError(path: path, operation: "read", code: errno) }
            if let newline = chunk[..<count].lastIndex(of: UInt8(ascii: "\n")) {
                keep = start + off_t(newline) + 1
                break search
            }
            end = start
        }
        let size = lseek(fd, 0, SEEK_END)
        if keep < size, ftruncate(fd, keep) != 0 { throw FileSinkError(path: path, operation: "truncate", code: errno) }
    }
}

public struct FileSinkError: Error, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var code: Int32
    public var description: String { "cannot \(operation) \(path): \(String(cString: strerror(code)))" }
}
