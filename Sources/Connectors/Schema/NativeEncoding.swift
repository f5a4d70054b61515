import Foundation

/// `encoding: native`: the schema as JSON (DESIGN.md §6), keys sorted so the same event always
/// has the same bytes. Built as a `JSONValue` tree and written by `JSONWriter` (JSONEncoder was a
/// tenth of the forwarder's CPU); `AuditEvent`'s Codable conformance reads the same shape back.
public enum NativeEncoding {
    public static func encode(_ event: AuditEvent) throws -> Data {
        JSONWriter.write(json(event))
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
