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
        /// The page's limits, and how many of its values reading it counted: its entries, parsed
        /// one by one, go on counting from there, so the page is bounded as a whole.
        let limits: PageLimits
        let valuesCounted: Int

        /// How many entries the page carries.
        var count: Int { elements.count }

        /// An entry's parse failure, worded as the whole page's would be: the values counted are
        /// the page's, and the byte is the page's.
        private func malformed(_ failure: JSONParser.Failure, at element: JSONParser.Element, _ bytes: Data) -> SourceError {
            let problem =
                if failure.isOverLimit {
                    MalformedPayload(
                        reason: "over the page limits: \(failure.reason) (sources[].max_page_items bounds it)", excerpt: "\(body.count) bytes")
                } else {
                    MalformedPayload(
                        reason: "not valid JSON (\(failure.reason) at byte \(element.range.lowerBound + failure.offset))",
                        excerpt: MalformedPayload.excerpt(of: bytes))
                }
            var error = SourceError(.malformed, "\(what) is \(problem)")
            error.isOverLimit = failure.isOverLimit
            return error
        }

        /// Every item normalized, each entry keeping its own JSON text (`NormalizedEntry.rawText`).
        /// `keeping`: the only members of an item `normalize` reads. The others are checked but not
        /// built, unless the item's text cannot be kept (not UTF-8): its tree is then its `raw`.
        func entries(keeping members: Set<String>? = nil, _ normalize: (JSONValue) throws -> NormalizedEntry) throws -> [NormalizedEntry] {
            var counted = valuesCounted
            return try elements.map { element in
                let bytes = body[(body.startIndex + element.range.lowerBound)..<(body.startIndex + element.range.upperBound)]
                return try treeEntry(element, bytes, keeping: members, counted: &counted, normalize)
            }
        }

        /// Like `entries(keeping:_:)`, but each entry whose text can be kept is first read by `read`
        /// straight from its bytes, into what `normalizeFields` takes: no tree at all. An entry
        /// `read` cannot take (nil, or not valid JSON), or whose fields do not normalize, goes
        /// the tree way, which takes it or words what is wrong with it as it always has.
        func entries<Fields>(
            reading read: (inout JSONParser) throws(JSONParser.Failure) -> Fields?,
            normalizeFields: (Fields) throws -> NormalizedEntry,
            keeping members: Set<String>?, _ normalize: (JSONValue) throws -> NormalizedEntry
        ) throws -> [NormalizedEntry] {
            var counted = valuesCounted
            var entries: [NormalizedEntry] = []
            entries.reserveCapacity(elements.count)
            for element in elements {
                let bytes = body[(body.startIndex + element.range.lowerBound)..<(body.startIndex + element.range.upperBound)]
                if let text = element.text(in: body),
                    let (fields, values) = try? PageLimits.$current.withValue(
                        limits, operation: { try JSONParser.readingCounting(bytes, counted: counted, read) }),
                    let fields, var entry = try? normalizeFields(fields)
                {
                    counted = values
                    entry.rawText = text
                    entries.append(entry)
                    continue
                }
                entries.append(try treeEntry(element, bytes, keeping: members, counted: &counted, normalize))
            }
            return entries
        }

        /// One entry parsed into a tree (of `members` only, when its text is kept) and normalized.
        private func treeEntry(
            _ element: JSONParser.Element, _ bytes: Data, keeping members: Set<String>?, counted: inout Int,
            _ normalize: (JSONValue) throws -> NormalizedEntry
        ) throws -> NormalizedEntry {
            let text = element.text(in: body)
            let item: JSONValue
            do {
                let parsed = try PageLimits.$current.withValue(limits) {
                    try JSONParser.parseCounting(
                        bytes, elementsAt: nil, skippingElements: false, keeping: text == nil ? nil : members, counted: counted)
                }
                counted = parsed.values
                item = parsed.value
            } catch let failure as JSONParser.Failure {
                throw malformed(failure, at: element, bytes)
            }
            var entry: NormalizedEntry
            do {
                entry = try normalize(item)
            } catch  where members != nil && text != nil {
                // Worded from the whole entry, as without `keeping`: an error quotes the entry.
                entry = try normalize(try JSONValue.parse(bytes))
            }
            entry.rawText = text
            // The payload's `raw` is this text when there is one (`NativeEncoding`): the entry's
            // tree is let go here rather than kept, a page's worth of them, until it is spooled.
            if entry.rawText != nil { entry.event.raw = .null }
            return entry
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
        let (json, elements, values): (JSONValue, [JSONParser.Element], Int)
        do {
            (json, elements, values) = try JSONValue.parseCounting(body, elementsAt: path, skippingElements: true)
        } catch let error as MalformedPayload {
            var failure = SourceError(.malformed, "\(what) is \(error)")
            failure.isOverLimit = error.isOverLimit
            throw failure
        }
        try check(json)
        _ = try array(path.reduce(Optional(json)) { $0?[$1] }, at: path.joined(separator: "."), body: body, what: what)
        let limits = PageLimits.current
        return Parsed(json: json, body: body, elements: elements, what: what, limits: limits, valuesCounted: values)
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
