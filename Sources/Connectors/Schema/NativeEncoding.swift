import Foundation

/// `encoding: native`: the schema as JSON (DESIGN.md §6), keys sorted so the same event always
/// has the same bytes. `encode` writes the fields straight into bytes (it runs once per fetched
/// event: building and sorting a dictionary tree was a fifth of the forwarder's CPU); `json` gives
/// the same object as a `JSONValue` tree, and `AuditEvent(native:)` reads it back.
public enum NativeEncoding {
    /// `rawText`, when given, is the compact JSON text of `event.raw` as the upstream sent it
    /// (`NormalizedEntry.rawText`); `raw` is then that text, verbatim.
    public static func encode(_ event: AuditEvent, rawText: Data? = nil) throws -> Data {
        write(
            action: event.action, actor: event.actor, changes: event.changes, details: { $0.field("details", json: .object(event.details)) },
            eventType: event.eventType, id: event.id, message: event.message, organization: event.organization,
            outcome: event.outcome, project: event.project,
            raw: { writer in
                if let rawText {
                    writer.field("raw", verbatim: rawText)
                } else {
                    writer.field("raw", json: event.raw)
                }
            },
            receivedAt: RFC3339.format(event.receivedAt), severity: event.severity, source: event.source, target: event.target,
            time: RFC3339.format(event.time))
    }

    /// The encoding's one layout, from an event's parts (`encode`, and connectors that write
    /// events straight from their pages, such as `DeploysNativeWriter`). `details` and `raw` write
    /// their own fields; the times come formatted (a page's entries share `receivedAt`).
    static func write(
        action: String, actor: AuditEvent.Actor, changes: [JSONValue]?, details: (inout JSONFieldWriter) -> Void,
        eventType: AuditEvent.EventType, id: String, message: String?, organization: String?, outcome: AuditEvent.Outcome,
        project: String?, raw: (inout JSONFieldWriter) -> Void, receivedAt: String, severity: AuditEvent.Severity,
        source: AuditEvent.SourceReference, target: AuditEvent.Target?, time: String
    ) -> Data {
        var writer = JSONFieldWriter(capacity: 1024)
        writer.beginObject()  // keys in sorted order
        writer.field("action", action)
        writer.object("actor") { fields in
            fields.field("email", actor.email)
            fields.field("id", actor.id)
            fields.field("ip", actor.ip)
            fields.field("name", actor.name)
            fields.field("type", actor.type.rawValue)
        }
        writer.field("changes", json: changes.map(JSONValue.array))
        details(&writer)
        writer.field("event_type", eventType.rawValue)
        writer.field("id", id)
        writer.field("message", message)
        writer.field("organization", organization)
        writer.field("outcome", outcome.rawValue)
        writer.field("project", project)
        raw(&writer)
        writer.field("received_at", receivedAt)
        writer.field("severity", severity.rawValue)
        writer.source("source", source)
        if let target { writer.target("target", target) }
        writer.field("time", time)
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
