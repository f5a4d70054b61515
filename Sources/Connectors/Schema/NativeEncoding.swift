import Foundation

/// `encoding: native`: the schema as JSON (DESIGN.md §6), keys sorted so the same event always
/// has the same bytes. `encode` writes the fields straight into bytes (it runs once per fetched
/// event: building and sorting a dictionary tree was a fifth of the forwarder's CPU); `json` gives
/// the same object as a `JSONValue` tree, and `AuditEvent(native:)` reads it back.
public enum NativeEncoding {
    /// `rawText`, when given, is the compact JSON text of `event.raw` as the upstream sent it
    /// (`NormalizedEntry.rawText`); `raw` is then that text, verbatim.
    public static func encode(_ event: AuditEvent, rawText: Data? = nil) throws -> Data {
        var writer = JSONFieldWriter(capacity: 1024)
        writer.beginObject()  // keys in sorted order
        writer.field("action", event.action)
        writer.object("actor") { actor in
            actor.field("email", event.actor.email)
            actor.field("id", event.actor.id)
            actor.field("ip", event.actor.ip)
            actor.field("name", event.actor.name)
            actor.field("type", event.actor.type.rawValue)
        }
        writer.field("changes", json: event.changes.map(JSONValue.array))
        writer.field("details", json: .object(event.details))
        writer.field("event_type", event.eventType.rawValue)
        writer.field("id", event.id)
        writer.field("message", event.message)
        writer.field("organization", event.organization)
        writer.field("outcome", event.outcome.rawValue)
        writer.field("project", event.project)
        if let rawText {
            writer.field("raw", verbatim: rawText)
        } else {
            writer.field("raw", json: event.raw)
        }
        writer.field("received_at", RFC3339.format(event.receivedAt))
        writer.field("severity", event.severity.rawValue)
        writer.source("source", event.source)
        if let target = event.target { writer.target("target", target) }
        writer.field("time", RFC3339.format(event.time))
        writer.endObject()
        return Data(writer.bytes)
    }

    public static func encode(_ value: JSONValue) throws -> Data {
        JSONWriter.write(value)
    }

    public static func json(_ event: AuditEvent) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(event.id),
            "time": .string(RFC3339.format(event.time)),
            "received_at": .string(RFC3339.format(event.receivedAt)),
            "source": .object([
                "name": .string(event.source.name), "type": .string(event.source.type), "event_id": .string(event.source.eventID),
            ]),
            "event_type": .string(event.eventType.rawValue),
            "action": .string(event.action),
            "outcome": .string(event.outcome.rawValue),
            "severity": .string(event.severity.rawValue),
            "actor": actor(event.actor),
            "details": .object(event.details),
            "raw": event.raw,
        ]
        if let target = event.target {
            var fields: [String: JSONValue] = [:]
            fields["type"] = target.type.map(JSONValue.string)
            fields["id"] = target.id.map(JSONValue.string)
            fields["name"] = target.name.map(JSONValue.string)
            fields["location"] = target.location.map(JSONValue.string)
            object["target"] = .object(fields)
        }
        object["organization"] = event.organization.map(JSONValue.string)
        object["project"] = event.project.map(JSONValue.string)
        object["message"] = event.message.map(JSONValue.string)
        object["changes"] = event.changes.map(JSONValue.array)
        return .object(object)
    }

    private static func actor(_ actor: AuditEvent.Actor) -> JSONValue {
        var fields: [String: JSONValue] = ["type": .string(actor.type.rawValue)]
        fields["id"] = actor.id.map(JSONValue.string)
        fields["name"] = actor.name.map(JSONValue.string)
        fields["email"] = actor.email.map(JSONValue.string)
        fields["ip"] = actor.ip.map(JSONValue.string)
        return .object(fields)
    }
}
