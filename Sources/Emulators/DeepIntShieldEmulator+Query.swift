import Foundation

/// The body of `POST /api/audit-logs/query`, typed so a field of the wrong JSON type
/// (say `"status": "failed"` instead of a list) is a 400, as on a typed server.
private struct QueryBody: Decodable {
    struct Filters: Decodable {
        var eventTypes: [String]?
        var actions: [String]?
        var resourceTypes: [String]?
        var dateRange: DateRange?
        var actors: Actors?
        var status: [String]?
        var severity: [String]?
        var query: String?
    }

    struct DateRange: Decodable {
        var start: String?
        var end: String?
    }

    struct Actors: Decodable {
        var userIds: [String]?
        var emails: [String]?
        var ipAddresses: [String]?
    }

    struct Sort: Decodable {
        var field: String?
        var order: String?
    }

    var filters: Filters?
    var sort: Sort?
    var limit: Int?
    var page: Int?
    var includeDetails: Bool?
}

extension DeepIntShieldEmulator {
    static let defaultLimit = 25
    static let maximumLimit = 100

    /// `GET` parameters: comma-separated lists, `start_date`/`end_date`, `limit`, `page` or
    /// `offset`. Results are newest first.
    static func query(parameters request: RecordedRequest) throws(BadRequest) -> DeepIntShieldQuery {
        var query = DeepIntShieldQuery()
        func list(_ name: String) -> Set<String> {
            guard let text = request.query(name) else { return [] }
            return Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        query.eventTypes = list("event_type")
        query.actions = list("action")
        query.resourceTypes = list("resource_type")
        query.statuses = list("status")
        query.severities = list("severity")
        query.userIDs = list("user_id")
        query.emails = list("email")
        query.ipAddresses = list("ip_address")
        query.workspaceID = request.query("workspace_id").flatMap { $0.isEmpty ? nil : $0 }
        query.search = request.query("search").flatMap { $0.isEmpty ? nil : $0.lowercased() }
        query.start = try request.query("start_date").map { text throws(BadRequest) in try date(text, "start_date") }
        query.end = try request.query("end_date").map { text throws(BadRequest) in try date(text, "end_date") }
        query.limit = try request.query("limit").map { text throws(BadRequest) in try limit(Int(text)) } ?? defaultLimit
        if let text = request.query("page") {
            guard let page = Int(text), page >= 1 else { throw BadRequest(message: "page must be a positive integer") }
            query.page = page
        }
        if let text = request.query("offset") {
            guard let offset = Int(text), offset >= 0 else { throw BadRequest(message: "offset must be a non-negative integer") }
            query.offset = offset
        }
        return query
    }

    /// A `POST` body; `page` given in the URL (a followed `next_page`) wins over the body's.
    static func query(body: Data, pageInURL: String?) throws(BadRequest) -> DeepIntShieldQuery {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let body = try? decoder.decode(QueryBody.self, from: body) else {
            throw BadRequest(message: "invalid JSON body")
        }
        var query = DeepIntShieldQuery()
        let filters = body.filters
        query.eventTypes = Set(filters?.eventTypes ?? [])
        query.actions = Set(filters?.actions ?? [])
        query.resourceTypes = Set(filters?.resourceTypes ?? [])
        query.statuses = Set(filters?.status ?? [])
        query.severities = Set(filters?.severity ?? [])
        query.userIDs = Set(filters?.actors?.userIds ?? [])
        query.emails = Set(filters?.actors?.emails ?? [])
        query.ipAddresses = Set(filters?.actors?.ipAddresses ?? [])
        query.search = filters?.query.flatMap { $0.isEmpty ? nil : $0.lowercased() }
        query.start = try filters?.dateRange?.start.map { text throws(BadRequest) in try date(text, "date_range.start") }
        query.end = try filters?.dateRange?.end.map { text throws(BadRequest) in try date(text, "date_range.end") }

        switch body.sort?.field {
        case nil, "timestamp": break
        case let field?: throw BadRequest(message: "sort.field: unsupported field \(field)")
        }
        switch body.sort?.order {
        case nil, "desc": query.ascending = false
        case "asc": query.ascending = true
        case let order?: throw BadRequest(message: "sort.order: must be asc or desc, not \(order)")
        }
        query.limit = try body.limit.map { value throws(BadRequest) in try limit(value) } ?? defaultLimit
        let page = pageInURL.map { Int($0) } ?? body.page
        if pageInURL != nil || body.page != nil {
            guard let page, page >= 1 else { throw BadRequest(message: "page must be a positive integer") }
            query.page = page
        }
        query.includeDetails = body.includeDetails ?? true
        return query
    }

    /// RFC 3339 (any offset, any fraction) or `YYYY-MM-DD` (midnight UTC), in milliseconds.
    private static func date(_ text: String, _ name: String) throws(BadRequest) -> Int64 {
        let full = text.utf8.count == 10 ? text + "T00:00:00Z" : text
        guard let milliseconds = RFC3339.parseMilliseconds(full) else {
            throw BadRequest(message: "\(name): invalid date \(text), expected RFC 3339 or YYYY-MM-DD")
        }
        return milliseconds
    }

    private static func limit(_ value: Int?) throws(BadRequest) -> Int {
        guard let value, (1...maximumLimit).contains(value) else {
            throw BadRequest(message: "limit must be between 1 and \(maximumLimit)")
        }
        return value
    }
}
