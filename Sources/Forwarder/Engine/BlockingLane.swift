import Dispatch

/// A thread of its own for work that blocks (SQLite commits and their fsyncs, file writes).
///
/// Swift's cooperative pool has one thread per core; a task that waits there for a disk holds a
/// core's worth of progress hostage, so on two cores one fsync in the spool and one in a sink
/// left the fetching side nothing to run on. Work sent here waits on its own thread instead.
struct BlockingLane: Sendable {
    private let queue: DispatchQueue

    init(_ label: String) {
        queue = DispatchQueue(label: "audit-forwarder.\(label)")
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result(catching: body)) }
        }
    }
}
