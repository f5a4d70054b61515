import Foundation

/// A strict RFC 8259 parser straight into `JSONValue`.
///
/// Hand-written because decoding the `JSONValue` enum through `JSONDecoder` tries each case in
/// turn and throws on every miss: it was the forwarder's largest cost per page. Integers stay
/// exact (`Int64`), nesting is bounded (hostile input cannot exhaust the stack), and anything
/// after the value is an error.
struct JSONParser {
    static let maximumDepth = 512

    // The bytes, the position and the primitives below are internal, not private: typed readers
    // (JSONParser+NativeEvent) step through an object with them.
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    /// How deep the value being read is nested (typed readers' `members` counts too).
    var depth = 0
    /// The members of the objects being parsed, innermost last.
    private var members: [(String, JSONValue)] = []
    /// The keys leading to the array whose elements are located (`parse(_:elementsAt:)`), how many
    /// of them the value being parsed sits under, and what was found.
    private var elementPath: [String]?
    private var pathMatched = 0
    private var elements: [Element] = []
    /// Whether the located array's elements are only located and checked, not built: the value
    /// then holds an empty array there, and each element is parsed from its own bytes later.
    private var skippingElements = false
    /// When set, the members of the outermost object kept in its tree; the others are checked and
    /// stepped over (an upstream entry whose normalizer reads a few of its members).
    private var keptMembers: Set<String>?
    /// Whether whitespace was skipped (outside strings), and whether a string held bytes above
    /// ASCII, since they were last cleared.
    var skippedWhitespace = false
    var sawNonASCII = false
    /// The page's allocation bounds (`PageLimits.current` when the parse starts), and the values so far.
    let limits: PageLimits
    private var values = 0

    /// Where one element of the located array lies in the bytes, whether it has whitespace between
    /// its tokens (when not, its bytes are already compact JSON) and whether it is all ASCII (when
    /// not, its UTF-8 is checked before the bytes are used as they are).
    struct Element {
        var range: Range<Int>
        var isCompact: Bool
        var isASCII = true
    }

    struct Failure: Error {
        var reason: String
        var offset: Int
        /// Over `PageLimits`: the JSON may be valid, the page is just too large to take.
        var isOverLimit = false
    }

    static func parse(_ data: Data) throws(Failure) -> JSONValue {
        try parseCounting(data, elementsAt: nil, skippingElements: false).value
    }

    /// Parses `data` and locates each element of the array found under the object keys `path`
    /// (none when there is no such array): a connector keeps each entry's own text that way. When
    /// a key repeats, the last one counts, as in the value. Also says how many values it counted
    /// against `PageLimits.maxValues` (skipped elements' values not among them: their own parses
    /// count those). `keeping`: the outermost object's members to build; the rest are checked but
    /// left out of the value. `counted`: values of the same page counted before (its entries
    /// parsed one by one share the page's bound); the count returned includes them.
    static func parseCounting(
        _ data: Data, elementsAt path: [String]?, skippingElements: Bool, keeping members: Set<String>? = nil, counted: Int = 0
    ) throws(Failure) -> (value: JSONValue, elements: [Element], values: Int) {
        try reading(data) { parser throws(Failure) in
            parser.values = counted
            parser.elementPath = path
            parser.skippingElements = skippingElements
            parser.keptMembers = members
            return (try parser.value(), parser.elements, parser.values)
        }
    }

    /// Runs `read` over the whole of `data`: whitespace around the value is allowed, anything
    /// after it is an error. Every reader of a whole document (trees, typed readers) starts here.
    static func reading<T>(_ data: Data, _ read: (inout JSONParser) throws(Failure) -> T) throws(Failure) -> T {
        do {
            return try data.withUnsafeBytes { raw throws(Failure) in
                var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
                parser.skipWhitespace()
                let result = try read(&parser)
                parser.skipWhitespace()
                guard parser.index == parser.bytes.count else { throw parser.fail("unexpected data after the JSON value") }
                return result
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(reason: "\(error)", offset: 0)
        }
    }

    /// `reading`, with `counted` values of the same page counted before; also says how many values
    /// the page has counted now (a typed reader of one entry shares the page's bound).
    static func readingCounting<T>(
        _ data: Data, counted: Int, _ read: (inout JSONParser) throws(Failure) -> T
    ) throws(Failure) -> (result: T, values: Int) {
        try reading(data) { parser throws(Failure) in
            parser.values = counted
            let result = try read(&parser)
            return (result, parser.values)
        }
    }

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        limits = PageLimits.current
    }

    mutating func skipWhitespace() {
        let start = index
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
        if index != start { skippedWhitespace = true }
    }

    func fail(_ reason: String) -> Failure { Failure(reason: reason, offset: index) }

    mutating func value() throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        try countValue()
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of input") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw fail("invalid literal")
        }
        index += count
    }

    private mutating func object() throws(Failure) -> JSONValue {
        depth += 1
        guard depth <= Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        // Members go onto a stack shared by every object of this parse, then into a dictionary
        // sized once: growing each dictionary key by key rehashed it several times.
        let base = members.count
        defer { members.removeSubrange(base...) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            // On the way to the located array: this member's value sits one key deeper.
            let onPath = elementPath.map { pathMatched == depth - 1 && depth <= $0.count && key == $0[depth - 1] } ?? false
            if depth == 1, let kept = keptMembers, !kept.contains(key) {
                try skipValue()
            } else {
                if onPath { pathMatched = depth }
                let member = try value()
                if onPath { pathMatched = depth - 1 }
                members.append((key, member))
            }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                var object = [String: JSONValue](minimumCapacity: members.count - base)
                // A repeated key keeps its last value, as before.
                for (key, value) in members[base...] { object[key] = value }
                return .object(object)
            } else {
                throw fail("expected ',' or '}'")
            }
        }
    }

    /// One more value in the page, within `PageLimits.maxValues` (typed readers count their objects too).
    mutating func countValue() throws(Failure) {
        values += 1
        guard values <= limits.maxValues else {
            throw Failure(reason: "more than \(limits.maxValues) JSON values in one page", offset: index, isOverLimit: true)
        }
    }

    /// Steps over one value, checking it as `value()` would, page limits included, without
    /// building it (a typed reader's way past what it keeps as text).
    mutating func skipValue() throws(Failure) {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        let opening = bytes[index]
        guard opening == UInt8(ascii: "{") || opening == UInt8(ascii: "[") else {
            if opening == UInt8(ascii: "\"") {
                try countValue()
                try skipString()
            } else {
                _ = try value()  // numbers, literals: cheap, and counted there
            }
            return
        }
        try countValue()
        let isObject = opening == UInt8(ascii: "{")
        let closing = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        depth += 1
        guard depth <= Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == closing {
            index += 1
            return
        }
        var items = 0
        while true {
            skipWhitespace()
            if isObject {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                try skipString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                index += 1
                skipWhitespace()
            } else {
                guard items < limits.maxItems else {
                    throw Failure(reason: "more than \(limits.maxItems) items in one array", offset: index, isOverLimit: true)
                }
                items += 1
            }
            try skipValue()
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == closing {
                index += 1
                return
            } else {
                throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        }
    }

    /// Steps over a string; its escapes are not decoded (the text is kept as it is).
    private mutating func skipString() throws(Failure) {
        index += 1
        while index < bytes.count {
            let run = JSONStringScan.firstSpecial(in: bytes, from: index)
            if run.sawNonASCII { sawNonASCII = true }
            index = run.index
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            guard byte >= 0x20 else { throw fail("control character in string") }
            _ = try escape()
        }
        throw fail("unterminated string")
    }

    /// What one escape stands for: a byte, or a scalar spelled `\uXXXX` (a surrogate pair read
    /// whole).
    enum Unescaped {
        case byte(UInt8)
        case scalar(Unicode.Scalar)
    }

    /// Reads the escape whose backslash is at `index`. `string()` builds with it, and the skips
    /// check with it: a skipped text is written out as it is (an entry's own text, `raw`), so an
    /// escape the full parse refuses must not get through a skip into a payload.
    private mutating func escape() throws(Failure) -> Unescaped {
        index += 1
        guard index < bytes.count else { throw fail("unexpected end of input") }
        let letter = bytes[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""): return .byte(0x22)
        case UInt8(ascii: "\\"): return .byte(0x5C)
        case UInt8(ascii: "/"): return .byte(0x2F)
        case UInt8(ascii: "b"): return .byte(0x08)
        case UInt8(ascii: "f"): return .byte(0x0C)
        case UInt8(ascii: "n"): return .byte(0x0A)
        case UInt8(ascii: "r"): return .byte(0x0D)
        case UInt8(ascii: "t"): return .byte(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A surrogate pair spells one scalar above U+FFFF.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired surrogate")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw fail("unpaired surrogate")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
            return .scalar(unicode)
        default:
            throw fail("invalid escape")
        }
    }

    private mutating func array() throws(Failure) -> JSONValue {
        depth += 1
        guard depth <= Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        defer { depth -= 1 }
        index += 1
        var array: [JSONValue] = []
        let locating = elementPath.map { pathMatched == $0.count && depth - 1 == $0.count } ?? false
        if locating { elements.removeAll() }
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(array)
        }
        var count = 0
        while true {
            skipWhitespace()
            guard count < limits.maxItems else {
                throw Failure(reason: "more than \(limits.maxItems) items in one array", offset: index, isOverLimit: true)
            }
            count += 1
            if locating {
                let start = index
                (skippedWhitespace, sawNonASCII) = (false, false)
                if skippingElements {
                    // Counted when the element is parsed on its own, against what the page has left.
                    let counted = values
                    try skipValue()
                    values = counted
                } else {
                    array.append(try value())
                }
                elements.append(Element(range: start..<index, isCompact: !skippedWhitespace, isASCII: !sawNonASCII))
            } else {
                array.append(try value())
            }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            } else {
                throw fail("expected ',' or ']'")
            }
        }
    }

    mutating func string() throws(Failure) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        let run = JSONStringScan.firstSpecial(in: bytes, from: index)
        if run.sawNonASCII { sawNonASCII = true }
        index = run.index
        if index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            guard byte >= 0x20 else { throw fail("control character in string") }
        }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                switch try escape() {
                case .byte(let unescaped): buffer.append(unescaped)
                case .scalar(let unicode): buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
                }
            default:
                guard byte >= 0x20 else { throw fail("control character in string") }
                if byte >= 0x80 { sawNonASCII = true }
                buffer.append(byte)
                index += 1
            }
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("unexpected end of input") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { throw fail("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw fail("invalid number") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw fail("invalid number") }
        }
        if isInteger, let integer = Self.integer(UnsafeBufferPointer(rebasing: bytes[start..<index])) { return .integer(integer) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        guard let double = Double(text) else { throw fail("invalid number") }
        return .double(double)
    }

    /// An integer of up to 18 digits read straight from the bytes (no string made); nil for longer
    /// ones, which take the general path.
    private static func integer(_ digits: UnsafeBufferPointer<UInt8>) -> Int64? {
        var position = 0
        let negative = digits.first == UInt8(ascii: "-")
        if negative { position = 1 }
        guard digits.count - position <= 18 else { return nil }
        var value: Int64 = 0
        while position < digits.count {
            value = value * 10 + Int64(digits[position] - UInt8(ascii: "0"))
            position += 1
        }
        return negative ? -value : value
    }
}
