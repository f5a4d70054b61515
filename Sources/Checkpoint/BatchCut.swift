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

extension BatchCut {
    /// Takes records from `next`, in order, until the cut. `exhausted`: the batch holds every
    /// record `next` had and fewer than `limit` of them, so nothing for this sink lies beyond it
    /// (its offset may then move to the spool's head; see `StateStore.nextBatch`).
    static func take(limit: Int, maxBytes: Int, next: () throws -> SpoolRecord?) rethrows -> (records: [SpoolRecord], exhausted: Bool) {
        let taken = try take(limit: limit, maxBytes: maxBytes, size: \.payload.count, next: next)
        return (taken.items, taken.exhausted)
    }

    /// `take` for items whose payload size is known before the payload is read.
    static func take<Item>(
        limit: Int, maxBytes: Int, size: (Item) -> Int, next: () throws -> Item?
    ) rethrows -> (items: [Item], exhausted: Bool) {
        var items: [Item] = []
        var cut = BatchCut(limit: limit, maxBytes: maxBytes)
        while let item = try next() {
            guard cut.admits(bytes: size(item)) else { return (items, false) }
            items.append(item)
        }
        return (items, items.count < limit)
    }

    /// A batch of `records`, read after `seq`: its offset moves to its last record, or to `head()`
    /// when the batch was `exhausted` and the head lies further.
    static func batch(_ taken: (records: [SpoolRecord], exhausted: Bool), after seq: Int64, head: () throws -> Int64?) rethrows -> SpoolBatch {
        SpoolBatch(
            records: taken.records,
            passedThrough: try passedThrough(last: taken.records.last?.seq, exhausted: taken.exhausted, after: seq, head: head))
    }

    /// Where the offset of a batch read after `seq` moves: to `last`, its last record's sequence
    /// number, or to `head()` when the batch was `exhausted` and the head lies further.
    static func passedThrough(last: Int64?, exhausted: Bool, after seq: Int64, head: () throws -> Int64?) rethrows -> Int64 {
        var passedThrough = last ?? seq
        if exhausted, let head = try head(), head > passedThrough { passedThrough = head }
        return passedThrough
    }
}
