import Foundation

/// Whose audit log a request reads.
enum GitHubAuditScope: Equatable {
    case enterprise(String)
    case organization(String)

    func contains(_ event: GitHubAuditEvent) -> Bool {
        switch self {
        case .enterprise(let slug): event.business.lowercased() == slug.lowercased()
        case .organization(let login): event.org?.lowercased() == login.lowercased()
        }
    }
}

/// One audit-log request: the `phrase` window and filters, `include`, `order`, the page.
struct GitHubAuditQuery {
    /// Milliseconds, inclusive.
    var from: Int64?
    /// Milliseconds, exclusive.
    var to: Int64?
    /// `action:` terms: an exact action, or a category (`action:repo` is every `repo.*`).
    var actions: [String] = []
    /// `actor:` terms.
    var actors: [String] = []
    /// `web` (no `git.*`), `git` (only `git.*`) or `all`.
    var include = "web"
    var ascending = false
    var perPage = GitHubAuditEmulator.defaultPerPage
    var after: GitHubAuditCursor?
    var before: GitHubAuditCursor?

    func matches(_ event: GitHubAuditEvent) -> Bool {
        switch include {
        case "web": if event.isGit { return false }
        case "git": if !event.isGit { return false }
        default: break
        }
        if !actions.isEmpty, !actions.contains(where: { event.action == $0 || event.action.hasPrefix($0 + ".") }) { return false }
        return actors.isEmpty || actors.contains(event.actor)
    }
}

/// An opaque keyset cursor: the (time, document id) of an event, base64url-encoded.
struct GitHubAuditCursor {
    var time: Int64
    var id: String

    init(_ stored: StoredGitHubAuditEvent) {
        self.time = stored.orderTime
        self.id = stored.orderID
    }

    init?(text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8),
            let bar = plain.firstIndex(of: "|"), let time = Int64(plain[..<bar])
        else { return nil }
        self.time = time
        self.id = String(plain[plain.index(after: bar)...])
    }

    var text: String {
        Data("\(time)|\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension GitHubAuditEmulator {
    static let defaultPerPage = 30
    /// A larger `per_page` is quietly lowered to this, as GitHub does.
    static let maximumPerPage = 100
    static let apiVersions: Set<String> = ["2022-11-28"]
    static let documentationURL = "https://docs.github.com/rest"

    /// Checks run in this order: fault, authentication (401), rate limit (403/429), route
    /// (404), API version (400), enterprise or organization (404), parameters (422), then the
    /// page. Every answer but a fault's carries the rate-limit headers; authenticated
    /// requests spend the budget.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        await faults.answer(error: Self.error) { self.route(request) }
    }

    private func route(_ request: RecordedRequest) -> EmulatorResponse {
        let scheme = request.authorization?.scheme
        let authorized = (scheme == "bearer" || scheme == "token") && request.authorization?.credentials == token
        let rate = countRequest(consume: authorized)
        var response = authorized ? answer(request, rate) : Self.error(401, "Bad credentials")
        response.headers.append(contentsOf: rate.headers)
        return response
    }

    private func answer(_ request: RecordedRequest, _ rate: RateWindow) -> EmulatorResponse {
        if rate.exceeded {
            var response = EmulatorResponse.json(
                #"{"message":"API rate limit exceeded for user ID 1001.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#,
                status: rate.status)
            if rate.status == 429 { response.headers.append(("Retry-After", String(max(0, rate.resetAt - rate.now)))) }
            return response
        }
        guard request.method == "GET", let requested = Self.scope(of: request.pathWithoutQuery, prefix: pathPrefix) else {
            return Self.error(404, "Not Found")
        }
        if let version = request.header("X-GitHub-Api-Version"), !Self.apiVersions.contains(version) {
            return Self.error(400, "Unsupported 'X-GitHub-Api-Version' header: \(version). The supported values are 2022-11-28.")
        }
        guard let scope = known(requested) else { return Self.error(404, "Not Found") }
        do throws(BadRequest) {
            return page(try Self.query(request), scope, request)
        } catch {
            return Self.error(422, error.message)
        }
    }

    /// `{prefix}/enterprises/{slug}/audit-log` or `{prefix}/orgs/{login}/audit-log`.
    private static func scope(of path: String, prefix: String) -> GitHubAuditScope? {
        guard path.hasPrefix(prefix) else { return nil }
        let parts = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].isEmpty, parts[3] == "audit-log", !parts[2].isEmpty else { return nil }
        let name = String(parts[2]).removingPercentEncoding ?? String(parts[2])
        switch parts[1] {
        case "enterprises": return .enterprise(name)
        case "orgs": return .organization(name)
        default: return nil
        }
    }

    /// The scope with its canonical name, or nil when this server does not hold it.
    private func known(_ scope: GitHubAuditScope) -> GitHubAuditScope? {
        switch scope {
        case .enterprise(let slug):
            return slug.lowercased() == enterprise.lowercased() ? .enterprise(enterprise) : nil
        case .organization(let login):
            return organizations.first { $0.lowercased() == login.lowercased() }.map { GitHubAuditScope.organization($0) }
        }
    }

    /// One page as a JSON array, in the requested order, with `Link` rel `next` (an `after`
    /// cursor) and rel `prev` (a `before` cursor) when events lie beyond it. Keyed on
    /// (time, document id), so an event inserted behind a cursor is not seen through it.
    private func page(_ query: GitHubAuditQuery, _ scope: GitHubAuditScope, _ request: RecordedRequest) -> EmulatorResponse {
        let (events, hasNext, hasPrevious) = state.withLockedValue { state -> ([StoredGitHubAuditEvent], Bool, Bool) in
            let window = state.store.window(from: query.from, to: query.to)
            func matches(_ i: Int) -> Bool { scope.contains(window[i].event) && query.matches(window[i].event) }
            // The order's forward direction in index steps, and the reading direction: a
            // `before` page reads backwards from its cursor, then is put back in order.
            let forward = query.ascending ? 1 : -1
            let step = query.before == nil ? forward : -forward
            let cursor = query.before ?? query.after
            var begin = step > 0 ? window.startIndex : window.endIndex - 1
            if let cursor {
                let past = window.partitioningIndex { $0.orderTime > cursor.time || ($0.orderTime == cursor.time && $0.orderID > cursor.id) }
                let reached = window.partitioningIndex { $0.orderTime > cursor.time || ($0.orderTime == cursor.time && $0.orderID >= cursor.id) }
                begin = step > 0 ? past : reached - 1
            }
            var found: [StoredGitHubAuditEvent] = []
            var i = begin
            while window.indices.contains(i), found.count < query.perPage {
                if matches(i) { found.append(window[i]) }
                i += step
            }
            var further = false
            while window.indices.contains(i), !further {
                further = matches(i)
                i += step
            }
            // Something on the other side of the cursor (the cursor's own event included)?
            var behind = false
            if cursor != nil {
                var j = begin - step
                while window.indices.contains(j), !behind {
                    behind = matches(j)
                    j -= step
                }
            }
            if query.before != nil { found.reverse() }
            return query.before == nil ? (found, further, behind) : (found, behind, further)
        }
        var response = EmulatorResponse.json("[" + events.map(\.event.json).joined(separator: ",") + "]")
        var links: [String] = []
        if hasNext, let last = events.last {
            links.append("<\(link(request, after: GitHubAuditCursor(last).text, before: ""))>; rel=\"next\"")
        }
        if hasPrevious, let first = events.first {
            links.append("<\(link(request, after: "", before: GitHubAuditCursor(first).text))>; rel=\"prev\"")
        }
        if !links.isEmpty { response.headers.append(("Link", links.joined(separator: ", "))) }
        return response
    }

    /// This request's absolute URL with `after` and `before` set, the other parameters kept
    /// (GitHub writes the empty one too: `…&after=X&before=`).
    private func link(_ request: RecordedRequest, after: String, before: String) -> String {
        let base = server.baseURL?.absoluteString ?? ""
        let kept = request.queryItems.filter { $0.name != "after" && $0.name != "before" }
        return base + request.pathWithoutQuery + "?" + QueryString.encode(kept + [("after", after), ("before", before)])
    }

    /// `{"message": …, "documentation_url": …}`.
    static func error(_ status: Int, _ message: String) -> EmulatorResponse {
        .json(#"{"message":"# + JSONText.quote(message) + #","documentation_url":"# + JSONText.quote(documentationURL) + "}", status: status)
    }
}

extension GitHubAuditEmulator {
    /// The query parameters; a value GitHub would refuse is a 422 naming it. `per_page` is
    /// lenient as on GitHub: anything but a positive integer is the default, above 100 is 100.
    /// An empty `after` or `before` is absent (the `Link` URLs carry one empty).
    static func query(_ request: RecordedRequest) throws(BadRequest) -> GitHubAuditQuery {
        var query = GitHubAuditQuery()
        // Terms are space-separated (a `+` in the URL is a space); other qualifiers and free
        // text are accepted and ignored.
        for term in (request.query("phrase") ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let colon = term.firstIndex(of: ":") else { continue }
            let value = term[term.index(after: colon)...]
            switch term[..<colon].lowercased() {
            case "created":
                let (low, high) = try created(value)
                if let low { query.from = max(query.from ?? low, low) }
                if let high { query.to = min(query.to ?? high, high) }
            case "action":
                query.actions.append(String(value))
            case "actor":
                query.actors.append(String(value))
            default:
                break
            }
        }
        func given(_ name: String) -> String? { request.query(name).flatMap { $0.isEmpty ? nil : $0 } }
        query.include = given("include") ?? "web"
        guard ["web", "git", "all"].contains(query.include) else {
            throw BadRequest(message: "include must be one of web, git, all")
        }
        switch given("order") ?? "desc" {
        case "desc": query.ascending = false
        case "asc": query.ascending = true
        default: throw BadRequest(message: "order must be asc or desc")
        }
        if let text = given("per_page"), let value = Int(text), value >= 1 {
            query.perPage = min(value, maximumPerPage)
        }
        func cursor(_ name: String) throws(BadRequest) -> GitHubAuditCursor? {
            guard let text = given(name) else { return nil }
            guard let cursor = GitHubAuditCursor(text: text) else { throw BadRequest(message: "\(name): invalid cursor") }
            return cursor
        }
        query.after = try cursor("after")
        query.before = try cursor("before")
        if query.after != nil, query.before != nil {
            throw BadRequest(message: "after and before cannot be used together")
        }
        return query
    }

    /// The window of one `created:` qualifier in milliseconds (inclusive, exclusive): `>=T`,
    /// `>T`, `<T`, `<=T`, `A..B` (inclusive, `*` open) or `T` alone. A date `YYYY-MM-DD` is its
    /// whole UTC day (`<=2026-05-01` takes all of it); a time (any offset, UTC when none)
    /// is its millisecond.
    private static func created(_ value: Substring) throws(BadRequest) -> (Int64?, Int64?) {
        let invalid = BadRequest(message: "Invalid created qualifier: created:\(value)")
        func span(_ raw: Substring) throws(BadRequest) -> (low: Int64, high: Int64) {
            let text = String(raw)
            if text.utf8.count == 10 {
                guard let day = RFC3339.parseMilliseconds(text + "T00:00:00Z") else { throw invalid }
                return (day, day + 86_400_000)
            }
            let zoned = text.dropFirst(10).contains { "Zz+-".contains($0) }
            guard let millis = RFC3339.parseMilliseconds(zoned ? text : text + "Z") else { throw invalid }
            return (millis, millis + 1)
        }
        if value.hasPrefix(">=") {
            let low = try span(value.dropFirst(2)).low
            return (low, nil)
        }
        if value.hasPrefix("<=") {
            let high = try span(value.dropFirst(2)).high
            return (nil, high)
        }
        if value.hasPrefix(">") {
            let low = try span(value.dropFirst()).high
            return (low, nil)
        }
        if value.hasPrefix("<") {
            let high = try span(value.dropFirst()).low
            return (nil, high)
        }
        if let dots = value.range(of: "..") {
            var bounds: (Int64?, Int64?) = (nil, nil)
            if value[..<dots.lowerBound] != "*" { bounds.0 = try span(value[..<dots.lowerBound]).low }
            if value[dots.upperBound...] != "*" { bounds.1 = try span(value[dots.upperBound...]).high }
            return bounds
        }
        let whole = try span(value)
        return (whole.low, whole.high)
    }
}
