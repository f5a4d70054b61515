import Foundation

extension DatadogLogsEmulator {
    /// Order: fault, route, API key, content type, content encoding, size, JSON shape, entry
    /// count; then each entry is dropped (stale), truncated (> 1 MB) or kept as is.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        if let fault = await faults.intercept() {
            if case .errorEnvelope(let message) = fault { return Self.error(500, message) }
            if let response = EmulatorResponse.forFault(fault, statusBody: { Self.error($0, "injected fault") }) { return response }
        }

        guard request.method == "POST", request.pathWithoutQuery == "/api/v2/logs" else {
            return Self.error(404, "no such route")
        }
        guard request.header("DD-API-KEY") == apiKey else { return Self.error(403, "API key is invalid") }
        guard request.mediaType == "application/json" else {
            return Self.error(400, "Content-Type must be application/json")
        }
        let body: Data
        switch request.decodedBody(accepting: ["gzip", "deflate"], limit: Self.maxPayloadBytes) {
        case .success(let data): body = data
        case .failure(.tooLarge): return Self.error(413, "payload exceeds \(Self.maxPayloadBytes) bytes uncompressed")
        case .failure(.unsupported(let coding)): return Self.error(415, "unsupported Content-Encoding \(coding)")
        case .failure(.corrupt): return Self.error(400, "body does not decode as its Content-Encoding")
        }

        let entries: [[String: Any]]
        switch (try? JSONSerialization.jsonObject(with: body)) {
        case let object as [String: Any]:
            entries = [object]
        case let array as [Any]:
            let objects = array.compactMap { $0 as? [String: Any] }
            guard objects.count == array.count else { return Self.error(400, "every log entry must be a JSON object") }
            entries = objects
        default:
            return Self.error(400, "body must be a JSON array of log entries or one entry")
        }
        guard entries.count <= Self.maxEntries else {
            return Self.error(400, "\(entries.count) entries in one array; at most \(Self.maxEntries)")
        }

        let cutoff = Date().timeIntervalSince1970 - Double(Self.maxAge.components.seconds)
        var kept: [Data] = []
        var stale: [Data] = []
        var truncated = 0
        for entry in entries {
            if let oldest = DatadogReservedDates.oldest(in: entry), oldest < cutoff {
                stale.append(Self.serialize(entry))
                continue
            }
            let text = Self.serialize(entry)
            if text.count > Self.maxEntryBytes {
                kept.append(Self.truncated(entry))
                truncated += 1
            } else {
                kept.append(text)
            }
        }
        state.withLockedValue {
            $0.accepted += kept
            $0.stale += stale
            $0.truncated += truncated
        }
        return .json("{}", status: 202)
    }

    /// `{"errors":[{"status","title","detail"}]}`.
    static func error(_ status: Int, _ detail: String) -> EmulatorResponse {
        let title =
            switch status {
            case 400: "Bad Request"
            case 403: "Forbidden"
            case 404: "Not Found"
            case 413: "Request Entity Too Large"
            case 415: "Unsupported Media Type"
            case 429: "Too Many Requests"
            case 503: "Service Unavailable"
            default: "Internal Server Error"
            }
        let item = #"{"status":"\#(status)","title":"\#(title)","detail":"# + JSONText.quote(detail) + "}"
        return .json(#"{"errors":["# + item + "]}", status: status)
    }

    private static func serialize(_ entry: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    /// Shortens `message` until the entry fits, as Datadog truncates oversized logs. An entry
    /// whose bulk is elsewhere stays as is (still counted as truncated).
    private static func truncated(_ entry: [String: Any]) -> Data {
        var entry = entry
        var text = serialize(entry)
        while text.count > maxEntryBytes, let message = entry["message"] as? String, !message.isEmpty {
            // Escaping can make the JSON longer than the string: shrink by the overshoot, plus a bit.
            let keep = max(0, message.utf8.count - (text.count - maxEntryBytes) - 16)
            var bytes = Array(message.utf8.prefix(keep))
            // Never cut inside a UTF-8 sequence: drop continuation bytes, then their lead byte.
            while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }
            if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
            entry["message"] = String(decoding: bytes, as: UTF8.self)
            text = serialize(entry)
        }
        return text
    }
}
