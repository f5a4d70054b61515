import Synchronization

/// The poll positions (cursor and unfinished walk) this process last read or wrote, so a poll
/// starts without a database read.
///
/// Why it may: with SQLite, every writer of cursors and walks holds the run lock (`run`, `once`,
/// `backfill`, `checkpoints set|reset`, `state copy`), so while a forwarder runs it is the only
/// one changing them, and all its changes pass through one `StateStore`. Why it is worth it: a
/// reader connection drops its page cache after any write, so each idle poll read its position
/// back from the WAL, about a tenth of a thousand idle sources' CPU.
///
/// A read only fills an entry when no write of that source began while it ran; a write empties
/// the entry when it begins and refills it when it commits, unless another write of the source
/// overlapped it (then it stays empty). A write that throws leaves the entry empty: the next poll
/// reads the database.
final class PollPositionCache: Sendable {
    private struct State {
        var positions: [String: PollPosition] = [:]
        /// Bumped by each write of a source, when it begins and when it ends.
        var generations: [String: UInt64] = [:]
    }

    private let state = Mutex(State())

    /// A known position, or nil (read the database, then `remember`).
    func position(of source: String) -> (known: PollPosition?, generation: UInt64) {
        state.withLock { ($0.positions[source], $0.generations[source, default: 0]) }
    }

    /// Keeps what a read found, unless a write of the source began since `generation`.
    func remember(_ position: PollPosition, of source: String, readAt generation: UInt64) {
        state.withLock {
            guard $0.generations[source, default: 0] == generation else { return }
            $0.positions[source] = position
        }
    }

    /// Runs `write`, a change of `source`'s position; `change` turns the position before it (nil:
    /// not cached) into the position after it commits (nil: not known here; the next poll reads it).
    func writing<T>(_ source: String, change: (PollPosition?) -> PollPosition?, _ write: () throws -> T) rethrows -> T {
        let (before, started) = state.withLock {
            $0.generations[source, default: 0] += 1
            return ($0.positions.removeValue(forKey: source), $0.generations[source, default: 0])
        }
        let result = try write()
        state.withLock {
            let current = $0.generations[source, default: 0]
            $0.generations[source] = current + 1
            // Another write of this source began meanwhile: either commit may have come last.
            guard current == started, let after = change(before) else {
                $0.positions.removeValue(forKey: source)
                return
            }
            $0.positions[source] = after
        }
        return result
    }
}

extension PollPosition {
    /// The position after a page append with `cursor` (nil: unchanged) and `walk`.
    func appending(cursor: String?, walk: WalkUpdate) -> PollPosition {
        var next = self
        if let cursor { next.cursor = cursor }
        switch walk {
        case .unchanged: break
        case .save(let progress): next.walk = progress
        case .clear: next.walk = nil
        }
        return next
    }
}
