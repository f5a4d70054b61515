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
