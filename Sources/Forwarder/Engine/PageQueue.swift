/// The pages a walk has fetched and not yet handed on, at most `capacity` of them.
///
/// The fetching task puts pages in; the storing side takes everything waiting at once, so when
/// storing falls behind it stores several pages in one transaction (one commit, one fsync) and
/// catches up, and when fetching is the slower side it takes them one by one. The bound keeps
/// memory flat when storing stalls (a full spool); then fetching waits.
actor PageQueue<Page: Sendable> {
    private let capacity: Int
    private var pages: [Page] = []
    private var end: Result<Void, any Error>?
    private var closed = false
    private var waitingTaker: CheckedContinuation<Void, Never>?
    private var waitingPutter: CheckedContinuation<Void, Never>?

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Adds a page, waiting while the queue is full. False once the taker has closed the queue:
    /// the page is not wanted and fetching should stop.
    func put(_ page: Page) async -> Bool {
        while pages.count >= capacity, !closed {
            await withCheckedContinuation { waitingPutter = $0 }
        }
        guard !closed else { return false }
        pages.append(page)
        wakeTaker()
        return true
    }

    /// No more pages will come: the walk ended, or failed with `error` after the pages already put.
    func finish(throwing error: (any Error)? = nil) {
        end = error.map { .failure($0) } ?? .success(())
        wakeTaker()
    }

    /// Every page waiting, in order, after waiting for at least one; nil when the walk ended.
    /// Throws the fetching side's error once the pages fetched before it have been taken.
    func takeAll() async throws -> [Page]? {
        while pages.isEmpty {
            if let end {
                try end.get()
                return nil
            }
            await withCheckedContinuation { waitingTaker = $0 }
        }
        let taken = pages
        pages.removeAll(keepingCapacity: true)
        waitingPutter?.resume()
        waitingPutter = nil
        return taken
    }

    /// The taker is done (stopped early or failed): a waiting or later `put` returns false.
    func close() {
        closed = true
        pages.removeAll()
        waitingPutter?.resume()
        waitingPutter = nil
    }

    private func wakeTaker() {
        waitingTaker?.resume()
        waitingTaker = nil
    }
}
