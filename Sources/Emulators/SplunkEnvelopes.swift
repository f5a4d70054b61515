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
            switch envelope(bytes, slice, allowed: indexes) {
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
    /// "" → 13, index not allowed → 7, `fields` not flat → 15. `event` and `fields` are kept as
    /// the client wrote them; the envelope is checked without building it (`JSONSyntax`).
    private static func envelope(_ bytes: [UInt8], _ slice: Range<Int>, allowed indexes: [String]) -> Result<SplunkIndexedEvent, Refusal> {
        guard JSONSyntax.isValid(bytes, slice), let members = JSONObjectMembers.scan(bytes, slice) else {
            return .failure(Refusal(code: 6))
        }
        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        /// A string member's value; a member of another type is an error.
        func string(_ range: Range<Int>) -> String? {
            if let plain = JSONSyntax.plainString(bytes, range) { return plain }
            return (try? JSONSerialization.jsonObject(with: Data(bytes[range]), options: .fragmentsAllowed)) as? String
        }
        var strings: [String: String] = [:]
        for key in ["host", "source", "sourcetype", "index"] {
            guard let range = members[key] else { continue }
            guard let value = string(range) else { return .failure(Refusal(code: 6)) }
            strings[key] = value
        }
        var time: Double?
        if let range = members["time"] {
            // Epoch seconds: a number, or a string of one (HEC accepts both).
            let first = bytes[range.lowerBound]
            if first == UInt8(ascii: "\""), let seconds = string(range).flatMap(Double.init) {
                time = seconds
            } else if first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")), let seconds = Double(text(range)) {
                time = seconds
            } else {
                return .failure(Refusal(code: 6))
            }
        }
        guard let event = members["event"] else { return .failure(Refusal(code: 12)) }
        if text(event) == "null" || text(event) == #""""# { return .failure(Refusal(code: 13)) }
        if let index = strings["index"], !isAllowed(index, indexes) { return .failure(Refusal(code: 7)) }
        var fields: String?
        if let range = members["fields"] {
            let value = try? JSONSerialization.jsonObject(with: Data(bytes[range]), options: .fragmentsAllowed)
            guard let flat = value as? [String: Any], flat.values.allSatisfy(isFlatFieldValue) else {
                return .failure(Refusal(code: 15))
            }
            fields = text(range)
        }
        return .success(
            SplunkIndexedEvent(
                time: time,
                host: strings["host"],
                source: strings["source"],
                sourcetype: strings["sourcetype"],
                index: strings["index"],
                event: text(event),
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
}
