import Foundation

/// A set-once flag readable from any thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0
    var value: Bool { lock.withLock { raised } }

    func set() {
        let waiting = lock.withLock {
            raised = true
            defer { waiters = [:] }
            return waiters.values
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Returns once the flag is set or `limit` has passed, whichever comes first.
    func wait(atMost limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: limit) }
            group.addTask { await self.untilSet() }
            await group.next()
            group.cancelAll()
        }
    }

    private func untilSet() async {
        let id = lock.withLock {
            nextWaiter += 1
            return nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                // Cancelled before this ran: the handler found nothing to resume, so resume here.
                let now = lock.withLock {
                    if raised || Task.isCancelled { return true }
                    waiters[id] = waiter
                    return false
                }
                if now { waiter.resume() }
            }
        } onCancel: {
            lock.withLock { waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
