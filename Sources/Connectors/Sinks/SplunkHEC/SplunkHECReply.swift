import Foundation

/// HEC's answer `{"text", "code", "invalid-event-number", "ackId"}` and what it means for a batch.
struct SplunkHECReply: Equatable {
    var text: String?
    var code: Int?
    var invalidEventNumber: Int?
    var ackID: Int?

    /// Nil when the body is not a JSON object (a proxy's HTML page, say).
    init?(_ body: Data) {
        guard let object = (try? JSONValue.parse(body))?.objectValue else { return nil }
        text = object["text"]?.stringValue
        code = object["code"].flatMap(Self.integer)
        invalidEventNumber = object["invalid-event-number"].flatMap(Self.integer)
        ackID = object["ackId"].flatMap(Self.integer)
    }

    static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case .integer(let number): Int(exactly: number)
        case .double(let number): Int(exactly: number)
        case .string(let text): Int(text)
        default: nil
        }
    }

    /// `Splunk HEC code 6: Invalid data format`.
    var summary: String? {
        guard let code else { return text }
        return "Splunk HEC code \(code)" + (text.map { ": " + $0 } ?? "")
    }
}
