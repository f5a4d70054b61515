import Foundation

/// What a request asks for, whatever its pagination style.
struct PageParameters {
    /// Whole seconds, inclusive.
    var since: Int64?
    /// Whole seconds, exclusive.
    var until: Int64?
    var perPage = PagedJSONEmulator.defaultPerPage
    /// The last item already served, for the keyset styles.
    var cursor: PageCursor?
    /// 1-based, for `/page-number`.
    var page = 1
    /// For `/offset`.
    var offset = 0
}

/// The body of `POST /search`.
private struct SearchBody: Decodable {
    var since: String?
    var until: String?
    var cursor: String?
    var perPage: Int?
}

extension PagedJSONEmulator {
    static let defaultPerPage = 10
    /// A larger `per_page` is quietly lowered to this, as many APIs do.
    static let maximumPerPage = 100
    static let routes = [
        "/next-link": "GET", "/link-header": "GET", "/page-number": "GET", "/offset": "GET",
        "/cursor": "GET", "/newest": "GET", "/search": "POST",
    ]

    /// Checks run in this order: fault, route (404), method (405), API key (401),
    /// parameters (400), then the page.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        await faults.answer(error: Self.error) { self.route(request) }
    }

    private func route(_ request: RecordedRequest) -> EmulatorResponse {
        let path = request.pathWithoutQuery
        guard let method = Self.routes[path] else { return Self.error(404, "not found") }
        guard request.method == method else {
            var response = Self.error(405, "method not allowed")
            response.headers.append(("Allow", method))
            return response
        }
        guard request.header("X-API-Key") == apiKey else { return Self.error(401, "invalid API key") }
        do throws(BadRequest) {
            let parameters = try path == "/search" ? Self.parameters(body: request) : Self.parameters(query: request)
            return page(path, parameters, request)
        } catch {
            return Self.error(400, error.message)
        }
    }

    private static func parameters(query request: RecordedRequest) throws(BadRequest) -> PageParameters {
        var parameters = PageParameters()
        parameters.since = try request.query("since").map { text throws(BadRequest) in try time(text, "since") }
        parameters.until = try request.query("until").map { text throws(BadRequest) in try time(text, "until") }
        parameters.perPage = try perPage(request.query("per_page"))
        parameters.cursor = try request.query("cursor").flatMap { text throws(BadRequest) in try PageCursor(text) }
        if let text = request.query("page") {
            guard let page = Int(text), page >= 1 else { throw BadRequest(message: "page must be a positive integer") }
            parameters.page = page
        }
        if let text = request.query("offset") {
            guard let offset = Int(text), offset >= 0 else { throw BadRequest(message: "offset must be a non-negative integer") }
            parameters.offset = offset
        }
        return parameters
    }

    /// `POST /search`: the window and cursor in the body, `per_page` in the body or the URL.
    private static func parameters(body request: RecordedRequest) throws(BadRequest) -> PageParameters {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let body = try? decoder.decode(SearchBody.self, from: request.body) else {
            throw BadRequest(message: "invalid JSON body")
        }
        var parameters = PageParameters()
        parameters.since = try body.since.map { text throws(BadRequest) in try time(text, "since") }
        parameters.until = try body.until.map { text throws(BadRequest) in try time(text, "until") }
        parameters.perPage = try perPage(body.perPage.map(String.init) ?? request.query("per_page"))
        parameters.cursor = try body.cursor.flatMap { text throws(BadRequest) in try PageCursor(text) }
        return parameters
    }

    /// RFC 3339 rounded up to the whole second: items carry whole seconds, so `since` stays
    /// inclusive and `until` exclusive of exactly the items a fractional bound means.
    private static func time(_ text: String, _ name: String) throws(BadRequest) -> Int64 {
        guard let parsed = RFC3339.parseExact(text) else { throw BadRequest(message: "\(name) must be an RFC 3339 timestamp") }
        return parsed.seconds + (parsed.nanoseconds > 0 ? 1 : 0)
    }

    private static func perPage(_ text: String?) throws(BadRequest) -> Int {
        guard let text else { return defaultPerPage }
        guard let value = Int(text), value >= 1 else { throw BadRequest(message: "per_page must be a positive integer") }
        return min(value, maximumPerPage)
    }

    /// `{"error": …}`.
    static func error(_ status: Int, _ message: String) -> EmulatorResponse {
        .json(#"{"error":"# + JSONText.quote(message) + "}", status: status)
    }
}

/// An opaque keyset cursor: the (time, uuid) of the last item served, base64url-encoded.
struct PageCursor {
    var time: Int64
    var id: String

    init(time: Int64, id: String) {
        self.time = time
        self.id = id
    }

    /// nil for the empty string (no cursor: start over); throws for anything unreadable.
    init?(_ text: String) throws(BadRequest) {
        guard !text.isEmpty else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8),
            let colon = plain.firstIndex(of: ":"), let time = Int64(plain[..<colon])
        else { throw BadRequest(message: "invalid cursor") }
        self.time = time
        self.id = String(plain[plain.index(after: colon)...])
    }

    var text: String {
        Data("\(time):\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
