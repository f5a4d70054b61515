import Foundation

/// What every upstream does with a page's bytes before reading its entries: parse them, find the
/// array of entries, and turn any shape it does not expect into a malformed-page error that names
/// the page and quotes the start of the body (the cursor stays unmoved).
public enum UpstreamPage {
    /// A page parsed, with where its entries lie: the page's JSON holds an empty array in their
    /// place, and each entry is parsed from its own bytes as it is normalized, so a page's worth of
    /// trees never exists at once (a page of 1,000 Okta events is about 2 MB of JSON, and many
    /// times that as trees).
    struct Parsed {
        let json: JSONValue
        let body: Data
        let elements: [JSONParser.Element]
        let what: String

        /// How many entries the page carries.
        var count: Int { elements.count }

        /// Every item normalized, each entry keeping its own JSON text (`NormalizedEntry.rawText`).
        func entries(_ normalize: (JSONValue) throws -> NormalizedEntry) throws -> [NormalizedEntry] {
            try elements.map { element in
                let bytes = body[(body.startIndex + element.range.lowerBound)..<(body.startIndex + element.range.upperBound)]
                var entry = try normalize(try parse(bytes, what: what, elementsAt: nil).value)
                entry.rawText = element.text(in: body)
                return entry
            }
        }
    }

    /// `body` parsed, and the elements of the array under `path` located (see `JSONParser`); a body
    /// that is not JSON is a malformed page naming `what`.
    static func parse(
        _ body: Data, what: String, elementsAt path: [String]?, skippingElements: Bool = false
    ) throws -> (value: JSONValue, elements: [JSONParser.Element]) {
        do {
            return try JSONValue.parse(body, elementsAt: path, skippingElements: skippingElements)
        } catch let error as MalformedPayload {
            throw SourceError(.malformed, "\(what) is \(error)")
        }
    }

    /// `body` parsed and its entries found: the array under `path` (`[]`: the body itself).
    /// `check` sees the page first (an error envelope is the upstream's answer, not a malformed page).
    static func read(_ body: Data, what: String, itemsAt path: [String], check: (JSONValue) throws -> Void = { _ in }) throws -> Parsed {
        let (json, elements) = try parse(body, what: what, elementsAt: path, skippingElements: true)
        try check(json)
        _ = try array(path.reduce(Optional(json)) { $0?[$1] }, at: path.joined(separator: "."), body: body, what: what)
        return Parsed(json: json, body: body, elements: elements, what: what)
    }

    /// `value`, found at `path` (dotted; "": the body) in a page, as an array; missing or of
    /// another type, a malformed page naming `what`.
    static func array(_ value: JSONValue?, at path: String, body: Data, what: String) throws -> [JSONValue] {
        if case .array(let items)? = value { return items }
        let excerpt = MalformedPayload.excerpt(of: body)
        guard let value else {
            throw SourceError(.malformed, "\(what) has no \(path) array: \(excerpt)")
        }
        if path.isEmpty {
            throw SourceError(.malformed, "\(what) is a JSON \(value.typeName), not an array: \(excerpt)")
        }
        throw SourceError(.malformed, "\(what): \(path) is a \(value.typeName), not an array: \(excerpt)")
    }
}

extension JSONValue {
    /// The start of this value's JSON text, printable, for an error about one entry.
    var excerpt: String { MalformedPayload.excerpt(of: JSONWriter.write(self)) }
}
