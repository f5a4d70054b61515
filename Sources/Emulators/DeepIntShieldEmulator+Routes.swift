import Foundation

extension DeepIntShieldEmulator {
    /// Both prefixes serve every route, so a `next_page` on either can be followed.
    static let prefixes = ["/api/audit-logs", "/api/enterprise/audit-logs"]

    /// Checks run in this order: fault, route (404), method (405), authentication (401),
    /// parameters or body (400), then the query.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        await faults.answer(error: Self.error) { self.route(request) }
    }

    private func route(_ request: RecordedRequest) -> EmulatorResponse {
        let path = request.pathWithoutQuery
        guard let prefix = Self.prefixes.first(where: { path.hasPrefix($0) }) else {
            return Self.error(404, "not found")
        }
        let method: String
        switch path.dropFirst(prefix.count) {
        case "", "/summary", "/verify": method = "GET"
        case "/query": method = "POST"
        default: return Self.error(404, "not found")
        }
        guard request.method == method else {
            var response = Self.error(405, "method not allowed")
            response.headers.append(("Allow", method))
            return response
        }
        guard isAuthorized(request) else {
            var response = Self.error(401, "invalid or missing token")
            response.headers.append(("WWW-Authenticate", "Bearer"))
            return response
        }
        do throws(BadRequest) {
            switch path.dropFirst(prefix.count) {
            case "/query":
                let query = try Self.query(body: request.body, pageInURL: request.query("page"))
                return list(query) { page in "\(nextPagePrefix)/query?page=\(page)" }
            case "/summary":
                return summary(try Self.query(parameters: request))
            case "/verify":
                return verify(try Self.query(parameters: request))
            default:
                let query = try Self.query(parameters: request)
                // The same parameters, with the next page or offset in place of this one.
                let kept = request.queryItems.filter { $0.name != "page" && $0.name != "offset" }
                return list(query) { page in
                    var position = ("page", String(page))
                    if let offset = query.offset {
                        // The next offset follows on; a loop jumps to where its page starts.
                        position = ("offset", String(page == query.pageNumber + 1 ? offset + query.limit : (page - 1) * query.limit))
                    }
                    return "\(nextPagePrefix)?" + QueryString.encode(kept + [position])
                }
            }
        } catch {
            return Self.error(400, error.message)
        }
    }

    /// One page; `link` spells the `next_page` path for a page number.
    private func list(_ query: DeepIntShieldQuery, link: (Int) -> String) -> EmulatorResponse {
        let (result, loop) = state.withLockedValue { ($0.store.run(query), $0.loop) }
        let more = query.skipped < result.total - result.page.count
        let next: Int? = if let loop, loop.from == query.pageNumber { loop.to } else { more ? query.pageNumber + 1 : nil }
        var out = #"{"total_count":"# + String(result.total)
        out += #","returned_count":"# + String(result.page.count)
        out += #","page":"# + String(query.pageNumber)
        out += #","limit":"# + String(query.limit)
        out += #","audit_logs":["# + result.page.map { $0.json(includeDetails: query.includeDetails) }.joined(separator: ",")
        out += #"],"next_page":"# + (next.map { JSONText.quote(link($0)) } ?? "null") + "}"
        return .json(out)
    }

    /// Counts of the matching entries by event type, status and severity.
    private func summary(_ query: DeepIntShieldQuery) -> EmulatorResponse {
        let entries = state.withLockedValue { $0.store.matching(query) }
        func counts(_ field: (DeepIntShieldEntry) -> String) -> String {
            let tally = Dictionary(grouping: entries, by: field).mapValues(\.count)
            return "{" + tally.keys.sorted().map { JSONText.quote($0) + ":" + String(tally[$0]!) }.joined(separator: ",") + "}"
        }
        var out = #"{"total_count":"# + String(entries.count)
        out += #","by_event_type":"# + counts(\.eventType)
        out += #","by_status":"# + counts(\.status)
        out += #","by_severity":"# + counts(\.severity) + "}"
        return .json(out)
    }

    /// Verified when every matching entry's verification says so.
    private func verify(_ query: DeepIntShieldQuery) -> EmulatorResponse {
        let entries = state.withLockedValue { $0.store.matching(query) }
        let failed = entries.filter { !$0.verification.verified }.count
        var out = #"{"verified":"# + (failed == 0 ? "true" : "false")
        out += #","total_checked":"# + String(entries.count)
        out += #","failed_count":"# + String(failed)
        out += #","verification_method":"hash_chain"}"#
        return .json(out)
    }

    /// `Bearer <token>`, or Basic with any user and the token as password.
    private func isAuthorized(_ request: RecordedRequest) -> Bool {
        switch request.authorization?.scheme {
        case "bearer":
            return request.authorization?.credentials == token
        case "basic":
            guard let credentials = request.basicCredentials, let colon = credentials.firstIndex(of: ":") else { return false }
            return credentials[credentials.index(after: colon)...] == token
        default:
            return false
        }
    }

    /// `{"is_deepintshield_error": false, "status_code": N, "error": {"message": …}}` with HTTP status N.
    static func error(_ status: Int, _ message: String) -> EmulatorResponse {
        .json(
            #"{"is_deepintshield_error":false,"status_code":"# + String(status) + #","error":{"message":"# + JSONText.quote(message) + "}}",
            status: status)
    }
}
