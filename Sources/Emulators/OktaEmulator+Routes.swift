import Foundation

extension OktaEmulator {
    static let logsPath = "/api/v1/logs"
    static let defaultLimit = 100
    static let maximumLimit = 1000
    static let rateLimitSummary = "API call exceeded rate limit due to too many requests."

    /// Checks run in this order: fault, route (404), method (405), authentication (401),
    /// rate budget (429), parameters (400), then the page. Past the method check every answer
    /// carries the `X-Rate-Limit-*` headers; a 401 does not spend the budget.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        await faults.answer(error: { status, message in
            Self.error(status, status == 429 ? Self.rateLimitSummary : message)
        }) { self.route(request) }
    }

    private func route(_ request: RecordedRequest) -> EmulatorResponse {
        guard request.pathWithoutQuery == Self.logsPath else {
            return Self.error(404, "Not found: Resource not found: \(request.pathWithoutQuery) (Resource)")
        }
        guard request.method == "GET" else {
            var response = Self.error(405, "The endpoint does not support the provided HTTP method")
            response.headers.append(("Allow", "GET"))
            return response
        }
        guard isAuthorized(request) else {
            return limited(Self.error(401, "Invalid token provided"), budget(spend: false))
        }
        let spent = budget(spend: true)
        guard spent.granted else { return limited(Self.error(429, Self.rateLimitSummary), spent) }
        do throws(BadRequest) {
            let query = try OktaQuery(request, now: RFC3339.milliseconds(now()))
            return limited(page(query, request), spent)
        } catch {
            // The message is `name: why`; Okta's summary names the parameter only.
            let name = error.message.prefix { $0 != ":" }
            return limited(Self.error(400, "Api validation failed: \(name)", causes: [error.message]), spent)
        }
    }

    /// `SSWS <token>` (Okta API tokens) or `Bearer <token>` (OAuth access tokens).
    private func isAuthorized(_ request: RecordedRequest) -> Bool {
        guard let auth = request.authorization, auth.scheme == "ssws" || auth.scheme == "bearer" else { return false }
        return auth.credentials == token
    }

    /// The window's budget after this request; a refill when the window has ended.
    private func budget(spend: Bool) -> RateBudget {
        let second = Int64(now().timeIntervalSince1970.rounded(.down))
        return state.withLockedValue { state -> RateBudget in
            if second >= state.resetAt {
                state.remaining = rateLimit
                state.resetAt = second + 60
            }
            guard spend else { return RateBudget(granted: true, remaining: state.remaining, resetAt: state.resetAt) }
            guard state.remaining > 0 else {
                state.rateLimited += 1
                return RateBudget(granted: false, remaining: 0, resetAt: state.resetAt)
            }
            state.remaining -= 1
            return RateBudget(granted: true, remaining: state.remaining, resetAt: state.resetAt)
        }
    }

    private func limited(_ response: EmulatorResponse, _ budget: RateBudget) -> EmulatorResponse {
        var response = response
        response.headers.append(("X-Rate-Limit-Limit", String(rateLimit)))
        response.headers.append(("X-Rate-Limit-Remaining", String(budget.remaining)))
        response.headers.append(("X-Rate-Limit-Reset", String(budget.resetAt)))
        return response
    }

    /// A JSON array and its `Link` headers, one header per link as Okta sends them. A polling
    /// query (no `until`, ascending) always gets a `next` link, even on an empty page: it is
    /// where to ask again later. Otherwise `next` appears only while matching events remain.
    private func page(_ query: OktaQuery, _ request: RecordedRequest) -> EmulatorResponse {
        let (events, more) = state.withLockedValue { $0.store.page(query) }
        var response = EmulatorResponse.json("[" + events.map(\.json).joined(separator: ",") + "]")
        let base = server.baseURL?.absoluteString ?? ""
        response.headers.append(("Link", "<\(base)\(request.path)>; rel=\"self\""))
        guard more || query.isPolling else { return response }
        // After the last event served; an empty page keeps the position it was asked from.
        let position = events.last.map { OktaCursor(time: $0.orderTime, id: $0.orderID) } ?? query.after
        var items = request.queryItems.filter { $0.name != "after" }
        if let position { items.append((name: "after", value: position.text)) }
        let target = Self.logsPath + (items.isEmpty ? "" : "?" + QueryString.encode(items))
        response.headers.append(("Link", "<\(base)\(target)>; rel=\"next\""))
        return response
    }

    /// Okta's error shape; `errorCode` follows the status.
    static func error(_ status: Int, _ summary: String, causes: [String] = []) -> EmulatorResponse {
        let code =
            switch status {
            case 400: "E0000001"
            case 401: "E0000011"
            case 403: "E0000006"
            case 404: "E0000007"
            case 405: "E0000022"
            case 429: "E0000047"
            default: "E0000009"
            }
        var out = #"{"errorCode":"# + JSONText.quote(code)
        out += #","errorSummary":"# + JSONText.quote(summary)
        out += #","errorLink":"# + JSONText.quote(code)
        out += #","errorId":"# + JSONText.quote(errorID())
        out += #","errorCauses":["# + causes.map { #"{"errorSummary":"# + JSONText.quote($0) + "}" }.joined(separator: ",")
        return .json(out + "]}", status: status)
    }

    /// `oae` and 19 random letters and digits, like Okta's request-scoped error ids.
    private static func errorID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return "oae" + String((0..<19).map { _ in alphabet.randomElement()! })
    }
}

/// What one request leaves of the window's budget: the `X-Rate-Limit-*` values.
private struct RateBudget {
    var granted: Bool
    var remaining: Int
    /// Epoch seconds.
    var resetAt: Int64
}

/// One `GET /api/v1/logs`, parsed. Times are milliseconds.
struct OktaQuery {
    /// Inclusive.
    var since: Int64
    /// Exclusive; nil: open (a polling query when ascending).
    var until: Int64?
    var limit = OktaEmulator.defaultLimit
    var descending = false
    var after: OktaCursor?
    var filter: OktaFilter?
    /// Lowercased `q` keywords; every one must occur in the event.
    var keywords: [String] = []

    var isPolling: Bool { until == nil && !descending }

    /// `now`: the default `since` is seven days before it. Errors read `name: why`.
    init(_ request: RecordedRequest, now: Int64) throws(BadRequest) {
        since = try request.query("since").map { text throws(BadRequest) in try Self.time(text, "since") } ?? now - 7 * 86_400_000
        until = try request.query("until").map { text throws(BadRequest) in try Self.time(text, "until") }
        if let until, until < since { throw BadRequest(message: "until: must not be before since") }
        if let text = request.query("limit") {
            guard let value = Int(text), (1...OktaEmulator.maximumLimit).contains(value) else {
                throw BadRequest(message: "limit: must be an integer between 1 and \(OktaEmulator.maximumLimit)")
            }
            limit = value
        }
        switch request.query("sortOrder") {
        case nil, "ASCENDING": descending = false
        case "DESCENDING": descending = true
        default: throw BadRequest(message: "sortOrder: must be ASCENDING or DESCENDING")
        }
        after = try request.query("after").map { text throws(BadRequest) in try OktaCursor(text) }
        if let text = request.query("filter"), !text.isEmpty { filter = try OktaFilter(text) }
        keywords = (request.query("q") ?? "").lowercased().split(separator: " ").map(String.init)
    }

    /// RFC 3339 (any offset or fraction), rounded up to the millisecond so `since` stays
    /// inclusive and `until` exclusive of exactly the events a finer bound means.
    private static func time(_ text: String, _ name: String) throws(BadRequest) -> Int64 {
        guard let parsed = RFC3339.parseExact(text) else {
            throw BadRequest(message: "\(name): '\(text)' is not an ISO 8601 compliant timestamp")
        }
        return parsed.seconds * 1000 + (parsed.nanoseconds + 999_999) / 1_000_000
    }

    func matches(_ event: OktaLogEvent) -> Bool {
        if let filter, !filter.matches(event) { return false }
        guard !keywords.isEmpty else { return true }
        let fields = event.searchable.map { $0.lowercased() }
        return keywords.allSatisfy { keyword in fields.contains { $0.contains(keyword) } }
    }
}

/// The opaque `after`: the (published, uuid) of the last event served, base64url.
struct OktaCursor {
    var time: Int64
    var id: String

    init(time: Int64, id: String) {
        self.time = time
        self.id = id
    }

    init(_ text: String) throws(BadRequest) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8),
            let colon = plain.firstIndex(of: ":"), let time = Int64(plain[..<colon])
        else { throw BadRequest(message: "after: not a cursor this server issued") }
        self.time = time
        self.id = String(plain[plain.index(after: colon)...])
    }

    var text: String {
        Data("\(time):\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether `stored` comes after this position in ascending (published, uuid) order.
    func isBefore(_ stored: StoredOktaEvent) -> Bool {
        stored.orderTime > time || (stored.orderTime == time && stored.orderID > id)
    }
}

/// The subset of Okta's SCIM-style `filter` served here: `field op "value"` clauses, `op`
/// one of `eq`, `sw`, `co`, joined all by `and` or all by `or` (no parentheses). Anything
/// else is a 400, so a client never mistakes an ignored filter for an applied one.
struct OktaFilter {
    struct Clause {
        var field: String
        var op: String
        var value: String
    }

    var clauses: [Clause] = []
    /// Joined by `or` rather than `and`.
    var matchAny = false

    init(_ text: String) throws(BadRequest) {
        let invalid = BadRequest(message: "filter: unsupported or malformed expression")
        var tokens: [(text: String, quoted: Bool)] = []
        var rest = Substring(text)
        while let first = rest.first {
            if first == " " {
                rest = rest.dropFirst()
            } else if first == "\"" {
                var value = ""
                rest = rest.dropFirst()
                var closed = false
                while let c = rest.popFirst() {
                    if c == "\\", let escaped = rest.popFirst() { value.append(escaped); continue }
                    if c == "\"" { closed = true; break }
                    value.append(c)
                }
                guard closed else { throw invalid }
                tokens.append((text: value, quoted: true))
            } else {
                let word = rest.prefix { $0 != " " && $0 != "\"" }
                rest = rest.dropFirst(word.count)
                tokens.append((text: String(word), quoted: false))
            }
        }
        guard tokens.count % 4 == 3 else { throw invalid }
        // A field is known when an event can answer it.
        let sample = OktaLogEvent(uuid: "", published: Date(timeIntervalSince1970: 0))
        for start in stride(from: 0, to: tokens.count, by: 4) {
            let (field, op, value) = (tokens[start], tokens[start + 1], tokens[start + 2])
            guard !field.quoted, sample.values(of: field.text) != nil, !op.quoted,
                ["eq", "sw", "co"].contains(op.text.lowercased()), value.quoted
            else { throw invalid }
            clauses.append(Clause(field: field.text, op: op.text.lowercased(), value: value.text))
            if start + 3 < tokens.count {
                let joiner = tokens[start + 3]
                guard !joiner.quoted, ["and", "or"].contains(joiner.text.lowercased()) else { throw invalid }
                let isOr = joiner.text.lowercased() == "or"
                guard start == 0 || isOr == matchAny else { throw invalid }
                matchAny = isOr
            }
        }
    }

    func matches(_ event: OktaLogEvent) -> Bool {
        func holds(_ clause: Clause) -> Bool {
            (event.values(of: clause.field) ?? []).contains { value in
                switch clause.op {
                case "sw": value.hasPrefix(clause.value)
                case "co": value.contains(clause.value)
                default: value == clause.value
                }
            }
        }
        return matchAny ? clauses.contains(where: holds) : clauses.allSatisfy(holds)
    }
}

extension TimeOrderedStore where Entry == StoredOktaEvent {
    /// Up to `limit` matching events of the window past the cursor, in the query's order,
    /// and whether more matching events follow. Keyed on (published, uuid), so an event
    /// inserted behind the cursor is not seen, as with Okta.
    func page(_ query: OktaQuery) -> (events: [StoredOktaEvent], more: Bool) {
        let window = window(from: query.since, to: query.until)
        var events: [StoredOktaEvent] = []
        var more = false
        /// False once the page is full and one more match was seen.
        func visit(_ stored: StoredOktaEvent) -> Bool {
            guard query.matches(stored.event) else { return true }
            guard events.count < query.limit else {
                more = true
                return false
            }
            events.append(stored)
            return true
        }
        if query.descending {
            // Strictly before the cursor: up to the first event at or after it.
            var end = window.endIndex
            if let cursor = query.after {
                end = window.partitioningIndex { cursor.isBefore($0) || ($0.orderTime == cursor.time && $0.orderID == cursor.id) }
            }
            for stored in window[..<end].reversed() {
                if !visit(stored) { break }
            }
        } else {
            var start = window.startIndex
            if let cursor = query.after { start = window.partitioningIndex { cursor.isBefore($0) } }
            for stored in window[start...] {
                if !visit(stored) { break }
            }
        }
        return (events, more)
    }
}
