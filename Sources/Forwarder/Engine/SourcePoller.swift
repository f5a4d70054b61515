import Checkpoint
import Connectors
import Foundation
import Logging

/// Runs polls of one source: the window from the checkpoint, pages from the walker, and each page
/// spooled together with the cursor it allows, in one transaction.
final class SourcePoller: Sendable {
    let configuration: SourceConfiguration
    let store: any StateBackend
    let walker: PageWalker
    let spoolMaxEvents: Int
    let clock: EngineClock
    let logger: Logger
    let metrics: SourceMetrics
    /// Page appends commit and fsync here, off the cooperative pool.
    let spoolLane = BlockingLane("spool")

    struct Summary: Sendable, Equatable {
        var pages = 0
        var fetched = 0
        var spooled = 0
        var duplicates = 0
        /// The source's cursor when the poll ended (nil: it has none yet).
        var cursor: Date?
    }

    /// Shared by every source of the engine: how many polls run at once.
    let slots: PollSlots
    /// On a shared state: a poll runs only while this agent holds the source's lease.
    let leasing: SourceLeasing?

    init(
        configuration: SourceConfiguration, store: any StateBackend, client: WireClient, spoolMaxEvents: Int, slots: PollSlots,
        leasing: SourceLeasing? = nil, clock: EngineClock, logger: Logger
    ) {
        self.slots = slots
        self.leasing = leasing
        var logger = logger
        logger[metadataKey: LogKey.source] = .string(configuration.name)
        self.configuration = configuration
        self.store = store
        self.spoolMaxEvents = spoolMaxEvents
        self.clock = clock
        self.logger = logger
        metrics = SourceMetrics(source: configuration.name)
        walker = PageWalker(
            configuration: configuration, client: client, clock: clock,
            rateLimiter: RateLimiter(limit: configuration.rateLimit), logger: logger)
    }

    var name: String { configuration.name }

    /// One complete poll up to now. Throws (and records the error) when a page cannot be used;
    /// pages already spooled stay, and the cursor stays where the last good page left it.
    @discardableResult
    func poll(now: Date? = nil) async throws -> Summary {
        let now = now ?? clock.wallNow
        var logger = logger
        let epoch: Int64?
        if let leasing {
            guard let held = leasing.beginPoll(name) else { return Summary() }
            epoch = held
            logger[metadataKey: LogKey.epoch] = "\(held)"
            logger.debug("poll started")
        } else {
            epoch = nil
        }
        // After the poll's last log line: another agent may take the source only after this.
        defer { if epoch != nil { leasing?.endPoll(name) } }
        do {
            // Timed inside the slot: the wait for one is not the poll's duration.
            let summary = try await slots.withSlot {
                let started = clock.now
                defer { metrics.pollDuration.record(duration: clock.now - started) }
                return try await pollWindow(now: now)
            }
            if let cursor = summary.cursor {
                metrics.lag.record(max(0, clock.wallNow.timeIntervalSince(cursor)))
            }
            logger.info(
                "poll complete",
                metadata: [
                    LogKey.pages: "\(summary.pages)", LogKey.fetched: "\(summary.fetched)",
                    LogKey.spooled: "\(summary.spooled)", LogKey.duplicates: "\(summary.duplicates)",
                ])
            return summary
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            metrics.pollErrors.increment()
            logger.error("poll failed", metadata: [LogKey.error: "\(error)"])
            try? store.recordSourceError(source: name, error: String(describing: error))
            throw error
        }
    }

    /// A walk an earlier poll left unfinished goes on first (its window, from where it stopped);
    /// then the window from the cursor up to now.
    private func pollWindow(now: Date) async throws -> Summary {
        // One read: an idle poll otherwise read its state four times.
        let position = try store.pollPosition(source: name)
        var summary = Summary(cursor: position.cursor.flatMap(RFC3339.parse))
        if let progress = position.walk {
            let window = PollWindow(start: progress.windowStart, end: progress.windowEnd)
            if let poll = configuration.connector.makePoll(window: window, resumingAt: progress.position) {
                logger.info("resuming a walk an earlier poll left unfinished", metadata: [LogKey.windowEnd: "\(RFC3339.format(window.end))"])
                try await walk(over: window, resuming: poll, into: &summary)
            } else {
                try store.clearWalkProgress(source: name)
            }
        }
        let cursor = summary.cursor
        let window = walker.window(cursor: cursor, now: now)
        guard window.start < window.end else {
            if let cursor, cursor.timeIntervalSince(now) > StatusReport.aheadTolerance {
                logger.warning(
                    "the cursor is ahead of now: this source fetches nothing until the clock passes it (move it with audit-forwarder checkpoints set)",
                    metadata: [LogKey.cursor: "\(RFC3339.format(cursor))"])
            }
            return summary
        }
        try await walk(over: window, resuming: nil, into: &summary)
        return summary
    }

    /// Spools each page with the cursor it allows and, for newest-first walks, where the walk
    /// stands, in one transaction. Pages fetched while an earlier one was being stored are spooled
    /// together: one transaction for all of them, with the cursor and walk position the last allows.
    /// A new window is walked in slices where the connector allows (`PageWalker.walk(slicing:)`);
    /// a resumed walk goes on in one piece.
    private func walk(over window: PollWindow, resuming resumed: (any SourcePoll)?, into summary: inout Summary) async throws {
        var ledger = WalkLedger(window: window, cursor: summary.cursor, resumed: resumed != nil)
        var warnedAhead = false
        var pages = summary
        func spool(_ fetched: [PageWalker.FetchedPage<[SpoolEntry]>]) async throws -> Bool {
            let entries = SpoolEntry.all(in: fetched)
            // A page without events adds nothing to a full spool.
            if !entries.isEmpty { try await waitForSpoolSpace() }
            let entry = ledger.record(fetched)
            if let ahead = entry.aheadOfWindow, !warnedAhead {
                warnedAhead = true
                logger.warning(
                    "upstream event times run ahead of this host's clock; the cursor stays at the poll's end",
                    metadata: [LogKey.newestEntry: "\(RFC3339.format(ahead))", LogKey.windowEnd: "\(RFC3339.format(window.end))"])
            }
            let (store, name) = (store, name)
            let cursorText = entry.cursor.map(RFC3339.format)
            // Off the cooperative pool: the commit waits for its fsync.
            let result = try await spoolLane.run {
                try store.appendPage(source: name, entries: entries, cursor: cursorText, walk: entry.walk)
            }
            if let cursor = entry.cursor { pages.cursor = cursor }
            pages.pages += fetched.count
            pages.fetched += entries.count
            pages.spooled += result.inserted
            pages.duplicates += result.duplicates
            metrics.fetched.increment(by: entries.count)
            metrics.spooled.increment(by: result.inserted)
            metrics.duplicates.increment(by: result.duplicates)
            // On a shared state the walk stops at this page boundary when the source is being
            // handed back or its lease can no longer be trusted; the cursor holds what it got.
            return leasing?.mayContinue(name) ?? true
        }
        if let resumed {
            try await walker.walk(resumed, prepare: Self.spoolEntries, onPages: spool)
        } else {
            try await walker.walk(slicing: window, prepare: Self.spoolEntries, count: \.count, onPages: spool)
        }
        summary = pages
    }

    /// A page's entries as the spool takes them, encoded on the fetching side.
    @Sendable static func spoolEntries(_ entries: PageEntries) throws -> [SpoolEntry] {
        try entries.encode().map(SpoolEntry.init)
    }

    /// One normalized entry as the spool takes it (dry runs show what would be spooled).
    static func spoolEntry(_ entry: NormalizedEntry) throws -> SpoolEntry {
        SpoolEntry(try EncodedEntry(entry))
    }

    /// Back-pressure: a full spool pauses polling (and backfills); the data is still upstream.
    func waitForSpoolSpace() async throws {
        var logged = false
        while try store.spoolIsFull(limit: Int64(spoolMaxEvents)) {
            if !logged {
                logger.warning("spool full, polling paused", metadata: [LogKey.limit: "\(spoolMaxEvents)"])
                logged = true
            }
            try await clock.sleep(for: .milliseconds(500))
        }
        if logged { logger.info("spool has room again, polling resumed") }
    }
}

extension SpoolEntry {
    init(_ entry: EncodedEntry) {
        self.init(
            upstreamID: entry.upstreamID, eventID: entry.eventID, eventTime: entry.time, eventType: entry.eventType,
            severity: entry.severity, action: entry.action, outcome: entry.outcome, payload: entry.payload)
    }

    /// The entries of a group of pages spooled together, in page order.
    static func all(in pages: [PageWalker.FetchedPage<[SpoolEntry]>]) -> [SpoolEntry] {
        pages.count == 1 ? pages[0].content : pages.flatMap(\.content)
    }
}
