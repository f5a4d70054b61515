import Foundation

/// The deploys audit log held in memory, sorted ascending by (createdAt, id).
///
/// Sorted storage makes a page a binary search for the `after`/`before` bounds plus a
/// walk backwards from the upper bound, so a million seeded items cost nothing per request.
struct DeploysStore {
    private(set) var items: [DeploysAuditItem] = []

    private static func precedes(_ a: DeploysAuditItem, _ b: DeploysAuditItem) -> Bool {
        let (ta, tb) = (a.createdAt.timeIntervalSince1970, b.createdAt.timeIntervalSince1970)
        return ta < tb || (ta == tb && a.id < b.id)
    }

    /// Adds items in any order. A sorted batch that follows the stored items (what
    /// `generate` produces) is appended as is; otherwise the batch is sorted and merged,
    /// never re-sorting what is already stored.
    mutating func add(_ batch: [DeploysAuditItem]) {
        guard !batch.isEmpty else { return }
        var batch = batch
        for i in batch.indices {
            let t = batch[i].createdAt.timeIntervalSince1970
            if t != t.rounded(.down) { batch[i].createdAt = Date(timeIntervalSince1970: t.rounded(.down)) }
        }
        if !zip(batch, batch.dropFirst()).allSatisfy({ !Self.precedes($1, $0) }) {
            batch.sort(by: Self.precedes)
        }
        if items.isEmpty {
            items = batch
        } else if !Self.precedes(batch[0], items[items.count - 1]) {
            items.append(contentsOf: batch)
        } else if batch.count < 64 {
            for item in batch { insert(item) }
        } else {
            items = Self.merge(items, batch)
        }
    }

    private static func merge(_ a: [DeploysAuditItem], _ b: [DeploysAuditItem]) -> [DeploysAuditItem] {
        var merged: [DeploysAuditItem] = []
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
        var item = item
        item.createdAt = Date(timeIntervalSince1970: item.createdAt.timeIntervalSince1970.rounded(.down))
        let index = partition { Self.precedes(item, $0) }
        items.insert(item, at: index)
    }

    /// Newest first (createdAt desc, then id desc), `after < createdAt < before`, both strict.
    func page(
        after: Double?,
        before: Double?,
        limit: Int,
        where matches: (DeploysAuditItem) -> Bool
    ) -> [DeploysAuditItem] {
        let lower = after.map { bound in partition { $0.createdAt.timeIntervalSince1970 > bound } } ?? 0
        let upper = before.map { bound in partition { $0.createdAt.timeIntervalSince1970 >= bound } } ?? items.count
        var page: [DeploysAuditItem] = []
        page.reserveCapacity(min(limit, max(0, upper - lower)))
        var index = upper - 1
        while index >= lower, page.count < limit {
            if matches(items[index]) { page.append(items[index]) }
            index -= 1
        }
        return page
    }

    /// The first index whose item satisfies `isAbove`, which must be false then true along the array.
    private func partition(_ isAbove: (DeploysAuditItem) -> Bool) -> Int {
        var low = 0
        var high = items.count
        while low < high {
            let mid = (low + high) / 2
            if isAbove(items[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
