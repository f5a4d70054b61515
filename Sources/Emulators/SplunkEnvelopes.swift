import Foundation

/// Reads HEC request bodies into events, stopping at the first bad envelope with its HEC code
/// and index. Channel and token are stamped by the caller.
enum SplunkEnvelopes {
    struct Parsed {
        var events: [SplunkIndexedEvent] = []
        var error: (code: Int, index: Int)?
    }

    /// `/services/collector[/event]`: JSON envelopes one after another.
    static func parse(_ body: Data, allowed indexes: [String]) -> Parsed {
        let bytes = [UInt8](body)
        var parsed = Parsed()
        var cursor = 0
        var number = 0
        while true {
            let slice: Range<Int>
            switch ConcatenatedJSON.next(in: bytes, from: &cursor) {
            case .end: return parsed
            case .malformed:
                parsed.error = (6, number)
                return parsed
            case .value(let range): slice = range
            }
            switch envelope(Data(bytes[slice]), allowed: indexes) {
            case .success(let event): parsed.events.append(event)
            case .failure(let refusal):
                parsed.error = (refusal.code, number)
                return parsed
            }
            number += 1
        }
    }

    /// `/services/collector/raw`: one event per non-blank line; metadata from the query.
    static func rawLines(_ body: Data, request: RecordedRequest, allowed indexes: [String]) -> Parsed {
        let index = request.queryValue("index")
        if let index, !isAllowed(index, indexes) { return Parsed(error: (7, 0)) }
        let time = request.queryValue("time").flatMap(Double.init)
        let lines = String(decoding: body, as: UTF8.self).split(whereSeparator: \.isNewline)
        var parsed = Parsed()
        for line in lines where !line.allSatisfy(\.isWhitespace) {
            parsed.events.append(
                SplunkIndexedEvent(
                    time: time,
                    host: request.queryValue("host"),
                    source: request.queryValue("source"),
                    sourcetype: request.queryValue("sourcetype"),
                    index: index,
                    event: JSONText.quote(String(line)),
                    fields: nil,
                    channel: nil,
                    token: ""
                ))
        }
        return parsed
    }

    private struct Refusal: Error {
        var code: Int
    }

    /// One envelope. Unparsable or mistyped metadata → 6, no `event` → 12, `event` null or
    /// "" → 13, index not allowed → 7, `fields` not flat → 15.
    private static func envelope(_ data: Data, allowed indexes: [String]) -> Result<SplunkIndexedEvent, Refusal> {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return .failure(Refusal(code: 6))
        }
        var strings: [String: String] = [:]
        for key in ["host", "source", "sourcetype", "index"] {
            guard let value = object[key] else { continue }
            guard let text = value as? String else { return .failure(Refusal(code: 6)) }
            strings[key] = text
        }
        var time: Double?
        if let value = object["time"] {
            // Epoch seconds: a number, or a string of one (HEC accepts both).
            if let text = value as? String, let seconds = Double(text) {
                time = seconds
            } else if let number = JSONKind.number(value) {
                time = number
            } else {
                return .failure(Refusal(code: 6))
            }
        }
        guard let event = object["event"] else { return .failure(Refusal(code: 12)) }
        if event is NSNull || (event as? String) == "" { return .failure(Refusal(code: 13)) }
        if let index = strings["index"], !isAllowed(index, indexes) { return .failure(Refusal(code: 7)) }
        var fields: String?
        if let value = object["fields"] {
            guard let flat = value as? [String: Any], flat.values.allSatisfy(isFlatFieldValue) else {
                return .failure(Refusal(code: 15))
            }
            fields = jsonText(flat)
        }
        return .success(
            SplunkIndexedEvent(
                time: time,
                host: strings["host"],
                source: strings["source"],
                sourcetype: strings["sourcetype"],
                index: strings["index"],
                event: jsonText(event),
                fields: fields,
                channel: nil,
                token: ""
            ))
    }

    private static func isAllowed(_ index: String, _ allowed: [String]) -> Bool {
        !index.isEmpty && (allowed.isEmpty || allowed.contains(index))
    }

    /// Indexed fields are `"k": "v"` or `"k": ["v1", "v2"]`; numbers pass as Splunk
    /// stringifies them. Objects, nulls and nested arrays are not flat.
    private static func isFlatFieldValue(_ value: Any) -> Bool {
        if let list = value as? [Any] { return list.allSatisfy(isScalar) }
        return isScalar(value)
    }

    private static func isScalar(_ value: Any) -> Bool {
        value is String || JSONKind.number(value) != nil
    }

    static func jsonText(_ value: Any) -> String {
        let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
