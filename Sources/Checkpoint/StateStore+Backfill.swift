import Foundation
import GRDB

/// A backfill over a historical range: its own cursor (`position`), never the source's live one.
public struct BackfillJob: Sendable, Equatable {
    public var id: Int64
    public var source: String
    public var rangeStart: Date
    public var rangeEnd: Date
    public var position: Date
    /// nil: every sink.
    public var onlySinks: [String]?
    public var events: Int
    public var finishedAt: Date?

    /// Share of the range done, 0…1.
    public var progress: Double {
        let total = rangeEnd.timeIntervalSince(rangeStart)
        return total <= 0 ? 1 : min(1, max(0, position.timeIntervalSince(rangeStart) / total))
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
                    onlySinks.map { "," + $0.joined(separator: ",") + "," }, now.timeIntervalSince1970, now.timeIntervalSince1970,
                ])
            return BackfillJob(
                id: db.lastInsertedRowID, source: source, rangeStart: start, rangeEnd: end, position: start, onlySinks: onlySinks,
                events: 0, finishedAt: nil)
        }
    }

    public func backfillJob(id: Int64) throws -> BackfillJob? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM backfill_job WHERE id = ?", arguments: [id]).map(Self.backfillJob)
        }
    }

    public func backfillJobs() throws -> [BackfillJob] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM backfill_job ORDER BY id").map(Self.backfillJob)
        }
    }

    /// Spools a backfill page for the job's sinks and moves the job's position, in one transaction.
    @discardableResult
    public func appendBackfillPage(job: BackfillJob, entries: [SpoolEntry], position: Date?, now: Date = Date()) throws -> AppendResult {
        try pool.write { db in
            let result = try Self.insert(db, source: job.source, entries: entries, onlySinks: job.onlySinks, now: now)
            try db.execute(
                sql: """
                    UPDATE backfill_job SET events = events + ?, updated_at = ?,
                        position = CASE WHEN ? IS NULL THEN position ELSE max(position, ?) END
                    WHERE id = ?
                    """,
                arguments: [
                    result.inserted, now.timeIntervalSince1970, position?.timeIntervalSince1970, position?.timeIntervalSince1970, job.id,
                ])
            return result
        }
    }

    public func finishBackfillJob(id: Int64, now: Date = Date()) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE backfill_job SET finished_at = ?, position = range_end WHERE id = ?", arguments: [now.timeIntervalSince1970, id])
        }
    }

    private static func backfillJob(_ row: Row) -> BackfillJob {
        let sinks: String? = row["only_sinks"]
        return BackfillJob(
            id: row["id"], source: row["source"], rangeStart: Date(timeIntervalSince1970: row["range_start"]),
            rangeEnd: Date(timeIntervalSince1970: row["range_end"]), position: Date(timeIntervalSince1970: row["position"]),
            onlySinks: sinks.map { $0.split(separator: ",").map(String.init) }, events: row["events"],
            finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }
}
