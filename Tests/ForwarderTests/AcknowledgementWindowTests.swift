import Checkpoint
import Connectors
import Foundation
import Testing

@testable import Forwarder

/// The offset of an acknowledging sink moves only through batches whose every send is indexed.
@Suite struct AcknowledgementWindowTests {
    static let start = EngineClock.Instant(offset: .seconds(100))
    static let time = Date(timeIntervalSince1970: 1_800_000_000)

    static func item(_ seq: Int64) -> AcknowledgementWindow.Item {
        let record = SpoolRecord(
            seq: seq, source: "s", eventID: "e\(seq)", eventTime: time, eventType: "other", severity: "info",
            action: "a", outcome: "success", payload: Data("{}".utf8), spooledAt: time)
        let event = EncodedEvent(id: "e\(seq)", time: time, body: Data("{}".utf8), source: "s", eventType: "other", severity: "info")
        return (record, event)
    }

    static func batch(through seq: Int64, ackID: Int, sentAt: EngineClock.Instant = start) -> AcknowledgementWindow.Batch {
        .init(passedThrough: seq, awaiting: [.init(ackID: ackID, items: [item(seq)], sentAt: sentAt)], records: 1, matched: 1)
    }

    @Test func anAckOutOfOrderWaitsForTheBatchesBeforeIt() {
        var window = AcknowledgementWindow(capacity: 8)
        for (seq, ack) in [(10, 0), (20, 1), (30, 2)] {
            window.append(Self.batch(through: Int64(seq), ackID: ack), now: Self.start, queryInterval: .seconds(10))
        }
        #expect(window.awaitedIDs == [0, 1, 2])
        #expect(window.nextQuery == Self.start + .seconds(10))
        #expect(!window.queryDue(now: Self.start + .seconds(9)))
        #expect(window.queryDue(now: Self.start + .seconds(10)))
        window.markIndexed([0, 2])
        #expect(window.settled.map(\.passedThrough) == [10])
        window.dropSettled(1)
        #expect(window.settled.isEmpty)
        window.markIndexed([1])
        #expect(window.settled.map(\.passedThrough) == [20, 30])
        #expect(window.readFrom == 30)
    }

    @Test func anExpiredSendIsHandedBackAndItsResendAwaitedInTheSameBatch() {
        var window = AcknowledgementWindow(capacity: 8)
        window.append(Self.batch(through: 10, ackID: 0), now: Self.start, queryInterval: .seconds(10))
        window.append(Self.batch(through: 20, ackID: 1, sentAt: Self.start + .seconds(250)), now: Self.start, queryInterval: .seconds(10))
        let expired = window.takeExpired(now: Self.start + .seconds(300), timeout: .seconds(300))
        #expect(expired.map(\.batch) == [10])
        #expect(expired.map(\.awaited.ackID) == [0])
        // With its send taken out the batch awaits nothing, yet it must not settle before the resend is added.
        window.add(awaiting: [.init(ackID: 2, items: expired[0].awaited.items, sentAt: Self.start)], deadLetters: [], toBatch: 10)
        #expect(window.settled.isEmpty)
        #expect(window.awaitedIDs.sorted() == [1, 2])
        #expect(!window.awaitedIDs.isEmpty && window.batches.allSatisfy { !$0.awaiting.contains { $0.superseded } })
    }

    /// After a HEC restart (or behind a load balancer without affinity) ackIds start again from 0:
    /// a `true` for the new 0 must not settle the batch that got the old 0.
    @Test func anAckIDHandedOutAgainSupersedesEverySendStillWaiting() {
        var window = AcknowledgementWindow(capacity: 8)
        window.append(Self.batch(through: 10, ackID: 0), now: Self.start, queryInterval: .seconds(10))
        window.append(Self.batch(through: 20, ackID: 1), now: Self.start, queryInterval: .seconds(10))
        window.append(Self.batch(through: 30, ackID: 0), now: Self.start, queryInterval: .seconds(10))
        #expect(window.awaitedIDs == [0])
        window.markIndexed([0])
        #expect(window.settled.isEmpty)
        let resend = window.takeExpired(now: Self.start, timeout: .seconds(300))
        #expect(resend.map(\.batch) == [10, 20])
        #expect(resend.allSatisfy { $0.awaited.superseded })
        // The ids after the reset keep counting up from the new 0: they are not superseded again.
        window.add(awaiting: [.init(ackID: 1, items: resend[0].awaited.items, sentAt: Self.start)], deadLetters: [], toBatch: 10)
        window.add(awaiting: [.init(ackID: 2, items: resend[1].awaited.items, sentAt: Self.start)], deadLetters: [], toBatch: 20)
        #expect(window.awaitedIDs == [1, 2])
        window.markIndexed([1, 2])
        #expect(window.settled.map(\.passedThrough) == [10, 20, 30])
    }

    @Test func theWindowFillsByBatchesAndByBytes() {
        var window = AcknowledgementWindow(capacity: 8)
        for seq in 1...8 {
            #expect(window.hasRoom)
            window.append(Self.batch(through: Int64(seq), ackID: seq), now: Self.start, queryInterval: .seconds(1))
        }
        #expect(!window.hasRoom)
        var big = AcknowledgementWindow(capacity: 8)
        var item = Self.item(1)
        item.event.body = Data(count: AcknowledgementWindow.maxBytes)
        big.append(
            .init(passedThrough: 1, awaiting: [.init(ackID: 0, items: [item], sentAt: Self.start)], records: 1, matched: 1), now: Self.start,
            queryInterval: .seconds(1))
        #expect(!big.hasRoom)
    }
}
