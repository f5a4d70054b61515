import Foundation

extension AuditEvent {
    /// Reads an event back from its native encoding (the spool's payload), for sinks that want
    /// ECS or OCSF. Uses the JSONValue tree, not JSONDecoder (see NativeEncoding).
    public init(native json: JSONValue) throws {
        func text(_ value: JSONValue?) -> String? { value?.stringValue }
        func required(_ key: String) throws -> String {
            guard let value = json[key]?.stringValue else { throw MalformedPayload(reason: "native event has no \(key)", excerpt: "") }
            return value
        }
        guard let time = RFC3339.parse(try required("time")), let received = RFC3339.parse(try required("received_at")) else {
            throw MalformedPayload(reason: "native event has an unreadable time", excerpt: "")
        }
        let source = json["source"]
        let actor = json["actor"]
        let target = json["target"].flatMap { $0.isNull ? nil : $0 }
        self.init(
            id: try required("id"), time: time, receivedAt: received,
            source: .init(name: text(source?["name"]) ?? "", type: text(source?["type"]) ?? "", eventID: text(source?["event_id"]) ?? ""),
            eventType: EventType(rawValue: try required("event_type")) ?? .other,
            action: text(json["action"]) ?? "",
            outcome: Outcome(rawValue: text(json["outcome"]) ?? "") ?? .unknown,
            severity: Severity(rawValue: text(json["severity"]) ?? "") ?? .info,
            actor: .init(
                id: text(actor?["id"]), name: text(actor?["name"]), email: text(actor?["email"]),
                type: ActorType(rawValue: text(actor?["type"]) ?? "") ?? .unknown, ip: text(actor?["ip"])),
            target: target.map {
                Target(type: text($0["type"]), id: text($0["id"]), name: text($0["name"]), location: text($0["location"]))
            },
            organization: text(json["organization"]), project: text(json["project"]), message: text(json["message"]),
            changes: json["changes"]?.arrayValue, details: json["details"]?.objectValue ?? [:], raw: json["raw"] ?? .null)
    }
}

extension AuditEvent {
    /// A spooled payload read back without its `raw` tree: the event (its `raw` null) and the
    /// text of `raw` as the payload holds it, for ECS `event.original` and OCSF `raw_data`.
    /// Reads the other fields as `init(native:)` does, with the same defaults and errors.
    public static func native(payload: Data) throws -> (event: AuditEvent, rawText: Data?) {
        let fields: JSONParser.NativeFields
        do {
            fields = try JSONParser.nativeFields(payload)
        } catch {
            throw MalformedPayload(
                reason: "not valid JSON (\(error.reason) at byte \(error.offset))", excerpt: MalformedPayload.excerpt(of: payload))
        }
        func required(_ value: String?, _ key: String) throws -> String {
            guard let value else { throw MalformedPayload(reason: "native event has no \(key)", excerpt: "") }
            return value
        }
        let id = try required(fields.id, "id")
        guard let time = RFC3339.parse(try required(fields.time, "time")),
            let received = RFC3339.parse(try required(fields.receivedAt, "received_at"))
        else {
            throw MalformedPayload(reason: "native event has an unreadable time", excerpt: "")
        }
        let event = AuditEvent(
            id: id, time: time, receivedAt: received,
            source: .init(name: fields.sourceName ?? "", type: fields.sourceType ?? "", eventID: fields.sourceEventID ?? ""),
            eventType: EventType(rawValue: try required(fields.eventType, "event_type")) ?? .other,
            action: fields.action ?? "",
            outcome: Outcome(rawValue: fields.outcome ?? "") ?? .unknown,
            severity: Severity(rawValue: fields.severity ?? "") ?? .info,
            actor: .init(
                id: fields.actorID, name: fields.actorName, email: fields.actorEmail,
                type: ActorType(rawValue: fields.actorType ?? "") ?? .unknown, ip: fields.actorIP),
            target: fields.target, organization: fields.organization, project: fields.project, message: fields.message,
            changes: fields.changes, details: fields.details, raw: .null)
        let rawText = fields.raw.map { payload[(payload.startIndex + $0.lowerBound)..<(payload.startIndex + $0.upperBound)] }
        return (event, rawText)
    }
}
