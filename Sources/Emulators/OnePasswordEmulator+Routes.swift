import Foundation

extension OnePasswordEmulator {
    static let introspectPath = "/api/v2/auth/introspect"
    static let defaultLimit = 100
    static let maximumLimit = 1000
    /// The keys of a ResetCursor body; anything else is a 400, so a misspelt key is caught.
    static let resetKeys: Set<String> = ["limit", "start_time", "end_time"]

    /// Checks run in this order: fault, route (404), method (405), authentication (401),
    /// feature (403), body (400), then the page.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        await faults.answer(error: Self.error) { self.route(request) }
    }

    private func route(_ request: RecordedRequest) -> EmulatorResponse {
        let path = request.pathWithoutQuery
        let stream = OnePasswordFeature.allCases.first { $0.path == path }
        guard stream != nil || path == Self.introspectPath else { return Self.error(404, "Not Found") }
        let method = stream == nil ? "GET" : "POST"
        guard request.method == method else {
            var response = Self.error(405, "Method Not Allowed")
            response.headers.append(("Allow", method))
            return response
        }
        guard request.authorization?.scheme == "bearer", request.authorization?.credentials == token else {
            return Self.error(401, "Unauthorized")
        }
        guard let feature = stream else { return introspect() }
        guard features.contains(feature) else { return Self.error(403, "Forbidden") }
        do throws(BadRequest) {
            return page(try Self.cursor(body: request.body, feature: feature))
        } catch {
            return Self.error(400, error.message)
        }
    }

    private func introspect() -> EmulatorResponse {
        let granted = OnePasswordFeature.allCases.filter { features.contains($0) }.map { JSONText.quote($0.rawValue) }
        var out = #"{"uuid":"# + JSONText.quote(tokenUUID)
        out += #","issued_at":"# + JSONText.quote(issuedAt)
        out += #","features":["# + granted.joined(separator: ",")
        out += #"],"account_uuid":"# + JSONText.quote(accountUUID) + "}"
        return .json(out)
    }

    /// Up to `limit` items strictly after the cursor's position and before its end, oldest
    /// first. The returned cursor stands on the last item served (or where it stood when none
    /// was), so once caught up (`has_more: false`) it serves what arrives later.
    private func page(_ cursor: OnePasswordCursor) -> EmulatorResponse {
        let (items, next, more) = state.withLockedValue { state -> ([String], OnePasswordCursor, Bool) in
            guard let store = state.stores[cursor.feature] else { return ([], cursor, false) }
            let window = store.window(from: nil, to: cursor.end)
            let start = window.partitioningIndex {
                $0.orderTime > cursor.time || ($0.orderTime == cursor.time && $0.orderID > cursor.id)
            }
            let end = min(window.endIndex, start + cursor.limit)
            var next = cursor
            if let last = window[start..<end].last {
                next.time = last.orderTime
                next.id = last.orderID
            }
            return (window[start..<end].map(\.json), next, end < window.endIndex)
        }
        var out = #"{"cursor":"# + JSONText.quote(next.text)
        out += #","has_more":"# + (more ? "true" : "false")
        return .json(out + #","items":["# + items.joined(separator: ",") + "]}")
    }

    /// A ResetCursor body, or a continuing `{"cursor": …}` that must come alone. JSON nulls
    /// count as absent, as a Go server decoding into pointers reads them.
    static func cursor(body: Data, feature: OnePasswordFeature) throws(BadRequest) -> OnePasswordCursor {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw BadRequest(message: "request body must be a JSON object")
        }
        let given = object.filter { !($0.value is NSNull) }
        if let value = given["cursor"] {
            guard given.count == 1 else { throw BadRequest(message: "cursor must be sent alone") }
            guard let text = value as? String, let cursor = OnePasswordCursor(text: text), cursor.feature == feature else {
                throw BadRequest(message: "invalid cursor")
            }
            return cursor
        }
        if let unknown = given.keys.sorted().first(where: { !resetKeys.contains($0) }) {
            throw BadRequest(message: "unknown field \(unknown)")
        }
        var limit = defaultLimit
        if let value = given["limit"] {
            guard let number = JSONKind.number(value), number == number.rounded(),
                number >= 1, number <= Double(maximumLimit)
            else { throw BadRequest(message: "limit must be an integer between 1 and \(maximumLimit)") }
            limit = Int(number)
        }
        let start = try given["start_time"].map { value throws(BadRequest) in try time(value, "start_time") }
        let end = try given["end_time"].map { value throws(BadRequest) in try time(value, "end_time") }
        if let start, let end, end < start {
            throw BadRequest(message: "end_time must not be before start_time")
        }
        // Just before `start`: every item at `start` has a non-empty uuid, so sorts after "".
        return OnePasswordCursor(feature: feature, limit: limit, end: end, time: start ?? Int64.min, id: "")
    }

    /// RFC 3339 with any offset and fraction, in milliseconds rounded up, so a sub-millisecond
    /// bound keeps `start_time` inclusive and `end_time` exclusive of exactly the right items.
    private static func time(_ value: Any, _ name: String) throws(BadRequest) -> Int64 {
        guard let text = value as? String, let parsed = RFC3339.parseExact(text) else {
            throw BadRequest(message: "\(name) must be an RFC 3339 timestamp")
        }
        return parsed.seconds * 1000 + parsed.nanoseconds / 1_000_000 + (parsed.nanoseconds % 1_000_000 > 0 ? 1 : 0)
    }

    /// 1Password's shape: `{"Error":{"Message":…}}`.
    static func error(_ status: Int, _ message: String) -> EmulatorResponse {
        .json(#"{"Error":{"Message":"# + JSONText.quote(message) + "}}", status: status)
    }
}

/// Where a reader of one stream stands: strictly after (`time`, `id`), up to `end`
/// (exclusive, milliseconds) when the reset gave one, `limit` items a page.
struct OnePasswordCursor: Equatable {
    var feature: OnePasswordFeature
    var limit: Int
    var end: Int64?
    /// Milliseconds; `Int64.min` before everything.
    var time: Int64
    var id: String

    init(feature: OnePasswordFeature, limit: Int, end: Int64?, time: Int64, id: String) {
        self.feature = feature
        self.limit = limit
        self.end = end
        self.time = time
        self.id = id
    }

    /// Opaque to clients: base64url of `feature|limit|end|time|id`.
    var text: String {
        let plain = [feature.rawValue, String(limit), end.map(String.init) ?? "", String(time), id].joined(separator: "|")
        return Data(plain.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// nil for anything this emulator did not write.
    init?(text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8) else { return nil }
        let parts = plain.split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, let feature = OnePasswordFeature(rawValue: parts[0]), let limit = Int(parts[1]),
            (1...OnePasswordEmulator.maximumLimit).contains(limit), let time = Int64(parts[3])
        else { return nil }
        var end: Int64?
        if !parts[2].isEmpty {
            guard let value = Int64(parts[2]) else { return nil }
            end = value
        }
        self.init(feature: feature, limit: limit, end: end, time: time, id: parts[4])
    }
}
