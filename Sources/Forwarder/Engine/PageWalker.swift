import Connectors
import Foundation
import Logging

/// Walks one poll window page by page: rate limits, transient-error retries and the connector's
/// paging. It knows nothing of the state, so `dry-run` uses it as it is.
struct PageWalker: Sendable {
    let configuration: SourceConfiguration
    let client: WireClient
    let clock: EngineClock
    let rateLimiter: RateLimiter
    let logger: Logger
    /// Transient failures of one page (network, 408, 429, 5xx) are retried this often before the poll fails.
    var pageRetry = Self.defaultPageRetry
    static let defaultPageRetry = RetryPolicy(maxAttempts: 6, initialBackoff: .seconds(1), maxBackoff: .seconds(60))

    var name: String { configuration.name }

    /// The window of a poll: from `cursor` less `overlap` (or `lookback` when there is none) to now
    /// less `settle_delay`, fixed here so paging never chases new events.
    func window(cursor: Date?, now: Date) -> PollWindow {
        let start =
            cursor.map { $0.addingTimeInterval(-configuration.overlap.seconds) }
            ?? now.addingTimeInterval(-configuration.lookback.seconds)
        return PollWindow(start: start, end: now.addingTimeInterval(-configuration.settleDelay.seconds))
    }

    /// Calls `onPage` with each page's entries and the checkpoint they allow, in page order; stops
    /// early when it returns false. One page is fetched ahead while `onPage` handles the last: the
    /// callers (`dry-run`, `check --connect`) stop early, and pages fetched past that are requests
    /// spent on the upstream's budget for nothing. Only one request is in flight at a time.
    func walk(_ window: PollWindow, onPage: (_ entries: [NormalizedEntry], _ checkpoint: Date?) async throws -> Bool) async throws {
        try await walk(configuration.connector.makePoll(window: window), pagesAhead: 1, prepare: { try $0.make() }) { pages in
            for page in pages {
                guard try await onPage(page.content, page.checkpoint) else { return false }
            }
            return true
        }
    }

    /// A page as the walk hands it on: its content (the entries as `prepare` made them), the
    /// checkpoint the poll allowed after it and where a newest-first walk goes on after it.
    struct FetchedPage<Content: Sendable>: Sendable {
        var content: Content
        var checkpoint: Date?
        var resumeAt: String?
    }

    /// How many fetched pages may wait for the storing side (by default).
    static let pagesAhead = 8
    /// How many bytes of page bodies may wait for the storing side (a larger page waits alone): eight
    /// pages of deploys.app's 100 events, one of Okta's 1,000. Each waiting page holds several
    /// times its body once read: with eight Okta pages ahead, 100k events peaked at 91–137 MiB
    /// resident; with one, 75–82 MiB, and no slower.
    static let bytesAhead = 1 << 20

    /// A page fetched and read for paging, its entries being normalized and prepared meanwhile.
    typealias PendingPage<Content: Sendable> = FetchedPage<Task<Content, any Error>>

    /// Walks `start` (a new poll or a resumed one), up to `pagesAhead` pages ahead of `onPages`.
    /// `prepare` turns each page's entries into what `onPages` takes. `onPages` gets every page waiting, in order (one or more), and returns false
    /// to stop the walk; pages fetched past that point are dropped.
    ///
    /// Three stages overlap: requesting and reading pages for paging, normalizing and preparing
    /// their entries (a task per page), and `onPages` storing them.
    func walk<Content: Sendable>(
        _ start: any SourcePoll, pagesAhead: Int = Self.pagesAhead, prepare: @escaping @Sendable (PageEntries) throws -> Content,
        onPages: ([FetchedPage<Content>]) async throws -> Bool
    ) async throws {
        var first: Piece? = Piece(poll: start, seam: nil)
        try await walk(
            pieces: {
                defer { first = nil }; return first
            }, open: 1, pagesAhead: pagesAhead, prepare: prepare, count: { _ in 0 }, onPages: onPages)
    }

    /// Walks a new poll's `window` like `walk(_:)`, in slices fetched `concurrency` at a time when
    /// the connector walks newest first and can read a window in slices (`SourceConnector.resumePosition(olderThan:)`):
    /// a long window (a first run's lookback, a catch-up after downtime) then has more than one
    /// request in flight, which hides the upstream's latency. `onPages` sees what one walk of the
    /// whole window would give: the newest slice's pages first, a resume position that covers
    /// every older slice, and the window end as checkpoint only after the oldest slice's last page.
    /// `count` says how many events a page's content holds (slices are sized by density).
    func walk<Content: Sendable>(
        slicing window: PollWindow, pagesAhead: Int = Self.pagesAhead, prepare: @escaping @Sendable (PageEntries) throws -> Content,
        count: @escaping (Content) -> Int, onPages: ([FetchedPage<Content>]) async throws -> Bool
    ) async throws {
        let connector = configuration.connector
        guard configuration.concurrency > 1, connector.resumePosition(olderThan: window.end) != nil else {
            return try await walk(connector.makePoll(window: window), pagesAhead: pagesAhead, prepare: prepare, onPages: onPages)
        }
        // A slice holds about twice what the queue of the slice fetched ahead holds.
        let pagesPerSlice = 2 * pagesAhead
        var planner = SlicePlanner(window: window, targetEvents: pagesPerSlice * 100)
        var largestPage = 0
        try await walk(
            pieces: {
                guard let slice = planner.next() else { return nil }
                let older = slice.isLast ? nil : connector.resumePosition(olderThan: slice.window.start)
                return Piece(
                    poll: connector.makePoll(window: slice.window), seam: .init(window: slice.window, walkEnd: window.end, resumeOlder: older))
            },
            open: configuration.concurrency, pagesAhead: pagesAhead, prepare: prepare,
            count: { content in
                let events = count(content)
                if events > largestPage {
                    largestPage = events
                    planner.targetEvents = pagesPerSlice * events
                }
                return events
            },
            onPages: onPages,
            onPieceRead: { piece, events in
                if let slice = piece.seam?.window { planner.read(slice, events: events) }
            })
    }

    /// One poll of a walk, and where its pages stand in the whole walk when it is one slice of it.
    struct Piece: Sendable {
        var poll: any SourcePoll
        /// nil: the poll walks the whole window.
        var seam: Seam?

        struct Seam: Sendable {
            var window: PollWindow
            /// The whole walk's window end: its checkpoint once the oldest slice is stored.
            var walkEnd: Date
            /// Where the whole walk goes on once this slice is stored (nil: the oldest slice).
            var resumeOlder: String?
        }

        /// `page` as the whole walk's: a slice's own end is no checkpoint while older slices are
        /// still to be stored, and a finished slice (its poll's checkpoint set) resumes the walk at
        /// the next older one. A page inside a slice keeps the position its poll gave: were it nil,
        /// the seam would skip the rest of the slice; nil instead clears the saved position, so
        /// a walk cut short there starts over (re-reading, never skipping).
        func placed<Content>(_ page: FetchedPage<Content>) -> FetchedPage<Content> {
            guard let seam else { return page }
            var page = page
            if let older = seam.resumeOlder {
                if page.checkpoint != nil { page.resumeAt = older }
                page.checkpoint = nil
            } else if page.checkpoint != nil {
                page.checkpoint = seam.walkEnd
            }
            return page
        }
    }

    /// The walk itself: `pieces` gives the polls in walk order; up to `open` of them are fetched at
    /// once (each into its own queue, at most `pagesAhead` pages ahead); their pages go to
    /// `onPages` in walk order, one piece after the other.
    private func walk<Content: Sendable>(
        pieces next: () -> Piece?, open: Int, pagesAhead: Int, prepare: @escaping @Sendable (PageEntries) throws -> Content,
        count: (Content) -> Int, onPages: ([FetchedPage<Content>]) async throws -> Bool,
        onPieceRead: (Piece, Int) -> Void = { _, _ in }
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var fetching: [(piece: Piece, queue: PageQueue<PendingPage<Content>>)] = []
            func fetchMore() {
                while fetching.count < open, let piece = next() {
                    let queue = PageQueue<PendingPage<Content>>(capacity: pagesAhead, maxBytes: Self.bytesAhead)
                    group.addTask { await fetchPages(from: piece.poll, prepare: prepare, into: queue) }
                    fetching.append((piece, queue))
                }
            }
            func closeAll() async {
                for (_, queue) in fetching { await queue.close() }
            }
            do {
                fetchMore()
                reading: while let (piece, queue) = fetching.first {
                    var events = 0
                    while let pending = try await queue.takeAll() {
                        var pages: [FetchedPage<Content>] = []
                        pages.reserveCapacity(pending.count)
                        for page in pending {
                            let content = try await page.content.value
                            events += count(content)
                            pages.append(piece.placed(FetchedPage(content: content, checkpoint: page.checkpoint, resumeAt: page.resumeAt)))
                        }
                        guard try await onPages(pages) else { break reading }
                    }
                    fetching.removeFirst()
                    onPieceRead(piece, events)
                    fetchMore()
                }
            } catch {
                await closeAll()
                throw error
            }
            // Done, or stopped early: pages still being fetched are not wanted.
            await closeAll()
            group.cancelAll()
        }
    }

    /// The fetching side of `walk`: requests pages one after another and queues them, until the
    /// window is read, a page fails (the error goes into the queue, after the pages before it) or
    /// the storing side closes the queue.
    private func fetchPages<Content: Sendable>(
        from start: any SourcePoll, prepare: @escaping @Sendable (PageEntries) throws -> Content,
        into queue: PageQueue<PendingPage<Content>>
    ) async {
        var poll = start
        var warned = 0
        do {
            while let request = try poll.nextRequest() {
                try Task.checkCancellation()
                let entries: PageEntries
                let bodyBytes: Int
                (poll, entries, bodyBytes) = try await page(of: poll, for: request)
                for warning in poll.warnings.dropFirst(warned) { logger.warning("\(warning)") }
                warned = poll.warnings.count
                // Bounded by the queue: the pages waiting in it, the one waiting to go in and
                // those the storing side has taken, at most about twice `pagesAhead`.
                let content = Task { try prepare(entries) }
                let pending = PendingPage(content: content, checkpoint: poll.checkpoint, resumeAt: poll.resumePosition)
                guard await queue.put(pending, bytes: bodyBytes) else { return }
            }
            await queue.finish()
        } catch {
            await queue.finish(throwing: error)
        }
    }

    /// Fetches `request` and has `poll` read the answer; returns the advanced poll, its entries
    /// and the size of the answer's body.
    private func page(of poll: any SourcePoll, for request: WireRequest) async throws -> (any SourcePoll, PageEntries, Int) {
        var poll = poll
        let response = try await fetch(request)
        // Read first, then return the poll: `(poll, try poll.read(…))` would copy it unadvanced.
        if (200..<300).contains(response.status) {
            let limits = PageLimits.forPage(maxItems: configuration.maxPageItems)
            let entries = try PageLimits.$current.withValue(limits) { try poll.read(response, receivedAt: clock.wallNow) }
            return (poll, entries, response.body.count)
        }
        if let accepted = try poll.readFailure(response, receivedAt: clock.wallNow) {
            return (poll, .ready(accepted), response.body.count)
        }
        throw SourceError(
            .upstream, "\(name): upstream answered HTTP \(response.status)\(upstreamDetail(response))\(Self.hint(for: response.status))")
    }

    /// Sends one request, retrying network errors, 408, 429 and 5xx with backoff (Retry-After
    /// first). Returns any other answer, 2xx or not, for the poll to judge.
    private func fetch(_ request: WireRequest) async throws -> WireResponse {
        if let foreign = ForeignOriginError(connector: name, request: request.url, configured: configuration.connector.origin) {
            throw SourceError(.pagination, foreign.description)
        }
        var attempts = 0
        while true {
            attempts += 1
            let failure: String
            var retryAfter: Duration?
            do {
                try await rateLimiter.acquire(on: clock)
                let response = try await client.send(request, timeout: configuration.timeout, maxBytes: configuration.maxPageBytes)
                try await rateLimiter.observe(response, on: clock, logger: logger)
                // GitHub answers a spent budget with 403 and its rate-limit headers: a wait, not a refusal.
                let budgetSpent = response.status == 403 && response.header("X-RateLimit-Remaining") == "0"
                switch response.status {
                case _ where budgetSpent, 408, 429, 500...599:
                    retryAfter = RetryAfter.parse(response.header("Retry-After"))
                    failure = "HTTP \(response.status)" + upstreamDetail(response)
                default:
                    return response
                }
            } catch let error as WireError {
                if error.isOverLimit {
                    throw SourceError(
                        .malformed, "\(name): a page over max_page_bytes (\(configuration.maxPageBytes)): \(error); the cursor stays where it was")
                }
                failure = error.description
            }
            guard pageRetry.allowsAnother(after: attempts) else {
                let tries = attempts == 1 ? "1 attempt" : "\(attempts) attempts"
                throw SourceError(.upstream, "\(name): giving up on this poll after \(tries): \(failure)")
            }
            let delay = pageRetry.delay(afterAttempts: attempts, retryAfter: retryAfter)
            logger.warning(
                "page request failed, retrying",
                metadata: [LogKey.error: "\(failure)", LogKey.attempt: "\(attempts)", LogKey.delay: "\(DurationText.format(delay))"])
            // The upstream's Retry-After holds back the source's other requests too (another
            // slice's), not just this one's retry.
            let heldUntil = retryAfter.map { rateLimiter.holdOff(for: $0, now: clock.wallNow) }
            try await clock.sleep(for: delay)
            if let heldUntil { rateLimiter.endHoldOff(heldUntil) }
        }
    }

    private func upstreamDetail(_ response: WireResponse) -> String {
        if let message = configuration.connector.upstreamMessage(in: response) { return ": " + message }
        return response.body.isEmpty ? "" : ": " + MalformedPayload.excerpt(of: response.body)
    }

    private static func hint(for status: Int) -> String {
        switch status {
        case 401: " (check the source's token)"
        case 403: " (the token lacks access; check its scope or project)"
        case 404: " (check base_url)"
        default: ""
        }
    }
}
