import Foundation
import GRDB
import Synchronization

/// The SQLite state of one forwarder: source cursors, the spool, per-sink offsets,
/// the dedupe index and dead letters.
///
/// Durability rules (DESIGN.md §1) live here:
/// - `appendPage` writes a page's new events, their dedupe keys and the source's
///   cursor in one transaction, so a crash leaves both or neither;
/// - each sink has its own offset into the append-only spool;
/// - `prune` deletes only events every active sink has passed.
public final class StateStore: Sendable {
    /// `PRAGMA application_id` of our files ("AFWD"), so a foreign database is refused, not overwritten.
    static let applicationID: Int32 = 0x4146_5744

    /// WAL size at which a commit checkpoints inline when `checkpointWAL` has not kept up.
    static let backstopCheckpointBytes = 16 << 20
    /// The page size of a new state file. SQLite's default, 4 KiB, cost one WAL frame, one write
    /// call and one checkpoint copy per 4 KiB of spooled events; 32 KiB pages moved 100k events
    /// about 15 % faster (benchmark, interleaved; 16 and 64 KiB were slower). A file keeps the
    /// page size it was created with.
    static let newFilePageSize = 32768

    public let path: String
    let pool: DatabasePool
    /// The spooled payloads, in files beside the state file.
    let segments: SpoolSegments
    /// Used only by `checkpointWAL`, so a checkpoint never waits for, or holds up, the writer.
    private let checkpointer: DatabaseQueue
    /// Each source's poll position as this process last read or wrote it.
    let positions = PollPositionCache()
    /// Appends through this store that added events, and offsets it moved (`localSpoolActivity`).
    let additions = Atomic<UInt64>(0)
    let offsetMoves = Atomic<UInt64>(0)
    /// The events appended through this store, so `spoolIsFull` need not read the spool each time.
    let depthBound = SpoolDepthBound()

    /// Opens (creating if needed) the state file at `path` and runs pending migrations.
    public convenience init(path: String) throws {
        try self.init(path: path, segmentBytes: SpoolSegments.defaultSegmentBytes)
    }

    /// `segmentBytes`: where the spool begins a new segment file (tests make it small).
    init(path: String, segmentBytes: Int64) throws {
        self.path = path
        try Self.refuseForeignFile(at: path)
        try Self.createPrivately(at: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Takes effect only on a file without tables yet; before GRDB switches it to WAL.
            try db.execute(sql: "PRAGMA page_size = \(Self.newFilePageSize)")
            // Debian builds SQLite with secure_delete on, which rewrites every page a prune frees;
            // FAST still zeroes deleted rows on the pages being written anyway, at no extra I/O.
            try db.execute(sql: "PRAGMA secure_delete = FAST")
            // The running forwarder checkpoints on a connection of its own (`checkpointWAL`);
            // this larger automatic one is the backstop for everything else. It counts pages.
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.backstopCheckpointBytes / max(pageSize, 512))")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        // FULL: a committed page survives power loss too, not only a killed process. Set here, on
        // the one writing connection: GRDB switches a pool to NORMAL after `prepareDatabase` runs
        // (a FULL set there was silently undone; strace showed no sync per commit).
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        try pool.write { db in
            let tableCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
            let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            if appID != Self.applicationID {
                guard tableCount == 0 else { throw Self.foreignDatabase(path, appID: appID) }
                try db.execute(sql: "PRAGMA application_id = \(Self.applicationID)")
            }
        }
        let migrator = Self.migrator
        let known = Set(migrator.migrations)
        let applied = try pool.read { try migrator.appliedIdentifiers($0) }
        if let unknown = applied.first(where: { !known.contains($0) }) {
            throw StateError(
                .newerSchema,
                "state file \(path) was written by a newer audit-forwarder (migration \(unknown)); upgrade this binary")
        }
        try migrator.migrate(pool)
        var checkpointConfiguration = Configuration()
        checkpointConfiguration.busyMode = .timeout(10)
        // The same durability as the writer's connection while it copies pages into the file.
        checkpointConfiguration.prepareDatabase { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        checkpointer = try DatabaseQueue(path: path, configuration: checkpointConfiguration)
        segments = try SpoolSegments(directory: Self.segmentDirectory(of: path), segmentBytes: segmentBytes)
    }

    /// Where the spool's segment files live: beside the state file, like its `-wal` and `-shm`.
    public static func segmentDirectory(of path: String) -> String { path + "-spool" }

    /// Creates a missing state file empty and 0600, whatever the umask: the spool holds whole audit
    /// events (emails, IP addresses). SQLite gives its `-wal` and `-shm` the main file's mode.
    static func createPrivately(at path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return }
            throw StateError(
                .uncreatable,
                "cannot create state file \(path): \(String(cString: strerror(errno))) (create its directory, owned by the "
                    + "user the forwarder runs as, or set state.path)")
        }
        fchmod(fd, 0o600)
        close(fd)
    }

    /// The permission bits that let others than the owner read or write the state file (0 when
    /// private), so the forwarder can warn about a file made before it was private by default.
    public var permissionsOpenToOthers: mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return info.st_mode & 0o077
    }

    /// Copies committed pages from the WAL into the database file (PASSIVE: it takes no write lock).
    /// SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, which
    /// stalled page appends for up to 200 ms; run this every fraction of a second instead.
    public func checkpointWAL() throws {
        do {
            _ = try checkpointer.writeWithoutTransaction { try $0.checkpoint(.passive) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            // The writer's backstop checkpoint or a WAL restart is under way; the next call does it.
        }
    }

    /// An SQLite file starts with this header; anything else is not ours to open.
    static func refuseForeignFile(at path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let header = [UInt8]((try? handle.read(upToCount: 108)) ?? Data())
        if header.isEmpty { return }
        guard header.count >= 16, Data(header[0..<16]) == Data("SQLite format 3\0".utf8) else {
            throw StateError(
                .notADatabase,
                "state file \(path) is not an SQLite database (corrupt or foreign); refusing to overwrite it — move it away or point state.path elsewhere"
            )
        }
        // Another program's database must be refused before SQLite opens it for writing: opening
        // switches it to WAL, which rewrites its header. Read from the header itself: the
        // application_id (offset 68) and whether page 1, the schema, is an empty leaf (no tables).
        guard header.count >= 108 else { return }
        let appID = header[68..<72].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let schemaIsEmpty = header[100] == 0x0D && header[103] == 0 && header[104] == 0
        if Int32(bitPattern: appID) != applicationID, !schemaIsEmpty {
            throw foreignDatabase(path, appID: Int32(bitPattern: appID))
        }
    }

    static func foreignDatabase(_ path: String, appID: Int32) -> StateError {
        StateError(
            .foreignDatabase,
            "state file \(path) is an SQLite database of another program (application_id \(appID)); refusing to touch it — point state.path at a new file"
        )
    }

    /// Runs SQLite's own consistency check; returns "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try pool.read { db in
            let sqlite = try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
            // The segment files the spool points into must all be there.
            let files = Set(try segments.segmentNumbers())
            let missing = try Int64.fetchAll(db, sql: "SELECT DISTINCT segment FROM spool WHERE segment IS NOT NULL")
                .filter { !files.contains($0) }
            guard !missing.isEmpty else { return sqlite }
            let problem = "spool segment file(s) missing: " + missing.map { segments.path(of: $0) }.joined(separator: ", ")
            return sqlite == "ok" ? problem : sqlite + "; " + problem
        }
    }
}

extension StateStore {
    /// Throws when a write transaction cannot start (read-only file system, locked, corrupt).
    public func checkWritable() throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE sink_offset SET updated_at = updated_at WHERE 0")
        }
    }
}

extension StateStore {
    /// Test hook for a full disk: `true` caps the file at its current size (`PRAGMA max_page_count`
    /// on the one writer connection), so the next write that needs a new page fails with
    /// SQLITE_FULL, the error a full file system gives; `false` lifts the cap.
    func simulateFullDisk(_ full: Bool) throws {
        try pool.write { db in
            let pages = full ? try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 1 : 4_294_967_294
            _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(pages)")
        }
        segments.refuseWrites(full)
    }
}
