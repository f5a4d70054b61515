/// One audit-log query, parsed from GET parameters or a POST body: the filters, the window
/// and the page. Empty sets mean "no filter".
struct DeepIntShieldQuery {
    var eventTypes: Set<String> = []
    var actions: Set<String> = []
    var resourceTypes: Set<String> = []
    var statuses: Set<String> = []
    var severities: Set<String> = []
    var userIDs: Set<String> = []
    var emails: Set<String> = []
    var ipAddresses: Set<String> = []
    var workspaceID: String?
    /// Lowercased free text, matched as a substring of the entry's ids, names and details.
    var search: String?
    /// Milliseconds, inclusive.
    var start: Int64?
    /// Milliseconds, exclusive.
    var end: Int64?
    var ascending = false
    var includeDetails = true
    var limit = DeepIntShieldEmulator.defaultLimit
    /// 1-based.
    var page = 1
    /// GET only; when given it wins over `page`.
    var offset: Int?

    /// How many matching entries come before this page.
    var skipped: Int {
        if let offset { return offset }
        let (product, overflow) = (page - 1).multipliedReportingOverflow(by: limit)
        return overflow ? Int.max : product
    }

    /// The page number reported back (for an offset, the page it falls in).
    var pageNumber: Int { offset.map { $0 / limit + 1 } ?? page }

    func matches(_ entry: DeepIntShieldEntry) -> Bool {
        func allows(_ set: Set<String>, _ value: String) -> Bool { set.isEmpty || set.contains(value) }
        guard allows(eventTypes, entry.eventType), allows(actions, entry.action),
            allows(resourceTypes, entry.resourceType), allows(statuses, entry.status),
            allows(severities, entry.severity), allows(userIDs, entry.actor.userID),
            allows(emails, entry.actor.email), allows(ipAddresses, entry.actor.ipAddress),
            workspaceID == nil || workspaceID == entry.workspaceID
        else { return false }
        guard let search else { return true }
        return [
            entry.eventID, entry.action, entry.eventType, entry.resourceType, entry.resourceID,
            entry.actor.userID, entry.actor.email, entry.details,
        ]
        .contains { $0.lowercased().contains(search) }
    }
}

extension TimeOrderedStore where Entry == StoredShieldEntry {
    /// Every matching entry counted, the requested page kept. Ties in time are broken by
    /// event id, in the direction of the sort.
    func run(_ query: DeepIntShieldQuery) -> (total: Int, page: [DeepIntShieldEntry]) {
        let window = window(from: query.start, to: query.end)
        let skipped = query.skipped
        var total = 0
        var page: [DeepIntShieldEntry] = []
        func visit(_ stored: StoredShieldEntry) {
            guard query.matches(stored.entry) else { return }
            if total >= skipped, page.count < query.limit { page.append(stored.entry) }
            total += 1
        }
        if query.ascending {
            window.forEach(visit)
        } else {
            window.reversed().forEach(visit)
        }
        return (total, page)
    }

    /// The matching entries, for the summary and verify routes.
    func matching(_ query: DeepIntShieldQuery) -> [DeepIntShieldEntry] {
        Array(window(from: query.start, to: query.end).lazy.map(\.entry).filter(query.matches))
    }
}
