/// Metadata keys of our log lines, in one place so they stay consistent.
enum LogKey {
    static let source = "source"
    static let sink = "sink"
    static let error = "error"
    static let attempt = "attempt"
    static let delay = "retry.delay"
    static let pages = "poll.pages"
    static let fetched = "poll.fetched"
    static let spooled = "poll.spooled"
    static let duplicates = "poll.duplicates"
    static let newestEntry = "poll.newest_entry"
    static let windowEnd = "poll.window_end"
    static let cursor = "poll.cursor"
    static let limit = "spool.limit"
    static let events = "batch.events"
    static let status = "http.status"
    static let deadLetters = "batch.dead_letters"
    static let ackID = "splunk.ack_id"
    /// On a shared state: the epoch of the source's lease a poll ran under.
    static let epoch = "lease.epoch"

    /// Keys whose values are counts or codes: JSON logs write them as numbers, so a query can
    /// compare them (`poll.spooled > 0`). Every other value stays a string (ids look numeric too).
    static let numeric: Set<String> = [attempt, pages, fetched, spooled, duplicates, events, status, deadLetters, ackID, epoch]
}
