import Synchronization

/// Whether the spool is full, mostly without reading it.
///
/// The poller asks before storing each page, and each ask was a pooled read that found the file
/// changed since its last read and loaded its pages again (about 1.5 % of the forwarder's CPU
/// moving 100k events). The store counts the events it adds; a depth read earlier plus every event
/// added since bounds the depth from above (prunes only lower it). While that bound is under the
/// limit the spool is not full, and nothing is read.
///
/// What another process adds (a `deadletters replay`) is not counted: the depth is read again at
/// least every `recheck`, so the spool's limit, soft anyway (pages already fetched are still
/// stored), is passed by at most what another process adds in that second besides.
final class SpoolDepthBound: Sendable {
    private struct Reading {
        var depth: Int64
        /// `added` and `forgotten` as they stood before that depth was read: what commits later is
        /// counted on top, and a `forget` since voids the reading.
        var addedBefore: UInt64
        var forgottenBefore: UInt64
        var at: ContinuousClock.Instant
    }

    static let recheck = Duration.seconds(1)
    /// Events added through this store, counted high when unsure (an append that threw).
    private let added = Atomic<UInt64>(0)
    /// How often events were added in a number not known.
    private let forgotten = Atomic<UInt64>(0)
    private let last = Mutex<Reading?>(nil)

    /// `events` were (or at most that many may have been) added to the spool.
    func add(_ events: Int) {
        added.add(UInt64(max(events, 0)), ordering: .releasing)
    }

    /// Events were added in a number not known: the next ask reads the depth. Counted, not a
    /// reading cleared, so an ask that read before and stores after cannot bring its reading back.
    func forget() {
        forgotten.add(1, ordering: .releasing)
    }

    func isFull(limit: Int64, now: ContinuousClock.Instant = .now, readDepth: () throws -> Int64) rethrows -> Bool {
        let (addedNow, forgottenNow) = (added.load(ordering: .acquiring), forgotten.load(ordering: .acquiring))
        if let reading = last.withLock({ $0 }), reading.forgottenBefore == forgottenNow, now - reading.at < Self.recheck {
            let (bound, overflow) = reading.depth.addingReportingOverflow(Int64(clamping: addedNow &- reading.addedBefore))
            if !overflow, bound < limit { return false }
        }
        let depth = try readDepth()
        last.withLock { $0 = Reading(depth: depth, addedBefore: addedNow, forgottenBefore: forgottenNow, at: now) }
        return depth >= limit
    }
}
