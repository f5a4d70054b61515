import Synchronization

/// The poll positions (cursor and unfinished walk) this process last read or wrote, so a poll
/// starts without a database read.
///
/// Why it may: with SQLite, every writer of cursors and walks holds the run lock (`run`, `once`,
/// `backfill`, `checkpoints set|reset`), so while a forwarder runs it is the only
/// one changing them, and all its changes pass through one `StateStore`. Why it is worth it: a
/// reader connection drops its page cache after any write, so each idle poll read its position
/// back from the WAL, about a tenth of a thousand idle sources' CPU.
///
/// A read only fills an entry when no write of that source began while it ran and none is under
/// way. A write empties the entry when it begins, and refills it when it commits only if no other
/// write of the source was under way at any time meanwhile (either commit may have come last).
/// A write that throws, even after its commit, leaves the entry empty and turns away reads that
/// overlapped it: the next poll reads the database.
final class PollPositionCache: Sendable {
    private struct State {
        var positions: [String: PollPosition] = [:]
        /// Bumped by each write of a source, when it begins and when it ends.
        var generations: [String: UInt64] = [:]
        /// Writes of a source under way now.
        var writing: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// A known position, or nil (read the database, then `remember`).
    func position(of source: String) -> (known: PollPosition?, generation: UInt64) {
        state.withLock { ($0.positions[source], $0.generations[source, default: 0]) }
    }

    /// Keeps what a read found, unless a write of the source began since `generation` or is under way.
    func remember(_ position: PollPosition, of source: String, readAt generation: UInt64) {
        state.withLock {
            guard $0.generations[source, default: 0] == generation, $0.writing[source, default: 0] == 0 else { return }
            $0.positions[source] = position
        }
    }

    /// Runs `write`, a change of `source`'s position; `change` turns the position before it (nil:
    /// not cached) into the position after it commits (nil: not known here; the next poll reads it).
    func writing<T>(_ source: String, change: (PollPosition?) -> PollPosition?, _ write: () throws -> T) rethrows -> T {
        let (before, started, alone) = state.withLock {
            $0.generations[source, default: 0] += 1
            $0.writing[source, default: 0] += 1
            return ($0.positions.removeValue(forKey: source), $0.generations[source, default: 0], $0.writing[source] == 1)
        }
        let result: T
        do {
            result = try write()
        } catch {
            finish(source, after: nil)
            throw error
        }
        // Alone from start to end: no other write began meanwhile (the generation would have moved).
        let after = alone ? change(before) : nil
        finish(source, after: after, ifStillAt: started)
        return result
    }

    /// Ends a write: the entry becomes `after` if the generation is still `ifStillAt`, else empty.
    private func finish(_ source: String, after: PollPosition?, ifStillAt started: UInt64? = nil) {
        state.withLock {
            let current = $0.generations[source, default: 0]
            $0.generations[source] = current + 1
            $0.writing[source, default: 1] -= 1
            if $0.writing[source] == 0 { $0.writing.removeValue(forKey: source) }
            if let after, current == started {
                $0.positions[source] = after
            } else {
                $0.positions.removeValue(forKey: source)
            }
        }
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
