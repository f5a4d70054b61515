import Connectors
import Foundation
import Logging

/// Walks one poll window page by page: rate limits, transient-error retries and the connector's
/// paging. It knows nothing of the state, so `dry-run` uses it as it is.
struct PageWalker: Sendable {
    let configuration: SourceConfiguration
    let client: WireClient
    let sleeper: any Sleeper
    let rateLimiter: RateLimiter
    let logger: Logger
    /// Transient failures of one page (network, 408, 429, 5xx) are retried this often before the poll fails.
    var pageRetry = Self.defaultPageRetry
    static let defaultPageRetry = RetryPolicy(maxAttempts: 6, initialBackoff: .seconds(1), maxBackoff: .seconds(60))

    var name: String { configuration.name }

    /// The window of a poll: from `cursor` less `overlap` (or `lookback` when there is none) to now
    /// less `settle_delay`, fixed here so paging never chases new events.
    func window(cursor: Date?, now: Date) -> PollWindow {
        let start = cursor.map { $0.addingTimeInterval(-configuration.overlap.seconds) }
            ?? now.addingTimeInterval(-configuration.lookback.seconds)
        return PollWindow(start: start, end: now.addingTimeInterval(-configuration.settleDelay.seconds))
    }

    /// Calls `onPage` with each page's entries and the checkpoint they allow, in page order; stops
    /// early when it returns false. One page is fetched ahead while `onPage` handles the last: the
    /// callers (`dry-run`, `check --connect`) stop early, and pages fetched past that are requests
    /// spent on the upstream's budget for nothing. Only one request is in flight at a time.
    func walk(_ window: PollWindow, onPage: (_ entries: [NormalizedEntry], _ checkpoint: Date?) async throws -> Bool) async throws {
        try await walk(configuration.connector.makePoll(window: window), pagesAhead: 1, prepare: { $0 }) { pages in
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

    /// A page fetched and read for paging, its entries being normalized and prepared meanwhile.
    typealias PendingPage<Content: Sendable> = FetchedPage<Task<Content, any Error>>

    /// Walks `start` (a new poll or a resumed one), up to `pagesAhead` pages ahead of `onPages`.
    /// `prepare` turns each page's entries into what `onPages` takes. `onPages` gets every page waiting, in order (one or more), and returns false
    /// to stop the walk; pages fetched past that point are dropped.
    ///
    /// Three stages overlap: requesting and reading pages for paging, normalizing and preparing
    /// their entries (a task per page), and `onPages` storing them.
    func walk<Content: Sendable>(
        _ start: any SourcePoll, pagesAhead: Int = Self.pagesAhead, prepare: @escaping @Sendable ([NormalizedEntry]) throws -> Content,
        onPages: ([FetchedPage<Content>]) async throws -> Bool
    ) async throws {
        let queue = PageQueue<PendingPage<Content>>(capacity: pagesAhead)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await fetchPages(from: start, prepare: prepare, into: queue) }
            do {
                while let pending = try await queue.takeAll() {
                    var pages: [FetchedPage<Content>] = []
                    pages.reserveCapacity(pending.count)
                    for page in pending {
                        pages.append(FetchedPage(content: try await page.content.value, checkpoint: page.checkpoint, resumeAt: page.resumeAt))
                    }
                    guard try await onPages(pages) else { break }
                }
            } catch {
                await queue.close()
                throw error
            }
            // Done, or stopped early: a page still being fetched is not wanted.
            await queue.close()
            group.cancelAll()
        }
    }

    /// The fetching side of `walk`: requests pages one after another and queues them, until the
    /// window is read, a page fails (the error goes into the queue, after the pages before it) or
    /// the storing side closes the queue.
    private func fetchPages<Content: Sendable>(
        from start: any SourcePoll, prepare: @escaping @Sendable ([NormalizedEntry]) throws -> Content,
        into queue: PageQueue<PendingPage<Content>>
    ) async {
        var poll = start
        var warned = 0
        do {
            while let request = try poll.nextRequest() {
                try Task.checkCancellation()
                let entries: DeferredEntries
                (poll, entries) = try await page(of: poll, for: request)
                for warning in poll.warnings.dropFirst(warned) { logger.warning("\(warning)") }
                warned = poll.warnings.count
                // Bounded by the queue: the pages waiting in it, the one waiting to go in and
                // those the storing side has taken, at most about twice `pagesAhead`.
                let content = Task { try prepare(entries.make()) }
                guard await queue.put(PendingPage(content: content, checkpoint: poll.checkpoint, resumeAt: poll.resumePosition)) else { return }
            }
            await queue.finish()
        } catch {
            await queue.finish(throwing: error)
        }
    }

    /// Fetches `request` and has `poll` read the answer; returns the advanced poll and its entries.
    private func page(of poll: any SourcePoll, for request: WireRequest) async throws -> (any SourcePoll, DeferredEntries) {
        var poll = poll
        let response = try await fetch(request)
        // Read first, then return the poll: `(poll, try poll.consumeDeferred(…))` would copy it unadvanced.
        if (200..<300).contains(response.status) {
            let entries = try poll.consumeDeferred(response, receivedAt: Date())
            return (poll, entries)
        }
        if let accepted = try poll.consumeFailure(response, receivedAt: Date()) {
            return (poll, .ready(accepted))
        }
        throw SourceError(
            .upstream, "\(name): upstream answered HTTP \(response.status)\(upstreamDetail(response))\(Self.hint(for: response.status))")
    }

    /// Sends one request, retrying network errors, 408, 429 and 5xx with backoff (Retry-After
    /// first). Returns any other answer, 2xx or not, for the poll to judge.
    private func fetch(_ request: WireRequest) async throws -> WireResponse {
        var attempts = 0
        while true {
            attempts += 1
            let failure: String
            var retryAfter: Duration?
            do {
                try await rateLimiter.acquire(sleeper: sleeper)
                let response = try await client.send(request, timeout: configuration.timeout)
                try await rateLimiter.observe(response, sleeper: sleeper, logger: logger)
                switch response.status {
                case 408, 429, 500...599:
                    retryAfter = RetryAfter.parse(response.header("Retry-After"))
                    failure = "HTTP \(response.status)" + upstreamDetail(response)
                default:
                    return response
                }
            } catch let error as WireError {
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
            try await sleeper.sleep(for: delay)
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
