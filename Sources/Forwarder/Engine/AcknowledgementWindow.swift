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

    /// One send the sink accepted: its ackId, what it carried (sent again if the ack expires), when.
    struct Awaited: Sendable {
        var ackID: Int
        var items: [Item]
        var sentAt: Date

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
    }

    /// The largest `ack_max_in_flight`; the bytes cap bounds the memory unacknowledged events hold.
    static let maxBatches = 64
    static let maxBytes = 16 << 20

    /// Batches allowed in flight (`ack_max_in_flight`).
    let capacity: Int

    private(set) var batches: [Batch] = []
    /// When the pending ackIds are next asked about.
    var nextQuery = Date.distantPast

    var isEmpty: Bool { batches.isEmpty }
    var hasRoom: Bool { batches.count < capacity && bytes < Self.maxBytes }

    init(capacity: Int = 1) {
        self.capacity = capacity
    }
    var bytes: Int { batches.reduce(0) { $0 + $1.awaiting.reduce(0) { $0 + $1.bytes } } }
    /// The next batch is read after this sequence number (nil: after the sink's committed offset).
    var readFrom: Int64? { batches.last?.passedThrough }
    var awaitedIDs: [Int] { batches.flatMap { $0.awaiting.map(\.ackID) } }

    /// Adds a batch just sent. The first ackId of an empty window is asked about one interval later.
    mutating func append(_ batch: Batch, now: Date, queryInterval: Duration) {
        if awaitedIDs.isEmpty { nextQuery = now.addingTimeInterval(queryInterval.seconds) }
        batches.append(batch)
    }

    /// Forgets every send whose ackId is indexed.
    mutating func markIndexed(_ ids: Set<Int>) {
        for index in batches.indices {
            batches[index].awaiting.removeAll { ids.contains($0.ackID) }
        }
    }

    /// Removes and returns the sends still not indexed `timeout` after they went out (Splunk may
    /// have lost them), with the batch each belongs to, for the caller to send again.
    mutating func takeExpired(now: Date, timeout: Duration) -> [(batch: Int64, awaited: Awaited)] {
        var expired: [(batch: Int64, awaited: Awaited)] = []
        for index in batches.indices {
            let (old, fresh) = batches[index].awaiting.partitioned { now.timeIntervalSince($0.sentAt) >= timeout.seconds }
            batches[index].awaiting = fresh
            expired += old.map { (batches[index].passedThrough, $0) }
        }
        return expired
    }

    /// Records what sending an expired batch again gave: new ackIds to await, or dead letters.
    mutating func add(awaiting: [Awaited], deadLetters: [DeadLetterEntry], toBatch passedThrough: Int64) {
        guard let index = batches.firstIndex(where: { $0.passedThrough == passedThrough }) else { return }
        batches[index].awaiting += awaiting
        batches[index].deadLetters += deadLetters
    }

    /// The leading batches with nothing left to await: the offset may move through the last of them.
    var settled: ArraySlice<Batch> { batches.prefix { $0.awaiting.isEmpty } }

    /// Forgets the first `count` batches once their offset is committed.
    mutating func dropSettled(_ count: Int) {
        batches.removeFirst(count)
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
