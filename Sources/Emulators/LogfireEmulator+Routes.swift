import Foundation

extension LogfireEmulator {
    static let listPath = "/api/v1/audit-logs/"
    static let actions = ["LOGIN", "LOGOUT", "INSERT", "UPDATE", "DELETE"]
    /// A longer window is a 400: clients must split long ranges.
    static let maximumWindowSeconds: Int64 = 90 * 86_400

    /// Checks run in this order: fault, route (404, FastAPI's `Not Found`), method (405),
    /// authentication (401), organization access (403), parameters (400), then the query.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        await faults.answer(error: Self.error) { self.route(request) }
    }

    private func route(_ request: RecordedRequest) -> EmulatorResponse {
        let path = request.pathWithoutQuery
        guard path.hasPrefix(Self.listPath) else { return Self.error(404, "Not Found") }
        // "" is the list; "{id}/" a record; "{id}" without its slash is no route at all.
        let rest = path.dropFirst(Self.listPath.count)
        var id: String?
        if !rest.isEmpty {
            let name = rest.dropLast()
            guard rest.hasSuffix("/"), !name.isEmpty, !name.contains("/") else { return Self.error(404, "Not Found") }
            id = String(name).removingPercentEncoding ?? String(name)
        }
        guard request.method == "GET" else {
            var response = Self.error(405, "Method Not Allowed")
            response.headers.append(("Allow", "GET"))
            return response
        }
        guard request.authorization?.scheme == "bearer", request.authorization?.credentials == token else {
            var response = Self.error(401, "Invalid token")
            response.headers.append(("WWW-Authenticate", "Bearer"))
            return response
        }
        guard !state.withLockedValue(\.forbidden) else {
            return Self.error(403, "token lacks access to the organization")
        }
        if let id { return record(id) }
        return list(request)
    }

    private func list(_ request: RecordedRequest) -> EmulatorResponse {
        guard let startText = request.query("start_time") else {
            return Self.error(400, "start_time is required")
        }
        guard let start = Self.strictTime(startText) else { return Self.formatError("start_time") }
        var end: Int64?
        if let endText = request.query("end_time") {
            guard let value = Self.strictTime(endText) else { return Self.formatError("end_time") }
            end = value
        }
        let action = request.query("action")
        if let action, !Self.actions.contains(action) {
            return Self.error(400, "action must be one of " + Self.actions.joined(separator: ", "))
        }

        let now = RFC3339.microseconds(self.now())
        let upper = end.map { $0 * 1_000_000 } ?? now
        let tooLong = upper - start * 1_000_000 > Self.maximumWindowSeconds * 1_000_000
        let entries = state.withLockedValue { state -> [LogfireEntry]? in
            state.windows.append((Date(timeIntervalSince1970: Double(start)), end.map { Date(timeIntervalSince1970: Double($0)) }))
            if tooLong {
                state.refusedLongWindows += 1
                return nil
            }
            return state.store.window(from: start * 1_000_000, to: upper).reversed().map(\.entry).filter {
                $0.organizationName == organization && (action == nil || $0.action == action)
            }
        }
        guard let entries else { return Self.error(400, "time window must not exceed 90 days") }
        if let end, end < start { return Self.error(400, "end_time must not be before start_time") }
        return .json("[" + entries.map { $0.json(detail: false) }.joined(separator: ",") + "]")
    }

    private func record(_ id: String) -> EmulatorResponse {
        let found = state.withLockedValue { state in
            state.store.entries.first { $0.entry.id == id && $0.entry.organizationName == organization }?.entry
        }
        guard let found else { return Self.error(404, "Not found") }
        return .json(found.json(detail: true))
    }

    /// Exactly `YYYY-MM-DDTHH:MM:SSZ`, in whole seconds; nothing else (no fraction, no offset,
    /// no lowercase `t`/`z`).
    static func strictTime(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[10] == UInt8(ascii: "T"), bytes[19] == UInt8(ascii: "Z") else { return nil }
        return RFC3339.parseExact(text)?.seconds
    }

    private static func formatError(_ name: String) -> EmulatorResponse {
        error(400, "\(name): invalid format, expected YYYY-MM-DDTHH:MM:SSZ")
    }

    /// FastAPI's shape: `{"detail": …}`.
    static func error(_ status: Int, _ message: String) -> EmulatorResponse {
        .json(#"{"detail":"# + JSONText.quote(message) + "}", status: status)
    }
}
