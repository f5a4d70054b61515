/// What a `TimeOrderedStore` sorts by: a time in the emulator's own unit, ties broken by id.
protocol TimeOrdered: Sendable {
    var orderTime: Int64 { get }
    var orderID: String { get }
}

/// An audit log held in memory, ascending by (time, id), for the emulators whose pages are
/// computed per request: a time window is two binary searches, and seeding a sorted batch
/// after what is stored (what the generators produce) is an append.
struct TimeOrderedStore<Entry: TimeOrdered> {
    private(set) var entries: [Entry] = []

    static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.orderTime < b.orderTime || (a.orderTime == b.orderTime && a.orderID < b.orderID)
    }

    /// Adds entries in any order.
    mutating func add(_ batch: [Entry]) {
        guard !batch.isEmpty else { return }
        let sorted = zip(batch, batch.dropFirst()).allSatisfy { !Self.precedes($1, $0) }
        let follows = entries.last.map { !Self.precedes(batch[0], $0) } ?? true
        entries.append(contentsOf: batch)
        // Swift's sort merges existing runs, so two sorted runs cost about one pass.
        if !(sorted && follows) { entries.sort(by: Self.precedes) }
    }

    /// Adds one entry at its place in time (a late event).
    mutating func insert(_ entry: Entry) {
        entries.insert(entry, at: firstIndex { Self.precedes(entry, $0) })
    }

    /// The entries with `from <= time < to`, ascending; a nil bound is open.
    func window(from: Int64?, to: Int64?) -> ArraySlice<Entry> {
        let lower = from.map { bound in firstIndex { $0.orderTime >= bound } } ?? 0
        let upper = to.map { bound in firstIndex { $0.orderTime >= bound } } ?? entries.count
        return entries[lower..<max(lower, upper)]
    }

    /// The first index whose entry satisfies `isAbove`, which must be false then true along the array.
    func firstIndex(_ isAbove: (Entry) -> Bool) -> Int {
        entries[...].partitioningIndex(where: isAbove)
    }
}

extension ArraySlice {
    /// The first index whose element satisfies `isAbove`, which must be false then true
    /// along the slice; `endIndex` when none does. A binary search.
    func partitioningIndex(where isAbove: (Element) -> Bool) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let mid = (low + high) / 2
            if isAbove(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

extension TimeOrderedStore: Sendable {}
