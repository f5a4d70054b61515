import Foundation
import PostgresNIO

extension PostgresStateStore {
    public func createBackfillJob(source: String, from start: Date, to end: Date, onlySinks: [String]?, now: Date) throws -> BackfillJob {
        try connector.withSession { session in
            let (s, e, t) = (start.timeIntervalSince1970, end.timeIntervalSince1970, now.timeIntervalSince1970)
            let id =
                try session.scalar(
                    """
                    INSERT INTO backfill_job (source, range_start, range_end, position, only_sinks, created_at, updated_at)
                    VALUES (\(source), \(s), \(e), \(s), \(onlySinks.map(SinkList.text)), \(t), \(t)) RETURNING id
                    """, as: Int64.self) ?? 0
            return BackfillJob(
                id: id, source: source, rangeStart: start, rangeEnd: end, position: start, onlySinks: onlySinks, events: 0, finishedAt: nil)
        }
    }

    public func backfillJob(id: Int64) throws -> BackfillJob? {
        try reader.withSession { session in
            try session.run("SELECT \(unescaped: Self.jobColumns) FROM backfill_job WHERE id = \(id)").first.map {
                try Self.backfillJob(session, $0)
            }
        }
    }

    public func backfillJobs() throws -> [BackfillJob] {
        try reader.withSession { session in
            try session.run("SELECT \(unescaped: Self.jobColumns) FROM backfill_job ORDER BY id").map { try Self.backfillJob(session, $0) }
        }
    }

    public func finishBackfillJob(id: Int64, now: Date) throws {
        try connector.transaction { session in
            try session.execute("UPDATE backfill_job SET finished_at = \(now.timeIntervalSince1970), position = range_end WHERE id = \(id)")
            try session.execute("DELETE FROM backfill_window WHERE job_id = \(id)")
        }
    }

    /// As the SQLite store's: the page's events for the job's sinks, and the job's position moved
    /// only when `window` is the first unfinished one, in one transaction.
    public func appendBackfillPage(
        job: BackfillJob, window: Range<Date>, entries: [SpoolEntry], checkpoint: Date?, now: Date
    ) throws
        -> AppendResult
    {
        try connector.transaction { session in
            try checkEpoch(session, source: Self.jobLease(job.id))
            let result = try Self.insert(session, source: job.source, entries: entries, onlySinks: job.onlySinks, now: now)
            let reached = checkpoint.map { min($0, window.upperBound).timeIntervalSince1970 }
            try session.execute(
                """
                UPDATE backfill_job SET events = events + \(Int64(result.inserted)), updated_at = \(now.timeIntervalSince1970),
                    position = CASE WHEN \(reached)::float8 IS NOT NULL AND \(window.lowerBound.timeIntervalSince1970) <= position + \(StateStore.windowSlack)
                        THEN greatest(position, \(reached)) ELSE position END
                WHERE id = \(job.id)
                """)
            return result
        }
    }

    public func finishBackfillWindow(job: BackfillJob, window: Range<Date>, now: Date) throws {
        try connector.transaction { session in
            try checkEpoch(session, source: Self.jobLease(job.id))
            let (start, end) = (window.lowerBound.timeIntervalSince1970, window.upperBound.timeIntervalSince1970)
            try session.execute(
                """
                INSERT INTO backfill_window (job_id, window_start, window_end) VALUES (\(job.id), \(start), \(end))
                ON CONFLICT (job_id, window_start) DO UPDATE SET window_end = excluded.window_end
                """)
            guard var position = try session.scalar("SELECT position FROM backfill_job WHERE id = \(job.id) FOR UPDATE", as: Double.self)
            else { return }
            for row in try session.run("SELECT window_start, window_end FROM backfill_window WHERE job_id = \(job.id) ORDER BY window_start") {
                let windowStart = try row.column(0, as: Double.self)
                guard windowStart <= position + StateStore.windowSlack else { break }
                position = max(position, try row.column(1, as: Double.self))
                try session.execute("DELETE FROM backfill_window WHERE job_id = \(job.id) AND window_start = \(windowStart)")
            }
            try session.execute(
                "UPDATE backfill_job SET position = greatest(position, \(position)), updated_at = \(now.timeIntervalSince1970) WHERE id = \(job.id)")
        }
    }

    static let jobColumns = "id, source, range_start, range_end, position, only_sinks, events, finished_at"

    private static func backfillJob(_ session: PostgresSession, _ row: PostgresRow) throws -> BackfillJob {
        let r = row.makeRandomAccess()
        let id = try r[0].decode(Int64.self)
        let ahead = try session.run("SELECT window_start, window_end FROM backfill_window WHERE job_id = \(id) ORDER BY window_start").map {
            Date(timeIntervalSince1970: try $0.column(0))..<Date(timeIntervalSince1970: try $0.column(1))
        }
        return BackfillJob(
            id: id, source: try r[1].decode(String.self), rangeStart: Date(timeIntervalSince1970: try r[2].decode(Double.self)),
            rangeEnd: Date(timeIntervalSince1970: try r[3].decode(Double.self)),
            position: Date(timeIntervalSince1970: try r[4].decode(Double.self)), finishedAhead: ahead,
            onlySinks: try r[5].decode(String?.self).map(SinkList.names), events: Int(try r[6].decode(Int64.self)),
            finishedAt: try r[7].decode(Double?.self).map(Date.init(timeIntervalSince1970:)))
    }
}
