import Foundation

/// A native payload (`NativeEncoding`) read straight into an event, for the sinks that encode ECS
/// or OCSF: members are matched as they come, with no dictionary built for the event, its actor,
/// source or target (hashing their keys was most of reading a payload back); `details` and
/// `changes` are parsed as values, and `raw` is only located, its text used as it is.
/// Reads what `AuditEvent(native:)` reads from the tree, with the same defaults.
extension JSONParser {
    struct NativeFields {
        var id, time, receivedAt, eventType, action, outcome, severity: String?
        var organization, project, message: String?
        var actorID, actorName, actorEmail, actorType, actorIP: String?
        var sourceName, sourceType, sourceEventID: String?
        var target: AuditEvent.Target?
        var changes: [JSONValue]?
        var details: [String: JSONValue] = [:]
        var raw: Range<Int>?
    }

    static func nativeFields(_ data: Data) throws(Failure) -> NativeFields {
        try reading(data) { parser throws(Failure) in
            var fields = NativeFields()
            let isObject = try parser.members { parser, key throws(Failure) in try parser.readTopLevel(key, into: &fields) }
            guard isObject else { throw parser.fail("a native event is a JSON object") }
            return fields
        }
    }

    private mutating func readTopLevel(_ key: String, into fields: inout NativeFields) throws(Failure) {
        switch key {
        case "id": fields.id = try text()
        case "time": fields.time = try text()
        case "received_at": fields.receivedAt = try text()
        case "event_type": fields.eventType = try text()
        case "action": fields.action = try text()
        case "outcome": fields.outcome = try text()
        case "severity": fields.severity = try text()
        case "organization": fields.organization = try text()
        case "project": fields.project = try text()
        case "message": fields.message = try text()
        case "raw":
            let start = index
            try skipValue()
            fields.raw = start..<index
        case "details": fields.details = try value().objectValue ?? [:]
        case "changes": fields.changes = try value().arrayValue
        case "actor":
            (fields.actorID, fields.actorName, fields.actorEmail, fields.actorType, fields.actorIP) = (nil, nil, nil, nil, nil)
            _ = try members { parser, key throws(Failure) in
                switch key {
                case "id": fields.actorID = try parser.text()
                case "name": fields.actorName = try parser.text()
                case "email": fields.actorEmail = try parser.text()
                case "type": fields.actorType = try parser.text()
                case "ip": fields.actorIP = try parser.text()
                default: _ = try parser.value()
                }
            }
        case "source":
            (fields.sourceName, fields.sourceType, fields.sourceEventID) = (nil, nil, nil)
            _ = try members { parser, key throws(Failure) in
                switch key {
                case "name": fields.sourceName = try parser.text()
                case "type": fields.sourceType = try parser.text()
                case "event_id": fields.sourceEventID = try parser.text()
                default: _ = try parser.value()
                }
            }
        case "target":
            var target = AuditEvent.Target(type: nil, id: nil, name: nil, location: nil)
            guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
                // null: no target; any other value: a target with nothing known, as the tree reads it.
                fields.target = try value().isNull ? nil : target
                return
            }
            _ = try members { parser, key throws(Failure) in
                switch key {
                case "type": target.type = try parser.text()
                case "id": target.id = try parser.text()
                case "name": target.name = try parser.text()
                case "location": target.location = try parser.text()
                default: _ = try parser.value()
                }
            }
            fields.target = target
        default:
            _ = try value()
        }
    }

    /// A string member's value; nil for null or any other kind of value (as `stringValue`).
    private mutating func text() throws(Failure) -> String? {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        if bytes[index] == UInt8(ascii: "\"") { return try string() }
        return try value().stringValue
    }

    /// Calls `member` with each key of the object at the position, the parser left on its value;
    /// false (the value stepped over) when there is no object there.
    /// The object counts as a value and a level of nesting, as in a tree, so a page read this way
    /// meets the same bounds as one read into trees.
    mutating func members(_ member: (inout JSONParser, String) throws(Failure) -> Void) throws(Failure) -> Bool {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        guard bytes[index] == UInt8(ascii: "{") else {
            _ = try value()
            return false
        }
        try countValue()
        depth += 1
        guard depth <= Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return true
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            try member(&self, key)
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return true
            } else {
                throw fail("expected ',' or '}'")
            }
        }
    }
}
