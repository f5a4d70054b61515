/// One `_bulk` call the emulator parsed and answered 200 (refused calls are only in `requests()`).
public struct ElasticsearchBulkRequest: Sendable, Equatable {
    /// The `<index>` of `POST /<index>/_bulk`, nil for `POST /_bulk`.
    public var pathIndex: String?
    /// The `?pipeline=` ingest pipeline, nil when absent.
    public var pipeline: String?
    /// Action/document pairs in the body.
    public var itemCount: Int
    /// The response's `errors` flag: some item failed.
    public var errors: Bool
}

/// In-memory indexes: `_id` → document as sent, plus the scripted per-item failures.
struct ElasticsearchStore {
    struct Document {
        var source: String
        var version: Int
    }

    struct ItemFailure {
        var status: Int
        var type: String
        var remaining: Int
    }

    var indexes: [String: [String: Document]] = [:]
    var failures: [String: ItemFailure] = [:]
    var bulks: [ElasticsearchBulkRequest] = []

    /// The scripted failure for `id`, consumed once.
    mutating func takeFailure(for id: String) -> ItemFailure? {
        guard var failure = failures[id] else { return nil }
        failure.remaining -= 1
        failures[id] = failure.remaining > 0 ? failure : nil
        return failure
    }
}
