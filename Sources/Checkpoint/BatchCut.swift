/// Where a sink's batch ends: at `limit` events, or before the event that would take its
/// payloads past `maxBytes` (a first event larger than that still goes, alone). The spool's
/// batches and `dry-run`'s previews are cut by this one rule.
public struct BatchCut: Sendable {
    public let limit: Int
    public let maxBytes: Int
    public private(set) var count = 0
    public private(set) var bytes = 0

    public init(limit: Int, maxBytes: Int) {
        self.limit = limit
        self.maxBytes = maxBytes
    }

    /// Takes the next event of `bytes` into the batch, or says the batch ends before it.
    public mutating func admits(bytes size: Int) -> Bool {
        guard count < limit, count == 0 || bytes + size <= maxBytes else { return false }
        count += 1
        bytes += size
        return true
    }
}
