import Foundation

/// What normalizing needs of a deploys.app item, read from a tree or straight from the page.
struct DeploysItemFields: Equatable {
    var action: String?
    var outcome: String?
    var detail: String?
    var channel: JSONValue?
    var resourceType, resourceID, resourceName, resourceLocation: String?
    var actorEmail, actorLabel, actorType: String?

    init() {}

    /// From an item's tree, each key looked up once.
    init(_ item: JSONValue) {
        let fields = item.objectValue ?? [:]
        action = fields["action"]?.stringValue
        outcome = fields["outcome"]?.stringValue
        detail = fields["detail"]?.stringValue
        channel = fields["channel"]
        if let resource = fields["resource"]?.objectValue {
            resourceType = resource["type"]?.scalarText
            resourceID = resource["id"]?.scalarText
            resourceName = resource["name"]?.scalarText
            resourceLocation = resource["locationId"]?.scalarText
        }
        if let actor = fields["actor"]?.objectValue {
            actorEmail = actor["email"]?.stringValue
            actorLabel = actor["label"]?.stringValue
            actorType = actor["type"]?.stringValue
        }
    }
}

/// A deploys.app page read without a tree: each item's fields straight from the bytes, its own
/// text located (parsing pages into dictionaries was the largest cost of the way in). Only for a
/// plain successful page whose items all have an id, a time and valid UTF-8; anything else is
/// left to the tree reader (`DeploysEnvelope`), which words what is wrong with it.
enum DeploysPageReader {
    struct Item: Equatable {
        var upstreamID: String
        var time: Date
        var fields: DeploysItemFields
        /// The item's own text; nil when it is not valid UTF-8 (the tree is then written instead).
        var text: Data?
        /// The item's tree, when it was read into one (the tree reader's pages).
        var tree: JSONValue?
    }

    /// The page's items, or nil when the tree reader must read it.
    static func items(of body: Data) -> [Item]? {
        (try? JSONParser.reading(body) { parser throws(JSONParser.Failure) in try parser.deploysPage(body) }) ?? nil
    }
}

extension JSONParser {
    /// `{"ok": true, "result": {"items": [...]}}`, other members stepped over.
    fileprivate mutating func deploysPage(_ body: Data) throws(Failure) -> [DeploysPageReader.Item]? {
        var ok = false
        var items: [DeploysPageReader.Item]?
        var readable = true
        let isObject = try members { parser, key throws(Failure) in
            switch key {
            case "ok": ok = try parser.value() == .bool(true)
            case "result":
                items = nil
                _ = try parser.members { parser, key throws(Failure) in
                    guard key == "items" else { return try parser.skipValue() }
                    items = try parser.deploysItems(body)
                    if items == nil { readable = false }
                }
            default: try parser.skipValue()
            }
        }
        guard isObject, ok, readable else { return nil }
        return items
    }

    /// The items array, or nil (stepped over) when it is not one the fast path can take.
    private mutating func deploysItems(_ body: Data) throws(Failure) -> [DeploysPageReader.Item]? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else {
            try skipValue()
            return nil
        }
        index += 1
        var items: [DeploysPageReader.Item] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return items
        }
        var usable = true
        while true {
            skipWhitespace()
            let start = index
            (skippedWhitespace, sawNonASCII) = (false, false)
            if usable, items.count < limits.maxItems, let item = try deploysItem() {
                let element = Element(range: start..<index, isCompact: !skippedWhitespace, isASCII: !sawNonASCII)
                if let text = element.text(in: body) {
                    items.append(DeploysPageReader.Item(upstreamID: item.id, time: item.time, fields: item.fields, text: text, tree: nil))
                } else {
                    usable = false
                }
            } else {
                if index == start { try skipValue() }
                usable = false
            }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return usable ? items : nil
            } else {
                throw fail("expected ',' or ']'")
            }
        }
    }

    /// One item, or nil (read past) without an integer id and an RFC 3339 `createdAt`.
    private mutating func deploysItem() throws(Failure) -> (id: String, time: Date, fields: DeploysItemFields)? {
        var fields = DeploysItemFields()
        var id: String?
        var created: String?
        let isObject = try members { parser, key throws(Failure) in
            switch key {
            case "id": id = try parser.value().integerText
            case "createdAt": created = try parser.value().stringValue
            case "action": fields.action = try parser.value().stringValue
            case "outcome": fields.outcome = try parser.value().stringValue
            case "detail": fields.detail = try parser.value().stringValue
            case "channel": fields.channel = try parser.value()
            case "resource":
                (fields.resourceType, fields.resourceID, fields.resourceName, fields.resourceLocation) = (nil, nil, nil, nil)
                _ = try parser.members { parser, key throws(Failure) in
                    switch key {
                    case "type": fields.resourceType = try parser.value().scalarText
                    case "id": fields.resourceID = try parser.value().scalarText
                    case "name": fields.resourceName = try parser.value().scalarText
                    case "locationId": fields.resourceLocation = try parser.value().scalarText
                    default: try parser.skipValue()
                    }
                }
            case "actor":
                (fields.actorEmail, fields.actorLabel, fields.actorType) = (nil, nil, nil)
                _ = try parser.members { parser, key throws(Failure) in
                    switch key {
                    case "email": fields.actorEmail = try parser.value().stringValue
                    case "label": fields.actorLabel = try parser.value().stringValue
                    case "type": fields.actorType = try parser.value().stringValue
                    default: try parser.skipValue()
                    }
                }
            default: try parser.skipValue()
            }
        }
        guard isObject, let id, let created, let time = RFC3339.parse(created) else { return nil }
        return (id, time, fields)
    }
}
