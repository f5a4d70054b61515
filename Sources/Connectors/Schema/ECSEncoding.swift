import Foundation

/// `encoding: ecs`: the schema as an Elastic Common Schema document (DESIGN.md §6).
///
/// Identity: `event.id` is our stable id (Elasticsearch also gets it as `_id`) and
/// `event.original` the upstream entry as a JSON string. Fields ECS has no place for live under
/// `audit_forwarder.*`, so nothing is lost and nothing collides with ECS.
public enum ECSEncoding {
    public static let ecsVersion = "8.11.0"

    /// How an event type lands in ECS: its categories, the types it always has, and the type
    /// when neither the action's verb nor the outcome says more.
    struct TypeMapping: Equatable {
        var categories: [String]
        var types: [String]
        var fallbackType: String
    }

    static let typeMappings: [AuditEvent.EventType: TypeMapping] = [
        .authentication: .init(categories: ["authentication"], types: [], fallbackType: "info"),
        .authorization: .init(categories: ["iam"], types: [], fallbackType: "info"),
        .configuration: .init(categories: ["configuration"], types: [], fallbackType: "change"),
        .dataAccess: .init(categories: ["api"], types: ["access"], fallbackType: "access"),
        .security: .init(categories: ["api"], types: [], fallbackType: "info"),
        .other: .init(categories: ["api"], types: [], fallbackType: "info"),
    ]

    /// The action's verb → the ECS event type.
    static let verbTypes: [ActionVerb: String] = [
        .create: "creation", .delete: "deletion", .update: "change", .login: "start", .logout: "end",
        .read: "access", .attach: "change", .detach: "change", .enable: "change", .disable: "change", .lock: "change",
    ]

    static let outcomes: [AuditEvent.Outcome: String] = [
        .success: "success", .failure: "failure", .denied: "failure", .unknown: "unknown",
    ]

    /// `event.severity` is a number; the same scale as OCSF `severity_id`.
    static let severities: [AuditEvent.Severity: Int64] = [.info: 1, .low: 2, .medium: 3, .high: 4, .critical: 5]

    public static func encode(_ event: AuditEvent) -> Data {
        JSONWriter.write(json(event))
    }

    public static func json(_ event: AuditEvent) -> JSONValue {
        let (categories, types) = classification(event)
        let ecsEvent: [String: JSONValue] = [
            "kind": .string("event"),
            "category": .array(categories.map(JSONValue.string)),
            "type": .array(types.map(JSONValue.string)),
            "action": .string(event.action),
            "outcome": .string(outcomes[event.outcome]!),
            "id": .string(event.id),
            "original": .string(EncodingSupport.rawText(event)),
            "created": .string(RFC3339.format(event.receivedAt)),
            "provider": .string(event.source.name),
            "module": .string(event.source.type),
            "dataset": .string(event.source.type + ".audit"),
            "severity": .integer(severities[event.severity]!),
        ]
        var document: [String: JSONValue] = [
            "@timestamp": .string(RFC3339.format(event.time)),
            "ecs": .object(["version": .string(ecsVersion)]),
            "event": .object(ecsEvent),
            "message": .string(EncodingSupport.message(event)),
            "audit_forwarder": leftovers(event),
        ]
        var user: [String: JSONValue] = [:]
        user["id"] = EncodingSupport.string(event.actor.id)
        user["name"] = EncodingSupport.string(event.actor.name)
        user["email"] = EncodingSupport.string(event.actor.email)
        if !user.isEmpty { document["user"] = .object(user) }
        if let ip = event.actor.ip {
            // `source.ip` is mapped as `ip`: anything else would fail the whole document.
            document["source"] = .object([EncodingSupport.isIPAddress(ip) ? "ip" : "address": .string(ip)])
        }
        if let organization = event.organization { document["organization"] = .object(["name": .string(organization)]) }
        return .object(document)
    }

    /// `event.category` and `event.type` from the tables above.
    static func classification(_ event: AuditEvent) -> (categories: [String], types: [String]) {
        let mapping = typeMappings[event.eventType]!
        var categories = mapping.categories
        var types = mapping.types
        let verb = ActionVerb(action: event.action)
        if let verb { types.append(verbTypes[verb]!) }
        if verb == .login || verb == .logout { categories.append("session") }
        if EncodingSupport.isAccount(event.target) { types.append("user") }
        if EncodingSupport.isAdminObject(event.target) { types.append("admin") }
        if event.outcome == .denied { types.append("denied") }
        if event.eventType == .authorization, event.outcome == .success { types.append("allowed") }
        if types.isEmpty { types.append(mapping.fallbackType) }
        return (unique(categories), unique(types))
    }

    /// What ECS has no field for. `changes` is a JSON string: JSON Patch values change type from
    /// one operation to the next, and Elasticsearch's dynamic mapping would refuse the document.
    static func leftovers(_ event: AuditEvent) -> JSONValue {
        var fields: [String: JSONValue] = [
            "source": EncodingSupport.sourceReference(event),
            "event_type": .string(event.eventType.rawValue),
            "severity": .string(event.severity.rawValue),
            "outcome": .string(event.outcome.rawValue),
            "actor_type": .string(event.actor.type.rawValue),
        ]
        fields["target"] = event.target.map(EncodingSupport.target)
        fields["project"] = EncodingSupport.string(event.project)
        if let changes = event.changes { fields["changes"] = .string(String(decoding: JSONWriter.write(.array(changes)), as: UTF8.self)) }
        if !event.details.isEmpty { fields["details"] = .object(event.details) }
        return .object(fields)
    }

    private static func unique(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        return values.filter { seen.insert($0).inserted }
    }
}
