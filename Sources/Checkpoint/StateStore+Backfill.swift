import Foundation
import GRDB

/// A backfill over a historical range: its own cursor (`position`), never the source's live one.
public struct BackfillJob: Sendable, Equatable {
    public var id: Int64
    public var source: String
    public var rangeStart: Date
    public var rangeEnd: Date
    /// Everything from `rangeStart` to here is spooled (the contiguous prefix); a resume starts here.
    public var position: Date
    /// Windows finished past `position`, oldest first: concurrent windows end out of order.
    public var finishedAhead: [Range<Date>] = []
    /// nil: every sink.
    public var onlySinks: [String]?
    public var events: Int
    public var finishedAt: Date?

    /// Share of the range done, 0…1: the contiguous prefix plus the windows finished past it.
    public var progress: Double {
        let total = rangeEnd.timeIntervalSince(rangeStart)
        guard total > 0 else { return 1 }
        let ahead = finishedAhead.reduce(0) { $0 + max(0, $1.upperBound.timeIntervalSince(max($1.lowerBound, position))) }
        return min(1, max(0, (position.timeIntervalSince(rangeStart) + ahead) / total))
    }
}

extension StateStore {
    public func createBackfillJob(source: String, from start: Date, to end: Date, onlySinks: [String]?, now: Date = Date()) throws -> BackfillJob {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO backfill_job (source, range_start, range_end, position, only_sinks, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    source, start.timeIntervalSince1970, end.timeIntervalSince1970, start.timeIntervalSince1970,
                    onlySinks.map(SinkList.text), now.timeIntervalSince1970, now.timeIntervalSince1970,
                ])
            return BackfillJob(
                id: db.lastInsertedRowID, source: source, rangeStart: start, rangeEnd: end, position: start, onlySinks: onlySinks,
                events: 0, finishedAt: nil)
        }
    }

    public func backfillJob(id: Int64) throws -> BackfillJob? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM backfill_job WHERE id = ?", arguments: [id]).map { try Self.backfillJob(db, $0) }
        }
    }

    public func backfillJobs() throws -> [BackfillJob] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM backfill_job ORDER BY id").map { try Self.backfillJob(db, $0) }
        }
    }

    public func finishBackfillJob(id: Int64, now: Date = Date()) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE backfill_job SET finished_at = ?, position = range_end WHERE id = ?", arguments: [now.timeIntervalSince1970, id])
            try db.execute(sql: "DELETE FROM backfill_window WHERE job_id = ?", arguments: [id])
        }
    }

    private static func backfillJob(_ db: Database, _ row: Row) throws -> BackfillJob {
        let sinks: String? = row["only_sinks"]
        let id: Int64 = row["id"]
        let ahead = try Row.fetchAll(
            db, sql: "SELECT window_start, window_end FROM backfill_window WHERE job_id = ? ORDER BY window_start", arguments: [id]
        ).map { Date(timeIntervalSince1970: $0["window_start"])..<Date(timeIntervalSince1970: $0["window_end"]) }
        return BackfillJob(
            id: id, source: row["source"], rangeStart: Date(timeIntervalSince1970: row["range_start"]),
            rangeEnd: Date(timeIntervalSince1970: row["range_end"]), position: Date(timeIntervalSince1970: row["position"]),
            finishedAhead: ahead, onlySinks: sinks.map(SinkList.names), events: row["events"],
            finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }
}
