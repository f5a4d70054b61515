import Foundation

extension SlackAuditEmulator {
    static let logsPath = "/audit/v1/logs"
    static let defaultLimit = 100
    static let maximumLimit = 9999

    /// Checks run in this order: fault, route (404), method (405), authentication (401),
    /// parameters (400), then the page.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        await faults.answer(error: Self.faultError) { self.route(request) }
    }

    private func route(_ request: RecordedRequest) -> EmulatorResponse {
        guard request.pathWithoutQuery == Self.logsPath else { return Self.error(404, "unknown_method") }
        guard request.method == "GET" else {
            var response = Self.error(405, "method_not_allowed")
            response.headers.append(("Allow", "GET"))
            return response
        }
        guard request.authorization?.scheme == "bearer", request.authorization?.credentials == token else {
            return Self.error(401, "invalid_auth")
        }
        do throws(BadRequest) {
            return page(try SlackQuery(request))
        } catch {
            return Self.error(400, error.message)
        }
    }

    /// `{"entries": [...], "response_metadata": {"next_cursor": …}}`, `""` on the last page.
    private func page(_ query: SlackQuery) -> EmulatorResponse {
        let (entries, next) = store.withLockedValue { $0.page(query) }
        var out = #"{"entries":["# + entries.map(\.json).joined(separator: ",")
        out += #"],"response_metadata":{"next_cursor":"# + JSONText.quote(next?.text ?? "") + "}}"
        return .json(out)
    }

    /// `{"ok": false, "error": <code>}`: Slack names errors by code, not by sentence.
    static func error(_ status: Int, _ code: String) -> EmulatorResponse {
        .json(#"{"ok":false,"error":"# + JSONText.quote(code) + "}", status: status)
    }

    /// A `.status` fault without a body gets Slack's code for its status; an
    /// `.errorEnvelope` keeps its message as the code.
    static func faultError(_ status: Int, _ message: String) -> EmulatorResponse {
        guard message == FaultInjector.reason(status) else { return error(status, message) }
        let code =
            switch status {
            case 429: "ratelimited"
            case 503: "service_unavailable"
            case 500...: "internal_error"
            default: "request_failed"
            }
        return error(status, code)
    }
}

/// One `GET /audit/v1/logs`, parsed. Errors carry Slack's error code.
struct SlackQuery {
    /// Unix seconds, both inclusive.
    var oldest: Int64?
    var latest: Int64?
    var limit = SlackAuditEmulator.defaultLimit
    /// Empty: any action. `action` may list several, comma-separated, each matched exactly.
    var actions: Set<String> = []
    var actor: String?
    var entity: String?
    var cursor: SlackCursor?

    init(_ request: RecordedRequest) throws(BadRequest) {
        oldest = try request.query("oldest").map { text throws(BadRequest) in try Self.seconds(text) }
        latest = try request.query("latest").map { text throws(BadRequest) in try Self.seconds(text) }
        if let text = request.query("limit") {
            guard let value = Int(text), (1...SlackAuditEmulator.maximumLimit).contains(value) else {
                throw BadRequest(message: "invalid_arguments")
            }
            limit = value
        }
        actions = Set((request.query("action") ?? "").split(separator: ",").map(String.init))
        actor = request.query("actor").flatMap { $0.isEmpty ? nil : $0 }
        entity = request.query("entity").flatMap { $0.isEmpty ? nil : $0 }
        if let text = request.query("cursor"), !text.isEmpty { cursor = try SlackCursor(text) }
    }

    private static func seconds(_ text: String) throws(BadRequest) -> Int64 {
        guard let value = Int64(text), value >= 0 else { throw BadRequest(message: "invalid_arguments") }
        return value
    }

    func matches(_ entry: SlackAuditEntry) -> Bool {
        (actions.isEmpty || actions.contains(entry.action))
            && (actor == nil || actor == entry.actor.id)
            && (entity == nil || entity == entry.entity.id)
    }
}

/// The opaque `cursor`: the (date_create, id) of the last entry served, in standard base64
/// (with `+`, `/` and `=`, as Slack's are: a client must percent-encode it).
struct SlackCursor {
    var time: Int64
    var id: String

    init(time: Int64, id: String) {
        self.time = time
        self.id = id
    }

    init(_ text: String) throws(BadRequest) {
        guard let data = Data(base64Encoded: text), let plain = String(data: data, encoding: .utf8),
            let colon = plain.firstIndex(of: ":"), let time = Int64(plain[..<colon])
        else { throw BadRequest(message: "invalid_cursor") }
        self.time = time
        self.id = String(plain[plain.index(after: colon)...])
    }

    var text: String { Data("\(time):\(id)".utf8).base64EncodedString() }
}

extension TimeOrderedStore where Entry == StoredSlackEntry {
    /// Up to `limit` matching entries of the window older than the cursor, newest first
    /// (ties in time by id, descending), and the cursor of the last one when more match.
    func page(_ query: SlackQuery) -> (entries: [StoredSlackEntry], next: SlackCursor?) {
        // `latest` is inclusive: the store's upper bound is exclusive.
        let window = window(from: query.oldest, to: query.latest.map { $0 == .max ? $0 : $0 + 1 })
        var end = window.endIndex
        if let cursor = query.cursor {
            // Strictly older than the cursor: up to the first entry at or after it.
            end = window.partitioningIndex { $0.orderTime > cursor.time || ($0.orderTime == cursor.time && $0.orderID >= cursor.id) }
        }
        var entries: [StoredSlackEntry] = []
        for stored in window[..<end].reversed() where query.matches(stored.entry) {
            guard entries.count < query.limit else {
                return (entries, entries.last.map { SlackCursor(time: $0.orderTime, id: $0.orderID) })
            }
            entries.append(stored)
        }
        return (entries, nil)
    }
}
