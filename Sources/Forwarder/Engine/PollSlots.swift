import Synchronization

/// How many source polls run at once, at most. A poll's pages, parse trees and spool entries live
/// only while it runs, but a thousand sources on the same interval poll in the same second: all
/// of them together set the process's peak memory. The rest wait their turn, first come first
/// served; a poll takes a few milliseconds of CPU, so the queue drains quickly.
final class PollSlots: Sendable {
    /// Enough to keep every core and a slow upstream's round trips busy.
    static let daemonDefault = 32

    private struct State {
        var free: Int
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
    }

    private let state: Mutex<State>

    init(limit: Int) {
        state = Mutex(State(free: max(1, limit)))
    }

    /// Runs `body` once a slot is free, and frees it after. Cancelled while waiting: throws
    /// `CancellationError` without running `body`.
    func withSlot<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Now { case go, cancelled, wait }
                let now = state.withLock { state -> Now in
                    if Task.isCancelled { return .cancelled }
                    if state.free > 0 {
                        state.free -= 1
                        return .go
                    }
                    state.waiters.append((id, continuation))
                    return .wait
                }
                switch now {
                case .go: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .wait: break
                }
            }
        } onCancel: {
            let waiting = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiting?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiters.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
