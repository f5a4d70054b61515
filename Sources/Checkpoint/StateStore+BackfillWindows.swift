import Foundation
import GRDB

/// A backfill's progress when its windows run concurrently. `position` only ever stands for a
/// contiguous prefix of the range; a window finished ahead of it is recorded on its own, so a
/// killed job never claims a range whose earlier windows were still being fetched.
extension StateStore {
    /// Window bounds are times stored as REAL; this much slack absorbs the rounding of `Date`.
    static let windowSlack: TimeInterval = 0.001

    /// Spools one page of `window` for the job's sinks, in one transaction. `checkpoint` (how far
    /// the pages so far cover) moves the job's position only when `window` is the first unfinished
    /// one, i.e. begins at or before the position; pages of later windows move nothing.
    @discardableResult
    public func appendBackfillPage(
        job: BackfillJob, window: Range<Date>, entries: [SpoolEntry], checkpoint: Date?, now: Date = Date()
    ) throws -> AppendResult {
        try countingAdditions(upTo: entries.count) {
            try writeSpooling { db, payloads in
                let result = try Self.insert(db, source: job.source, entries: entries, onlySinks: job.onlySinks, now: now, payloads: &payloads)
                let reached = checkpoint.map { min($0, window.upperBound).timeIntervalSince1970 }
                try db.execute(
                    sql: """
                        UPDATE backfill_job SET events = events + ?, updated_at = ?,
                            position = CASE WHEN ? IS NOT NULL AND ? <= position + ? THEN max(position, ?) ELSE position END
                        WHERE id = ?
                        """,
                    arguments: [
                        result.inserted, now.timeIntervalSince1970, reached, window.lowerBound.timeIntervalSince1970, Self.windowSlack,
                        reached, job.id,
                    ])
                return result
            }
        }
    }

    /// Records `window` as completely spooled and moves the position over every finished window
    /// that now joins the prefix.
    public func finishBackfillWindow(job: BackfillJob, window: Range<Date>, now: Date = Date()) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO backfill_window (job_id, window_start, window_end) VALUES (?, ?, ?)",
                arguments: [job.id, window.lowerBound.timeIntervalSince1970, window.upperBound.timeIntervalSince1970])
            guard var position = try Double.fetchOne(db, sql: "SELECT position FROM backfill_job WHERE id = ?", arguments: [job.id])
            else { return }
            let rows = try Row.fetchAll(
                db, sql: "SELECT window_start, window_end FROM backfill_window WHERE job_id = ? ORDER BY window_start", arguments: [job.id])
            for row in rows {
                let start: Double = row["window_start"]
                guard start <= position + Self.windowSlack else { break }
                position = max(position, row["window_end"])
                try db.execute(sql: "DELETE FROM backfill_window WHERE job_id = ? AND window_start = ?", arguments: [job.id, start])
            }
            try db.execute(
                sql: "UPDATE backfill_job SET position = max(position, ?), updated_at = ? WHERE id = ?",
                arguments: [position, now.timeIntervalSince1970, job.id])
        }
    }
}
