import Foundation

/// What every upstream does with a page's bytes before reading its entries: parse them, find the
/// array of entries, and turn any shape it does not expect into a malformed-page error that names
/// the page and quotes the start of the body (the cursor stays unmoved).
public enum UpstreamPage {
    /// A page parsed, with the array of entries it carries.
    struct Parsed {
        let json: JSONValue
        let items: [JSONValue]
        let body: Data
        let elements: [JSONParser.Element]

        /// Every item normalized, each entry keeping its own JSON text (`NormalizedEntry.rawText`).
        func entries(_ normalize: (JSONValue) throws -> NormalizedEntry) rethrows -> [NormalizedEntry] {
            try elements.entries(of: items, in: body, normalize)
        }
    }

    /// `body` parsed, and the elements of the array under `path` located (see `JSONParser`); a body
    /// that is not JSON is a malformed page naming `what`.
    static func parse(_ body: Data, what: String, elementsAt path: [String]?) throws -> (value: JSONValue, elements: [JSONParser.Element]) {
        do {
            return try JSONValue.parse(body, elementsAt: path)
        } catch let error as MalformedPayload {
            throw SourceError(.malformed, "\(what) is \(error)")
        }
    }

    /// `body` parsed and its entries found: the array under `path` (`[]`: the body itself).
    /// `check` sees the page first (an error envelope is the upstream's answer, not a malformed page).
    static func read(_ body: Data, what: String, itemsAt path: [String], check: (JSONValue) throws -> Void = { _ in }) throws -> Parsed {
        let (json, elements) = try parse(body, what: what, elementsAt: path)
        try check(json)
        let items = try array(path.reduce(Optional(json)) { $0?[$1] }, at: path.joined(separator: "."), body: body, what: what)
        return Parsed(json: json, items: items, body: body, elements: elements)
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
