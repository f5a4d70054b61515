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
    static let limit = "spool.limit"
    static let events = "batch.events"
    static let status = "http.status"
    static let deadLetters = "batch.dead_letters"
    static let ackID = "splunk.ack_id"
}
