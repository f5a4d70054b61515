import Foundation

/// The deploys audit log held in memory, sorted ascending by (createdAt, id).
///
/// Sorted storage makes a page a binary search for the `after`/`before` bounds plus a
/// walk backwards from the upper bound, so a million seeded items cost nothing per request.
/// Each item keeps its wire form, rendered once when stored: rendering it on every request made
/// the emulator, not the client, the slow side of the benchmark.
struct DeploysStore {
    struct Stored {
        var item: DeploysAuditItem
        var json: String

        init(_ item: DeploysAuditItem) {
            self.item = item
            json = item.json
        }
    }

    private var items: [Stored] = []

    var count: Int { items.count }

    private static func precedes(_ a: Stored, _ b: Stored) -> Bool {
        let (ta, tb) = (a.item.createdAt.timeIntervalSince1970, b.item.createdAt.timeIntervalSince1970)
        return ta < tb || (ta == tb && a.item.id < b.item.id)
    }

    /// Adds items in any order. A sorted batch that follows the stored items (what
    /// `generate` produces) is appended as is; otherwise the batch is sorted and merged,
    /// never re-sorting what is already stored.
    mutating func add(_ newItems: [DeploysAuditItem]) {
        guard !newItems.isEmpty else { return }
        var batch = newItems.map { Stored(Self.truncated($0)) }
        if !zip(batch, batch.dropFirst()).allSatisfy({ !Self.precedes($1, $0) }) {
            batch.sort(by: Self.precedes)
        }
        if items.isEmpty {
            items = batch
        } else if !Self.precedes(batch[0], items[items.count - 1]) {
            items.append(contentsOf: batch)
        } else if batch.count < 64 {
            for stored in batch { insert(stored) }
        } else {
            items = Self.merge(items, batch)
        }
    }

    private static func merge(_ a: [Stored], _ b: [Stored]) -> [Stored] {
        var merged: [Stored] = []
        merged.reserveCapacity(a.count + b.count)
        var (i, j) = (0, 0)
        while i < a.count, j < b.count {
            if precedes(b[j], a[i]) {
                merged.append(b[j])
                j += 1
            } else {
                merged.append(a[i])
                i += 1
            }
        }
        merged.append(contentsOf: a[i...])
        merged.append(contentsOf: b[j...])
        return merged
    }

    /// Adds one item at its place (a late event).
    mutating func insert(_ item: DeploysAuditItem) {
        insert(Stored(Self.truncated(item)))
    }

    private mutating func insert(_ stored: Stored) {
        let index = partition { Self.precedes(stored, $0) }
        items.insert(stored, at: index)
    }

    /// The server keeps whole seconds.
    private static func truncated(_ item: DeploysAuditItem) -> DeploysAuditItem {
        var item = item
        let t = item.createdAt.timeIntervalSince1970
        if t != t.rounded(.down) { item.createdAt = Date(timeIntervalSince1970: t.rounded(.down)) }
        return item
    }

    /// Newest first (createdAt desc, then id desc), `after < createdAt < before`, both strict.
    func page(
        after: Double?,
        before: Double?,
        limit: Int,
        where matches: (DeploysAuditItem) -> Bool
    ) -> [Stored] {
        let lower = after.map { bound in partition { $0.item.createdAt.timeIntervalSince1970 > bound } } ?? 0
        let upper = before.map { bound in partition { $0.item.createdAt.timeIntervalSince1970 >= bound } } ?? items.count
        var page: [Stored] = []
        page.reserveCapacity(min(limit, max(0, upper - lower)))
        var index = upper - 1
        while index >= lower, page.count < limit {
            if matches(items[index].item) { page.append(items[index]) }
            index -= 1
        }
        return page
    }

    /// The first index whose item satisfies `isAbove`, which must be false then true along the array.
    private func partition(_ isAbove: (Stored) -> Bool) -> Int {
        var low = 0
        var high = items.count
        while low < high {
            let mid = (low + high) / 2
            if isAbove(items[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
