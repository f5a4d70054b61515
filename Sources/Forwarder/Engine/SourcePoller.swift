import Checkpoint
import Connectors
import Foundation
import Logging

/// Runs polls of one source: window from the checkpoint, pages through the connector, and
/// spools each page together with the cursor in one transaction.
final class SourcePoller: Sendable {
    let configuration: SourceConfiguration
    let store: StateStore
    let client: WireClient
    let spoolMaxEvents: Int
    let sleeper: any Sleeper
    let logger: Logger
    /// Transient failures of one page (network, 408, 429, 5xx) are retried this often before the poll fails.
    let pageRetry = RetryPolicy(maxAttempts: 6, initialBackoff: .seconds(1), maxBackoff: .seconds(60))

    struct Summary: Sendable, Equatable {
        var pages = 0
        var fetched = 0
        var spooled = 0
        var duplicates = 0
    }

    init(configuration: SourceConfiguration, store: StateStore, client: WireClient, spoolMaxEvents: Int, sleeper: any Sleeper, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.client = client
        self.spoolMaxEvents = spoolMaxEvents
        self.sleeper = sleeper
        var logger = logger
        logger[metadataKey: LogKey.source] = .string(configuration.name)
        self.logger = logger
    }

    var name: String { configuration.name }

    /// The window of the next poll: from the cursor less `overlap` (or `lookback` on the first run)
    /// to now less `settle_delay`, fixed here so paging never chases new events.
    func nextWindow(now: Date) throws -> (window: PollWindow, cursor: Date?) {
        let cursor = try store.cursor(source: name).flatMap(RFC3339.parse)
        let start = cursor.map { $0.addingTimeInterval(-configuration.overlap.seconds) }
            ?? now.addingTimeInterval(-configuration.lookback.seconds)
        let end = now.addingTimeInterval(-configuration.settleDelay.seconds)
        return (PollWindow(start: start, end: end), cursor)
    }

    /// One complete poll up to now. Throws (and records the error) when a page cannot be used;
    /// pages already spooled stay, and the cursor stays where the last good page left it.
    @discardableResult
    func poll(now: Date = Date()) async throws -> Summary {
        do {
            let summary = try await pollWindow(now: now)
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
            logger.error("poll failed", metadata: [LogKey.error: "\(error)"])
            try? store.recordSourceError(source: name, error: String(describing: error))
            throw error
        }
    }

    private func pollWindow(now: Date) async throws -> Summary {
        let (window, cursor) = try nextWindow(now: now)
        var summary = Summary()
        guard window.start < window.end else { return summary }
        var poll = configuration.connector.makePoll(window: window)
        var warned = 0
        while let request = try poll.nextRequest() {
            try await waitForSpoolSpace()
            let response = try await fetch(request)
            let entries = try poll.consume(response, receivedAt: Date())
            for warning in poll.warnings.dropFirst(warned) { logger.warning("\(warning)") }
            warned = poll.warnings.count
            let checkpoint = poll.checkpoint.map { point in max(point, cursor ?? point) }
            let result = try store.appendPage(
                source: name, entries: try entries.map(Self.spoolEntry), cursor: checkpoint.map(RFC3339.format))
            summary.pages += 1
            summary.fetched += entries.count
            summary.spooled += result.inserted
            summary.duplicates += result.duplicates
        }
        return summary
    }

    static func spoolEntry(_ entry: NormalizedEntry) throws -> SpoolEntry {
        let event = entry.event
        return SpoolEntry(
            upstreamID: entry.upstreamID, eventID: event.id, eventTime: event.time, eventType: event.eventType.rawValue,
            severity: event.severity.rawValue, action: event.action, outcome: event.outcome.rawValue,
            payload: try NativeEncoding.encode(event))
    }

    /// Back-pressure: a full spool pauses polling; the data is still upstream.
    private func waitForSpoolSpace() async throws {
        var logged = false
        while try store.spoolDepth() >= Int64(spoolMaxEvents) {
            if !logged {
                logger.warning("spool full, polling paused", metadata: [LogKey.limit: "\(spoolMaxEvents)"])
                logged = true
            }
            try await sleeper.sleep(for: .milliseconds(500))
        }
        if logged { logger.info("spool has room again, polling resumed") }
    }

    /// Sends one page request, retrying network errors, 408, 429 and 5xx with backoff (Retry-After first).
    private func fetch(_ request: WireRequest) async throws -> WireResponse {
        var attempts = 0
        while true {
            attempts += 1
            let failure: String
            var retryAfter: Duration?
            do {
                let response = try await client.send(request, timeout: configuration.timeout)
                switch response.status {
                case 200..<300:
                    return response
                case 408, 429, 500...599:
                    retryAfter = RetryAfter.parse(response.header("Retry-After"))
                    failure = "HTTP \(response.status)" + upstreamDetail(response)
                default:
                    throw SourceError(.upstream, "\(name): upstream answered HTTP \(response.status)\(upstreamDetail(response))\(Self.hint(for: response.status))")
                }
            } catch let error as WireError {
                failure = error.description
            }
            guard pageRetry.allowsAnother(after: attempts) else {
                throw SourceError(.upstream, "\(name): giving up on this poll after \(attempts) attempts: \(failure)")
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
