import Foundation

/// Writes JSON objects field by field straight into bytes, for encoders whose keys are fixed:
/// no dictionary is built, hashed or sorted. The caller writes the keys in sorted order, so the
/// bytes equal `JSONWriter`'s for the same object (a test holds the two to that).
struct JSONFieldWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Starts `"key":`; the value follows.
    mutating func key(_ key: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = true
    }

    /// A string field; nothing at all when `value` is nil, as a dictionary without the key.
    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONWriter.writeString(value, into: &bytes)
    }

    mutating func field(_ name: StaticString, integer value: Int64) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func field(_ name: StaticString, strings values: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(value, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func field(_ name: StaticString, json value: JSONValue?) {
        guard let value else { return }
        key(name)
        JSONWriter.write(value, into: &bytes)
    }

    /// A field whose value is JSON text already (compact, valid), copied as it is.
    mutating func field(_ name: StaticString, verbatim json: Data) {
        key(name)
        bytes.append(contentsOf: json)
    }

    mutating func object(_ name: StaticString, _ body: (inout JSONFieldWriter) -> Void) {
        key(name)
        beginObject()
        body(&self)
        endObject()
    }
}

extension JSONFieldWriter {
    /// The schema's source reference (`event_id`, `name`, `type`), as the native and ECS encodings write it.
    mutating func source(_ name: StaticString, _ source: AuditEvent.SourceReference) {
        object(name) { fields in
            fields.field("event_id", source.eventID)
            fields.field("name", source.name)
            fields.field("type", source.type)
        }
    }

    /// A target's known fields (`id`, `location`, `name`, `type`); `{}` when none is known.
    mutating func target(_ name: StaticString, _ target: AuditEvent.Target) {
        object(name) { fields in
            fields.field("id", target.id)
            fields.field("location", target.location)
            fields.field("name", target.name)
            fields.field("type", target.type)
        }
    }
}
