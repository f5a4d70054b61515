import Foundation

/// Everything the engine and the commands keep: cursors, the spool, per-sink offsets, the dedupe
/// index, dead letters, walk and backfill progress, integrity chain heads. `StateStore` (SQLite)
/// is the first backend; the engine holds an `any StateBackend` and never knows which it has.
///
/// The guarantees every backend keeps (DESIGN.md §1): a page's events, its dedupe keys, its
/// cursor and walk position are written in one transaction (`appendPage`); a sink's offset, its
/// dead letters and chain heads move in one transaction (`commitDelivery`); a sink reads the
/// spool in sequence order and its offset only moves forward. State changes name the source or
/// sink they belong to, so a backend that leases sources to agents can fence each one.
public protocol StateBackend: AnyObject, Sendable {
    // MARK: Sources
    func cursor(source: String) throws -> String?
    func setCursor(source: String, position: String, now: Date) throws
    func resetCursor(source: String) throws
    func recordSourceError(source: String, error: String, now: Date) throws
    func sourceStates() throws -> [SourceState]
    func walkProgress(source: String) throws -> WalkProgress?
    func clearWalkProgress(source: String) throws
    /// `cursor` and `walkProgress` together (one read where the backend can).
    func pollPosition(source: String) throws -> PollPosition

    // MARK: The spool
    /// Spools a page's new events (those not already in the dedupe index), records their dedupe
    /// keys, moves the cursor (nil: unchanged) and the walk position, all in one transaction.
    @discardableResult
    func appendPage(
        source: String, entries: [SpoolEntry], cursor: String?, onlySinks: [String]?, walk: WalkUpdate, now: Date
    ) throws -> AppendResult
    /// How many events wait for `sink` after `seq` (at most `limit`), without reading payloads.
    func pendingSummary(sink: String, after seq: Int64, limit: Int) throws -> PendingSummary
    func readBatch(sink: String, after seq: Int64, limit: Int, maxBytes: Int) throws -> [SpoolRecord]
    /// The next batch for `sink` after `seq`, cut by `BatchCut`, and how far its offset may move.
    func nextBatch(sink: String, after seq: Int64, limit: Int, maxBytes: Int) throws -> SpoolBatch
    func spoolDepth() throws -> Int64
    /// Whether the spool holds `limit` events or more (back-pressure: polling pauses). Asked before
    /// every group of pages, so it must stay cheap however deep the spool is.
    func spoolIsFull(limit: Int64) throws -> Bool
    /// The disk space of the spool's payload files (nil: the backend keeps payloads in its database).
    func spoolFileBytes() throws -> Int64?
    /// What this process has changed in the spool so far, counted (nil: the backend cannot say,
    /// e.g. other agents change it too): work that found nothing to do may skip its reads while
    /// these hold (an idle sink, the periodic prune).
    var localSpoolActivity: SpoolActivity? { get }
    func headSeq() throws -> Int64
    /// Drops events every active sink has passed; returns how many.
    @discardableResult
    func prune(activeSinks: [String]) throws -> Int
    @discardableResult
    func pruneDedupe(seenBefore cutoff: Date) throws -> Int
    func dedupeCount(source: String) throws -> Int
    func seenUpstreamIDs(source: String) throws -> Set<String>

    // MARK: Sinks
    func registerSinks(_ sinks: [String], now: Date) throws
    func offset(sink: String) throws -> Int64
    /// Moves `sink`'s offset through `seq` with the batch's dead letters and integrity chain heads.
    func commitDelivery(sink: String, through seq: Int64, deadLetters: [DeadLetterEntry], chainHeads: [ChainHead], now: Date) throws
    func chainHeads(sink: String) throws -> [String: ChainHead]
    func recordSinkError(sink: String, error: String, now: Date) throws
    func sinkStates() throws -> [SinkState]

    // MARK: Dead letters
    func newestDeadLetter(sink: String) throws -> DeadLetter?
    func deadLetters(sink: String?, limit: Int) throws -> [DeadLetter]
    func deadLetterCount(sink: String) throws -> Int
    func deadLetterCounts() throws -> [String: Int]
    @discardableResult
    func replayDeadLetters(sink: String?, ids: [Int64]?, now: Date) throws -> Int
    @discardableResult
    func purgeDeadLetters(sink: String?, ids: [Int64]?) throws -> Int

    // MARK: Backfill
    func createBackfillJob(source: String, from start: Date, to end: Date, onlySinks: [String]?, now: Date) throws -> BackfillJob
    func backfillJob(id: Int64) throws -> BackfillJob?
    func backfillJobs() throws -> [BackfillJob]
    func finishBackfillJob(id: Int64, now: Date) throws
    @discardableResult
    func appendBackfillPage(job: BackfillJob, window: Range<Date>, entries: [SpoolEntry], checkpoint: Date?, now: Date) throws -> AppendResult
    func finishBackfillWindow(job: BackfillJob, window: Range<Date>, now: Date) throws

    // MARK: Operators' changes
    /// Runs `change`, an operator's change to `source` (moving or forgetting its cursor), with no
    /// agent working the source meanwhile. SQLite has nothing to do here: the run lock keeps the
    /// daemon out. A shared state takes the source's lease for `admin` (raising its epoch, so an
    /// agent's late write is refused) and hands it back after; while an agent holds the lease it
    /// refuses with `SourceBusyError`.
    func changeAlone<T>(source: String, as admin: String, _ change: () throws -> T) throws -> T

    // MARK: Housekeeping
    /// Work done beside the writers every few hundred milliseconds (SQLite: a WAL checkpoint).
    func periodicMaintenance() throws
    /// Throws when the state cannot be written now (a full disk, a read-only file system).
    func checkWritable() throws
    /// The backend's own consistency check: "ok", or what it found.
    func integrityCheck() throws -> String
    /// What an operator should fix about where the state lives (logged at every start).
    var storageWarnings: [String] { get }
}

/// The usual defaults (now, no sink restriction, everything) for callers holding any backend.
extension StateBackend {
    /// SQLite counts its depth from the ends of the sequence, whatever the spool's length.
    public func spoolIsFull(limit: Int64) throws -> Bool {
        try spoolDepth() >= limit
    }

    public func spoolFileBytes() throws -> Int64? { nil }

    public var localSpoolActivity: SpoolActivity? { nil }

    public func pollPosition(source: String) throws -> PollPosition {
        PollPosition(cursor: try cursor(source: source), walk: try walkProgress(source: source))
    }

    public func setCursor(source: String, position: String) throws { try setCursor(source: source, position: position, now: Date()) }
    public func recordSourceError(source: String, error: String) throws { try recordSourceError(source: source, error: error, now: Date()) }

    @discardableResult

    public func appendPage(
        source: String, entries: [SpoolEntry], cursor: String?, onlySinks: [String]? = nil, walk: WalkUpdate = .unchanged
    ) throws -> AppendResult {
        try appendPage(source: source, entries: entries, cursor: cursor, onlySinks: onlySinks, walk: walk, now: Date())
    }

    public func readBatch(sink: String, after seq: Int64, limit: Int) throws -> [SpoolRecord] {
        try readBatch(sink: sink, after: seq, limit: limit, maxBytes: .max)
    }

    public func nextBatch(sink: String, after seq: Int64, limit: Int) throws -> SpoolBatch {
        try nextBatch(sink: sink, after: seq, limit: limit, maxBytes: .max)
    }

    public func registerSinks(_ sinks: [String]) throws { try registerSinks(sinks, now: Date()) }

    public func commitDelivery(sink: String, through seq: Int64, deadLetters: [DeadLetterEntry] = [], chainHeads: [ChainHead] = []) throws {
        try commitDelivery(sink: sink, through: seq, deadLetters: deadLetters, chainHeads: chainHeads, now: Date())
    }

    public func recordSinkError(sink: String, error: String) throws { try recordSinkError(sink: sink, error: error, now: Date()) }

    /// The newest 1,000 dead letters of `sink` (nil: every sink).
    public func deadLetters(sink: String? = nil) throws -> [DeadLetter] {
        try deadLetters(sink: sink, limit: 1000)
    }

    @discardableResult

    public func replayDeadLetters(sink: String? = nil, ids: [Int64]? = nil) throws -> Int {
        try replayDeadLetters(sink: sink, ids: ids, now: Date())
    }

    @discardableResult

    public func purgeDeadLetters(sink: String?) throws -> Int {
        try purgeDeadLetters(sink: sink, ids: nil)
    }

    public func createBackfillJob(source: String, from start: Date, to end: Date, onlySinks: [String]?) throws -> BackfillJob {
        try createBackfillJob(source: source, from: start, to: end, onlySinks: onlySinks, now: Date())
    }

    public func finishBackfillJob(id: Int64) throws { try finishBackfillJob(id: id, now: Date()) }

    @discardableResult

    public func appendBackfillPage(job: BackfillJob, window: Range<Date>, entries: [SpoolEntry], checkpoint: Date?) throws -> AppendResult {
        try appendBackfillPage(job: job, window: window, entries: entries, checkpoint: checkpoint, now: Date())
    }

    public func finishBackfillWindow(job: BackfillJob, window: Range<Date>) throws {
        try finishBackfillWindow(job: job, window: window, now: Date())
    }
}

extension StateStore: StateBackend {
    public func periodicMaintenance() throws { try checkpointWAL() }

    public func changeAlone<T>(source: String, as admin: String, _ change: () throws -> T) throws -> T { try change() }

    public var storageWarnings: [String] {
        let openBits = permissionsOpenToOthers
        guard openBits != 0 else { return [] }
        return [
            "the state file \(path) is open to others than its owner (mode bits 0\(String(openBits, radix: 8))); it holds whole audit events: chmod 600 it and its -wal and -shm files"
        ]
    }
}

/// An operator's change to a source of a shared state while an agent holds its lease.
public struct SourceBusyError: Error, CustomStringConvertible {
    public let source: String
    public let owner: String
    public let until: Date

    public var description: String {
        let formatter = ISO8601DateFormatter()
        return "source \(source) is leased to agent \(owner) (until \(formatter.string(from: until)), renewed while it runs): "
            + "a cursor is changed while no agent works the source; stop the agents that run it, then run this again"
    }
}

/// Counts of a process's changes to the spool (`StateBackend.localSpoolActivity`). They only grow.
public struct SpoolActivity: Sendable, Equatable {
    /// Appends that added events, replays of dead letters, and appends that failed (they may have
    /// committed before they threw).
    public var additions: UInt64
    /// Offsets moved and sinks registered (what lets a prune drop rows).
    public var offsetMoves: UInt64

    public init(additions: UInt64, offsetMoves: UInt64) {
        self.additions = additions
        self.offsetMoves = offsetMoves
    }
}
