import Foundation
import GRDB

/// Spool rows that hold runs of events (`SpoolRun`, migration `v9-spool-runs`): written a page
/// at a time, read back one event at a time.
extension StateStore {
    /// The columns every reader of spool rows selects, in the order `spooledRows` reads them.
    static let spoolColumns = """
        seq, source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at,
        segment, payload_offset, payload_length, last_seq, events, only_sinks
        """

    /// The rows holding events after `?1` (a sequence number): from the row that holds the next
    /// one, which may begin before it. By the primary key, whatever the spool's length.
    static let rowsAfter = "seq >= coalesce((SELECT max(seq) FROM spool WHERE seq <= ?1 + 1), 0) AND coalesce(last_seq, seq) > ?1"

    /// The sequence number of the newest spooled event (no row: nothing).
    static let newestEventSQL = "SELECT coalesce(last_seq, seq) FROM spool ORDER BY seq DESC LIMIT 1"

    /// The highest sequence number ever handed out (0: none): the newest event's, or once the
    /// spool is pruned empty, AUTOINCREMENT's memory of it.
    static let headSQL = """
        SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'spool'), 0), coalesce((\(newestEventSQL)), 0))
        """

    /// The events of one spool row (selected as `spoolColumns`): its own, or each of its run's.
    static func spooledRows(_ row: Row) throws -> [SpooledRow] {
        guard var run = try RunReader(row) else { return [spooledRow(row)] }
        var rows: [SpooledRow] = []
        while let event = try run.next() { rows.append(event) }
        return rows
    }

    /// Reads the events of a spool row that holds a run, one at a time.
    struct RunReader {
        private let source: String
        private let spooledAt: Date
        private let segment: Int64
        private let start: Int64
        private let lastSeq: Int64
        private var events: SpoolRun.Reader
        /// The sequence number of the event `events` reads next.
        private var nextSeq: Int64

        /// Far more events than a run is ever written with (`SpoolRunWriter.maxEventsPerRun`).
        static let longestRun: Int64 = 1 << 20

        /// nil for a row of one event.
        init?(_ row: Row) throws {
            // Copied once, straight from SQLite's buffer (`row[14] as Data?` would be one copy more).
            guard let blob = try row.withUnsafeData(atIndex: 14, { $0.map { [UInt8]($0) } }) else { return nil }
            let seq: Int64 = row[0]
            // A run's length stays far from the integers' ends, so stepping through it never traps.
            guard let segment = row[10] as Int64?, let start = row[11] as Int64?, let lastSeq = row[13] as Int64?, lastSeq < .max,
                case (let length, false) = lastSeq.subtractingReportingOverflow(seq), length >= 0, length < Self.longestRun
            else {
                throw StateError(.unreadable, "spool row \(seq): its run of events does not match the row")
            }
            source = row[1]
            spooledAt = Date(timeIntervalSince1970: row[9])
            self.segment = segment
            self.start = start
            self.lastSeq = lastSeq
            events = SpoolRun.Reader(blob, seq: seq)
            nextSeq = seq
        }

        /// Steps over the events up to `seq` without decoding them.
        mutating func skip(through seq: Int64) throws {
            while nextSeq <= min(seq, lastSeq) {
                guard try events.skip() else { throw mismatch() }
                nextSeq += 1
            }
        }

        /// The next event; nil after the run's last.
        mutating func next() throws -> SpooledRow? {
            guard let event = try events.next() else {
                guard nextSeq > lastSeq else { throw mismatch() }
                return nil
            }
            guard nextSeq <= lastSeq else { throw mismatch() }
            defer { nextSeq += 1 }
            let (offset, overflow) = start.addingReportingOverflow(event.offset)
            guard !overflow else {
                throw StateError(
                    .unreadable, "spool row \(nextSeq): a spool row names an impossible place (offset \(start) + \(event.offset))")
            }
            let record = SpoolRecord(
                seq: nextSeq, source: source, eventID: event.eventID,
                eventTime: Date(timeIntervalSince1970: event.eventTime), eventType: event.eventType, severity: event.severity,
                action: event.action, outcome: event.outcome, payload: Data(), spooledAt: spooledAt)
            return SpooledRow(record: record, location: SpoolSegments.Location(segment: segment, offset: offset, length: event.length))
        }

        private func mismatch() -> StateError {
            StateError(.unreadable, "spool row \(nextSeq): its run of events does not match the row")
        }
    }

    /// Drops the events up to `seq` from the run that holds both them and later ones (the
    /// spool's first row, when the sinks have passed part of it), so a prune leaves just what some
    /// sink still needs. Returns how many events it dropped.
    static func trimRun(_ db: Database, through seq: Int64) throws -> Int {
        guard
            let row = try Row.fetchOne(db, sql: "SELECT \(spoolColumns) FROM spool WHERE seq <= ?1 AND last_seq > ?1", arguments: [seq]),
            let blob = row[14] as Data?
        else { return 0 }
        let first: Int64 = row[0]
        let events = try SpoolRun.events(in: blob, seq: first)
        let damaged = StateError(.unreadable, "spool row \(first): its run of events does not match the row")
        // Checked, not trapped: a damaged row must not crash the maintenance that prunes it.
        guard let start = row[11] as Int64?, let span = row[12] as Int64?, let last = row[13] as Int64?,
            last.subtractingReportingOverflow(first) == (Int64(events.count - 1), false)
        else { throw damaged }
        let dropped = Int(seq - first + 1)  // within the run: first <= seq < last
        let kept = events[dropped...]
        let shift = kept[kept.startIndex].offset
        let (newStart, overflow) = start.addingReportingOverflow(shift)
        guard !overflow, shift <= span, kept.allSatisfy({ $0.offset >= shift }) else { throw damaged }
        var trimmed: [UInt8] = []
        for var event in kept {
            event.offset -= shift
            SpoolRun.append(event, to: &trimmed)
        }
        let head = kept[kept.startIndex]
        try db.execute(
            sql: """
                UPDATE spool SET seq = ?, event_id = ?, event_time = ?, event_type = ?, severity = ?, action = ?, outcome = ?,
                    payload_offset = ?, payload_length = ?, events = ?
                WHERE seq = ?
                """,
            arguments: [
                seq + 1, head.eventID, head.eventTime, head.eventType, head.severity, head.action, head.outcome,
                newStart, span - shift, Data(trimmed), first,
            ])
        return dropped
    }

    /// The events of spool rows read in order, one at a time, from the first after `after`.
    struct SpooledEvents {
        private let rows: RowCursor
        private let after: Int64
        /// The run being read.
        private var run: RunReader?

        init(_ rows: RowCursor, after: Int64) {
            self.rows = rows
            self.after = after
        }

        mutating func next() throws -> SpooledRow? {
            while true {
                if let event = try run?.next() { return event }
                run = nil
                guard let row = try rows.next() else { return nil }
                if var reader = try RunReader(row) {
                    try reader.skip(through: after)
                    run = reader
                } else if case let event = StateStore.spooledRow(row), event.record.seq > after {
                    return event
                }
            }
        }
    }

    /// Gathers an append's new events into runs, and writes each run as one spool row: a run
    /// ends where the sinks it is meant for change (a backfill page some of whose events some
    /// sinks already had).
    struct SpoolRunWriter {
        private let statement: DirectStatement
        private let source: String
        private let spooledAt: Double
        private var nextSeq: Int64
        private let firstSeq: Int64
        private var run: (first: SpoolEntry, location: SpoolSegments.Location, onlySinks: String?)?
        private var count: Int64 = 0
        private var blob: [UInt8] = []
        /// Where the run's last payload ends.
        private var lastEnd: Int64 = 0

        /// Runs stay small enough that a sink's read of one, and SQLite's copy of its blob,
        /// are small allocations (a run of a whole group of pages, some 120 KB, cost about 2 MiB
        /// of peak memory in malloc's arenas).
        static let maxEventsPerRun: Int64 = 128

        init(_ db: Database, source: String, spooledAt: Double) throws {
            statement = try DirectStatement(
                db.cachedStatement(
                    sql: """
                        INSERT INTO spool (seq, source, event_id, event_time, event_type, severity, action, outcome, payload, spooled_at,
                            only_sinks, segment, payload_offset, payload_length, last_seq, events)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, x'', ?, ?, ?, ?, ?, ?, ?)
                        """), in: db)
            self.source = source
            self.spooledAt = spooledAt
            // What AUTOINCREMENT would hand out next: after every number ever used, pruned or not.
            let head = try DirectStatement(db.cachedStatement(sql: StateStore.headSQL), in: db).integer()
            guard head < .max - Self.maxEventsPerRun * 1024 else {
                throw StateError(.unreadable, "the spool's sequence numbers have run out (head \(head)): the state file is damaged")
            }
            nextSeq = head + 1
            firstSeq = nextSeq
        }

        mutating func add(_ entry: SpoolEntry, at location: SpoolSegments.Location, onlySinks: String?) throws {
            // One transaction's payloads share one segment; a check, not a split that ever happens.
            if let run, run.onlySinks != onlySinks || run.location.segment != location.segment || count == Self.maxEventsPerRun {
                try flush()
            }
            let first = run?.location ?? location
            if run == nil { run = (entry, location, onlySinks) }
            SpoolRun.append(
                SpoolRun.Event(
                    eventID: entry.eventID, eventTime: entry.eventTime.timeIntervalSince1970, eventType: entry.eventType,
                    severity: entry.severity, action: entry.action, outcome: entry.outcome,
                    offset: location.offset - first.offset, length: location.length),
                to: &blob)
            count += 1
            lastEnd = location.offset + Int64(location.length)
        }

        /// Writes the last run, and moves AUTOINCREMENT's counter past every event written, so
        /// rows added without a sequence number (replayed dead letters) come after them.
        mutating func finish(_ db: Database) throws {
            try flush()
            guard nextSeq > firstSeq else { return }
            try db.cachedStatement(sql: "UPDATE sqlite_sequence SET seq = ? WHERE name = 'spool'").execute(arguments: [nextSeq - 1])
        }

        private mutating func flush() throws {
            guard let run else { return }
            statement.bind(1, integer: nextSeq)
            statement.bind(2, source)
            statement.bind(3, run.first.eventID)
            statement.bind(4, run.first.eventTime.timeIntervalSince1970)
            statement.bind(5, run.first.eventType)
            statement.bind(6, run.first.severity)
            statement.bind(7, run.first.action)
            statement.bind(8, run.first.outcome)
            statement.bind(9, spooledAt)
            statement.bind(10, run.onlySinks)
            statement.bind(11, integer: run.location.segment)
            statement.bind(12, integer: run.location.offset)
            statement.bind(13, integer: lastEnd - run.location.offset)
            statement.bind(14, integer: nextSeq + count - 1)
            statement.bind(15, bytes: blob)
            try statement.run()
            nextSeq += count
            count = 0
            blob.removeAll(keepingCapacity: true)
            self.run = nil
        }
    }
}
