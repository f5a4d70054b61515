import Checkpoint
import Connectors
import Foundation

/// The batches of an acknowledging sink (Splunk HEC with `acknowledgements: true`) that were
/// accepted but are not yet all indexed, in spool order.
///
/// With one batch in flight (`ack_max_in_flight: 1`, the default) each batch waits out
/// `ack_query_interval` before the next is read: a sink of batches of 500 at 10 s moves 50 events
/// a second, and a crash resends at most that one batch. With more, the next batches go out while
/// the first wait, all their ackIds go in one query, and the offset moves through the leading
/// batches whose every send is indexed, never past one that is not; a crash resends them all.
struct AcknowledgementWindow: Sendable {
    typealias Item = (record: SpoolRecord, event: EncodedEvent)
    /// Monotonic: a wall-clock step must neither stall the queries nor expire every send at once.
    typealias Instant = EngineClock.Instant

    /// One send the sink accepted: its ackId, what it carried (sent again if the ack expires), when.
    struct Awaited: Sendable {
        var ackID: Int
        var items: [Item]
        var sentAt: Instant
        /// How often these events have gone out while waiting for an ack (counts against `retry.max_attempts`).
        var sends = 1
        /// Splunk has since handed out this ackId, or a lower one, again: its channel was reset
        /// (a restart, a load balancer without affinity), so this id's answer means nothing now.
        var superseded = false

        var bytes: Int { items.reduce(0) { $0 + $1.event.body.count } }
    }

    /// One batch read from the spool.
    struct Batch: Sendable {
        /// Where the sink's offset may move once this batch and every one before it is settled.
        var passedThrough: Int64
        var deadLetters: [DeadLetterEntry] = []
        var awaiting: [Awaited] = []
        /// Spool rows read and rows that passed the filters, for the metrics at commit.
        var records: Int
        var matched: Int
        /// The sink's integrity chains after this batch, committed with its offset.
        var chainHeads: [ChainHead] = []
    }

    /// The largest `ack_max_in_flight`; the bytes cap bounds the memory unacknowledged events hold.
    static let maxBatches = 64
    static let maxBytes = 16 << 20

    /// Batches allowed in flight (`ack_max_in_flight`).
    let capacity: Int
    private(set) var batches: [Batch] = []
    /// When the pending ackIds are next asked about.
    var nextQuery: Instant?
    /// Splunk hands out ackIds in increasing order per channel; one not above this means a reset.
    private var highestAckID: Int?

    init(capacity: Int = 1) {
        self.capacity = capacity
    }

    var isEmpty: Bool { batches.isEmpty }
    var hasRoom: Bool { batches.count < capacity && bytes < Self.maxBytes }
    var bytes: Int { batches.reduce(0) { $0 + $1.awaiting.reduce(0) { $0 + $1.bytes } } }
    /// The next batch is read after this sequence number (nil: after the sink's committed offset).
    var readFrom: Int64? { batches.last?.passedThrough }
    var awaitedIDs: [Int] { batches.flatMap { $0.awaiting.filter { !$0.superseded }.map(\.ackID) } }
    var hasAwaited: Bool { batches.contains { !$0.awaiting.isEmpty } }

    /// Whether the pending ackIds should be asked about (or superseded sends resent) now.
    func queryDue(now: Instant) -> Bool {
        hasAwaited && (nextQuery.map { now >= $0 } ?? true)
    }

    /// Adds a batch just sent. The first ackId of an empty window is asked about one interval later.
    mutating func append(_ batch: Batch, now: Instant, queryInterval: Duration) {
        if !hasAwaited { nextQuery = now + queryInterval }
        noteIssued(batch.awaiting.map(\.ackID))
        batches.append(batch)
    }

    /// Forgets the newest send awaiting each indexed ackId (an older send with the same id was
    /// superseded by a channel reset and stays to be resent).
    mutating func markIndexed(_ ids: Set<Int>) {
        var remaining = ids
        for batchIndex in batches.indices.reversed() where !remaining.isEmpty {
            batches[batchIndex].awaiting.removeAll { awaited in
                guard !awaited.superseded, remaining.contains(awaited.ackID) else { return false }
                remaining.remove(awaited.ackID)
                return true
            }
        }
    }

    /// Removes and returns the sends to go out again: superseded ones, and those not indexed
    /// `timeout` after they went out (Splunk may have lost them), with the batch each belongs to.
    mutating func takeExpired(now: Instant, timeout: Duration) -> [(batch: Int64, awaited: Awaited)] {
        var expired: [(batch: Int64, awaited: Awaited)] = []
        for index in batches.indices {
            let (old, fresh) = batches[index].awaiting.partitioned { $0.superseded || now - $0.sentAt >= timeout }
            batches[index].awaiting = fresh
            expired += old.map { (batches[index].passedThrough, $0) }
        }
        return expired
    }

    /// Records what sending expired events again gave: new ackIds to await, or dead letters.
    mutating func add(awaiting: [Awaited], deadLetters: [DeadLetterEntry], toBatch passedThrough: Int64) {
        noteIssued(awaiting.map(\.ackID))
        restore(awaiting, deadLetters: deadLetters, toBatch: passedThrough)
    }

    /// Puts sends back into their batch as they were (a resend that did not happen), so the batch
    /// cannot settle without them.
    mutating func restore(_ awaiting: [Awaited], deadLetters: [DeadLetterEntry] = [], toBatch passedThrough: Int64) {
        guard let index = batches.firstIndex(where: { $0.passedThrough == passedThrough }) else {
            // Batches leave only when settled, and a batch with a send taken out is not.
            preconditionFailure("acknowledgement window lost the batch through \(passedThrough)")
        }
        batches[index].awaiting += awaiting
        batches[index].deadLetters += deadLetters
    }

    /// The leading batches with nothing left to await: the offset may move through the last of them.
    var settled: ArraySlice<Batch> { batches.prefix { $0.awaiting.isEmpty } }

    /// Forgets the first `count` batches once their offset is committed.
    mutating func dropSettled(_ count: Int) {
        batches.removeFirst(count)
    }

    /// A new ackId not above every earlier one: the channel was reset, and every send still
    /// waiting may have been lost with it.
    private mutating func noteIssued(_ ids: [Int]) {
        for id in ids {
            if let highest = highestAckID, id <= highest {
                for batchIndex in batches.indices {
                    for sendIndex in batches[batchIndex].awaiting.indices {
                        batches[batchIndex].awaiting[sendIndex].superseded = true
                    }
                }
            }
            highestAckID = id
        }
    }
}

extension Array {
    /// The elements that match, and those that do not, each in their order.
    fileprivate func partitioned(by matches: (Element) -> Bool) -> (matching: [Element], rest: [Element]) {
        var matching: [Element] = []
        var rest: [Element] = []
        for element in self {
            if matches(element) { matching.append(element) } else { rest.append(element) }
        }
        return (matching, rest)
    }
}
