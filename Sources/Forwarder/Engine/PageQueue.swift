/// The pages a walk has fetched and not yet handed on: at most `capacity` of them, and at most
/// `maxBytes` of their bodies together (a page larger than that waits alone).
///
/// The fetching task puts pages in; the storing side takes everything waiting at once, so when
/// storing falls behind it stores several pages in one transaction (one commit, one fsync) and
/// catches up, and when fetching is the slower side it takes them one by one. The bounds keep
/// memory flat when storing stalls (a full spool); then fetching waits. The byte bound is for
/// upstreams with large pages: a page of 1,000 Okta events is about 2 MB of JSON, and several
/// megabytes more once read, where a deploys.app page of 100 is about 100 KB.
actor PageQueue<Page: Sendable> {
    private let capacity: Int
    private let maxBytes: Int
    private var pages: [Page] = []
    /// The body bytes of the pages waiting.
    private var bytes = 0
    private var end: Result<Void, any Error>?
    private var closed = false
    private var waitingTaker: CheckedContinuation<Void, Never>?
    private var waitingPutter: CheckedContinuation<Void, Never>?

    init(capacity: Int, maxBytes: Int = .max) {
        precondition(capacity > 0 && maxBytes > 0)
        self.capacity = capacity
        self.maxBytes = maxBytes
    }

    /// Adds a page of `bytes` (its body), waiting while the queue is full: `capacity` pages, or
    /// pages that with this one would pass `maxBytes` (an empty queue takes any page). False once
    /// the taker has closed the queue: the page is not wanted and fetching should stop.
    func put(_ page: Page, bytes size: Int = 0) async -> Bool {
        while !closed, !pages.isEmpty, pages.count >= capacity || bytes + size > maxBytes {
            await withCheckedContinuation { waitingPutter = $0 }
        }
        guard !closed else { return false }
        pages.append(page)
        bytes += size
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
        bytes = 0
        waitingPutter?.resume()
        waitingPutter = nil
        return taken
    }

    /// The taker is done (stopped early or failed): a waiting or later `put` returns false.
    func close() {
        closed = true
        pages.removeAll()
        bytes = 0
        waitingPutter?.resume()
        waitingPutter = nil
    }

    private func wakeTaker() {
        waitingTaker?.resume()
        waitingTaker = nil
    }
}
