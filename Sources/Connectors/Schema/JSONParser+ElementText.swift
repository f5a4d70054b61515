import Foundation

extension [JSONParser.Element] {
    /// Each element's text (`text(in:)`), or none at all when these are not the `count` elements
    /// the caller found: the entries are then written from their parsed values.
    func texts(in data: Data, count: Int) -> [Data?] {
        self.count == count ? map { $0.text(in: data) } : [Data?](repeating: nil, count: count)
    }

    /// `items`, the values these elements locate in `data`, normalized one by one, each entry
    /// keeping its own text (`NormalizedEntry.rawText`).
    func entries(of items: [JSONValue], in data: Data, _ normalize: (JSONValue) throws -> NormalizedEntry) rethrows -> [NormalizedEntry] {
        try zip(items, texts(in: data, count: items.count)).map { item, text in
            var entry = try normalize(item)
            entry.rawText = text
            return entry
        }
    }
}

extension JSONParser.Element {
    /// The element's JSON text, compact: its bytes in `data` as they are (a slice, no copy) when
    /// they have no whitespace between tokens, otherwise a copy without it, so the text fits on
    /// one NDJSON line. `data` is what was parsed (offsets count from its start). Nil when the
    /// bytes are not valid UTF-8: the parsed value has them repaired, and is written instead.
    func text(in data: Data) -> Data? {
        let bytes = data[(data.startIndex + range.lowerBound)..<(data.startIndex + range.upperBound)]
        if !isASCII, String(validating: bytes, as: UTF8.self) == nil { return nil }
        return isCompact ? bytes : Self.compacted(bytes)
    }

    /// `json` without the whitespace outside its strings.
    static func compacted(_ json: Data) -> Data {
        var output: [UInt8] = []
        output.reserveCapacity(json.count)
        var inString = false
        var escaped = false
        for byte in json {
            if inString {
                output.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte != 0x20, byte != 0x0A, byte != 0x0D, byte != 0x09 {
                output.append(byte)
                inString = byte == UInt8(ascii: "\"")
            }
        }
        return Data(output)
    }
}
