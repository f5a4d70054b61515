import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `type: file` — appends one encoded event per line (NDJSON) and fsyncs before the batch
/// counts as delivered, so the sink's offset never runs ahead of what is on disk.
public final class FileSink: @unchecked Sendable {
    public static let type = "file"
    public let name: String
    public let path: String
    private let lock = NSLock()
    private var descriptor: Int32 = -1

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Appends `batch` and fsyncs. Throws with the system's reason (e.g. "No space left on device").
    public func write(_ batch: [EncodedEvent]) throws {
        var bytes = Data()
        bytes.reserveCapacity(batch.reduce(0) { $0 + $1.body.count + 1 })
        for event in batch {
            bytes.append(event.body)
            bytes.append(UInt8(ascii: "\n"))
        }
        try lock.withLock {
            let fd = try openIfNeeded()
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
        }
    }

    private func openIfNeeded() throws -> Int32 {
        if descriptor >= 0 { return descriptor }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw FileSinkError(path: path, operation: "open", code: errno) }
        descriptor = fd
        return fd
    }
}

public struct FileSinkError: Error, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var code: Int32
    public var description: String { "cannot \(operation) \(path): \(String(cString: strerror(code)))" }
}
