import Foundation
import Synchronization

/// The spooled events' payloads, in append-only segment files beside the state file
/// (`<state.path>-spool/<number>.seg`); the spool's rows point into them.
///
/// In SQLite each payload was written three times (into the WAL, then into the file by a
/// checkpoint, then freed by a prune) and read back through the WAL. Here it is written once,
/// read back by offset, and a prune frees whole files.
///
/// Crash consistency: a page's payloads are written and synced before the transaction that holds
/// its rows and its cursor commits. Rows point only at synced bytes; bytes no committed row points
/// at (a transaction that failed, a kill between the two) are never read and are written over.
/// Appends and prunes run only inside the state's write lock, which keeps them in order.
final class SpoolSegments: Sendable {
    /// Where a payload lies.
    struct Location: Equatable {
        var segment: Int64
        var offset: Int64
        var length: Int

        /// Where the payload ends; a clear error for a place no file can have (a negative offset
        /// or length, an end past the largest offset), which only a damaged state file names.
        func end() throws -> Int64 {
            let (end, overflow) = offset.addingReportingOverflow(Int64(length))
            guard offset >= 0, length >= 0, !overflow else {
                throw StateError(
                    .unreadable, "spool segment \(segment): a spool row names an impossible place (offset \(offset), length \(length))")
            }
            return end
        }
    }

    /// A new segment is begun once the current one reaches this size, so a prune can free space
    /// while a long backlog is still being sent.
    static let defaultSegmentBytes: Int64 = 32 << 20
    /// A buffer larger than this (a backlog's huge page) is let go rather than kept for the next.
    static let keptBufferBytes = 4 << 20

    let directory: String
    let segmentBytes: Int64
    private struct State {
        /// The segment being appended to and where its committed bytes end; nil until the first
        /// append reads them from the spool.
        var current: (segment: Int64, end: Int64)?
        var readers: [Int64: SegmentFile] = [:]
        /// The last append's buffer, emptied, for the next one: a page's payloads fill several
        /// hundred KiB, and a fresh buffer that size is mapped and faulted in anew every page.
        var spareBuffer: [UInt8] = []
        /// Test hook: appends fail as on a full disk.
        var refuseWrites = false
    }
    private let state = Mutex(State())

    init(directory: String, segmentBytes: Int64 = defaultSegmentBytes) throws {
        self.directory = directory
        self.segmentBytes = segmentBytes
        if mkdir(directory, 0o700) == 0 {
            // The new directory's own entry must survive a power cut before a row points into it.
            try Self.sync(directory: (directory as NSString).deletingLastPathComponent)
        } else if errno != EEXIST {
            throw StateError(.uncreatable, "cannot create the spool directory \(directory): \(String(cString: strerror(errno)))")
        }
    }

    /// One transaction's payloads, gathered before they are written.
    struct Append {
        let segment: Int64
        let start: Int64
        fileprivate(set) var bytes: [UInt8]

        mutating func add(_ payload: Data) -> Location {
            let location = Location(segment: segment, offset: start + Int64(bytes.count), length: payload.count)
            bytes.append(contentsOf: payload)
            return location
        }

        var end: Int64 { start + Int64(bytes.count) }
    }

    /// Starts gathering payloads where the committed bytes end. `lastCommitted` reads that from
    /// the spool the first time (nil: no row points into any segment).
    func beginAppend(lastCommitted: () throws -> Location?) throws -> Append {
        var buffer: [UInt8] = []
        let current = try state.withLock { state in
            swap(&buffer, &state.spareBuffer)
            if let current = state.current { return current }
            let found: (segment: Int64, end: Int64)
            if let last = try lastCommitted() {
                found = (last.segment, try last.end())
            } else {
                // Nothing points into the files there are: start after them, never over them.
                found = ((try segmentNumbers().max() ?? 0) + 1, 0)
            }
            state.current = found
            return found
        }
        buffer.removeAll(keepingCapacity: true)
        if current.end >= segmentBytes { return Append(segment: current.segment + 1, start: 0, bytes: buffer) }
        return Append(segment: current.segment, start: current.end, bytes: buffer)
    }

    /// Writes the gathered payloads and syncs them (and a new file's directory entry), before the
    /// transaction that points at them commits.
    func write(_ append: Append) throws {
        guard !append.bytes.isEmpty else { return }
        if state.withLock({ $0.refuseWrites }) { throw Self.writeError(append.segment, ENOSPC) }
        let isNew = append.start == 0
        let fd = open(path(of: append.segment), O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.writeError(append.segment, errno) }
        defer { close(fd) }
        var written = 0
        while written < append.bytes.count {
            let result = append.bytes.withUnsafeBytes { bytes in
                pwrite(fd, bytes.baseAddress! + written, bytes.count - written, off_t(append.start) + off_t(written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw Self.writeError(append.segment, errno)
            }
            written += result
        }
        guard fdatasync(fd) == 0 else { throw Self.writeError(append.segment, errno) }
        if isNew { try syncDirectory() }
    }

    /// After the transaction committed: the next append goes on after these bytes.
    func committed(_ append: consuming Append) {
        let end = append.bytes.isEmpty ? nil : (append.segment, append.end)
        let buffer = append.bytes.capacity <= Self.keptBufferBytes ? append.bytes : []
        state.withLock { state in
            if let end { state.current = end }
            state.spareBuffer = buffer
        }
    }

    /// The payloads at `locations`, in order. Neighbouring payloads are read with one call, each
    /// straight into its own buffer.
    func read(_ locations: [Location]) throws -> [Data] {
        // The locations come from the state file: a damaged one must not make us trap.
        for location in locations { _ = try location.end() }
        var payloads: [Data] = []
        payloads.reserveCapacity(locations.count)
        var index = 0
        while index < locations.count {
            let first = locations[index]
            var last = index
            while last + 1 < locations.count, locations[last + 1].segment == first.segment,
                locations[last + 1].offset == locations[last].offset + Int64(locations[last].length)
            {
                last += 1
            }
            payloads += try reader(for: first.segment).read(at: first.offset, lengths: locations[index...last].map(\.length))
            index = last + 1
        }
        return payloads
    }

    /// Deletes the segments below `oldestInUse` (nil: none is in use), never the one being
    /// appended to. Returns how many files went.
    @discardableResult
    func prune(oldestInUse: Int64?) throws -> Int {
        let numbers = try segmentNumbers()
        // A process that has not appended (a command run beside the daemon) keeps the newest
        // file: the daemon may be appending to it.
        let appending = state.withLock { $0.current?.segment } ?? numbers.max()
        let keepFrom = [oldestInUse, appending].compactMap { $0 }.min() ?? Int64.max
        var removed = 0
        for number in numbers where number < keepFrom {
            state.withLock { _ = $0.readers.removeValue(forKey: number) }
            if unlink(path(of: number)) == 0 { removed += 1 }
        }
        return removed
    }

    /// The size of the segment files together.
    func diskBytes() throws -> Int64 {
        try segmentNumbers().reduce(0) { total, number in
            var info = stat()
            return stat(path(of: number), &info) == 0 ? total + Int64(info.st_size) : total
        }
    }

    /// The numbers of the segment files there are.
    func segmentNumbers() throws -> [Int64] {
        try FileManager.default.contentsOfDirectory(atPath: directory).compactMap { name in
            name.hasSuffix(".seg") ? Int64(name.dropLast(4)) : nil
        }
    }

    func path(of segment: Int64) -> String {
        directory + "/" + String(segment) + ".seg"
    }

    func refuseWrites(_ refuse: Bool) {
        state.withLock { $0.refuseWrites = refuse }
    }

    private func reader(for segment: Int64) throws -> SegmentFile {
        if let open = state.withLock({ $0.readers[segment] }) { return open }
        let file = try SegmentFile(path: path(of: segment))
        return state.withLock { state in
            if let open = state.readers[segment] { return open }
            state.readers[segment] = file
            return file
        }
    }

    private func syncDirectory() throws {
        try Self.sync(directory: directory)
    }

    private static func sync(directory: String) throws {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw writeError(nil, errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw writeError(nil, errno) }
    }

    private static func writeError(_ segment: Int64?, _ code: Int32) -> StateError {
        let what = segment.map { "spool segment \($0)" } ?? "the spool directory"
        return StateError(.unwritable, "cannot write \(what): \(String(cString: strerror(code)))")
    }
}

/// A segment open for reading. Closed when the last reader lets go, so a prune never closes a
/// descriptor a read is using.
final class SegmentFile: Sendable {
    let fd: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StateError(.unreadable, "cannot open spool segment \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Buffers one `preadv` may fill (`IOV_MAX`, which Swift does not import).
    static let maxVectors = 1024

    /// The payloads lying one after another from `offset`, `lengths` long, each read into a buffer
    /// of its own (scattered reads: no span buffer to map and fault in, no copy out of it).
    func read(at offset: Int64, lengths: [Int]) throws -> [Data] {
        // The lengths come from the state file: a damaged one must not make us trap.
        var end = offset
        for length in lengths {
            let overflow: Bool
            (end, overflow) = end.addingReportingOverflow(Int64(length))
            guard offset >= 0, length >= 0, !overflow else {
                throw StateError(.unreadable, "cannot read spool segment \(path): a spool row names an impossible offset or length")
            }
        }
        var buffers: [UnsafeMutableRawPointer] = []
        buffers.reserveCapacity(lengths.count)
        defer { for buffer in buffers { free(buffer) } }
        var pending: [iovec] = []
        pending.reserveCapacity(lengths.count)
        for length in lengths {
            guard let buffer = malloc(max(length, 1)) else { throw StateError(.unreadable, "cannot read spool segment \(path): out of memory") }
            buffers.append(buffer)
            pending.append(iovec(iov_base: buffer, iov_len: length))
        }
        var position = offset
        var next = pending.firstIndex { $0.iov_len > 0 } ?? pending.endIndex
        while next < pending.endIndex {
            let count = Int32(min(pending.endIndex - next, Self.maxVectors))
            let result = pending.withUnsafeBufferPointer { preadv(fd, $0.baseAddress! + next, count, off_t(position)) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else {
                let reason = result == 0 ? "it ends before byte \(end)" : String(cString: strerror(errno))
                throw StateError(.unreadable, "cannot read spool segment \(path): \(reason)")
            }
            position += Int64(result)
            // Step past what was filled; a short read leaves the rest of one buffer pending.
            var filled = result
            while next < pending.endIndex, filled >= pending[next].iov_len {
                filled -= pending[next].iov_len
                next += 1
            }
            if filled > 0 {
                pending[next].iov_base += filled
                pending[next].iov_len -= filled
            }
        }
        let payloads = zip(buffers, lengths).map { buffer, length in
            Data(bytesNoCopy: buffer, count: length, deallocator: .free)
        }
        buffers.removeAll()  // each now belongs to its Data
        return payloads
    }
}
