import Foundation
import Synchronization

/// `encoding: ecs`: the schema as an Elastic Common Schema document (DESIGN.md §6).
///
/// Identity: `event.id` is our stable id (Elasticsearch also gets it as `_id`) and
/// `event.original` the upstream entry as a JSON string. Fields ECS has no place for live under
/// `audit_forwarder.*`, so nothing is lost and nothing collides with ECS.
public enum ECSEncoding {
    public static let ecsVersion = "8.11.0"

    /// How an event type lands in ECS: its category, and the type when neither the action's verb,
    /// the target nor the outcome says more. Authorization events split two ways: a change to
    /// who may do what (a role assigned, a user created) is `iam`; a decision on a request (an
    /// access allowed or denied) is `api`, the category whose types include `allowed` and `denied`.
    struct TypeMapping: Equatable {
        var category: String
        var fallbackType: String
    }

    static let typeMappings: [AuditEvent.EventType: TypeMapping] = [
        .authentication: .init(category: "authentication", fallbackType: "info"),
        .authorization: .init(category: "iam", fallbackType: "info"),
        .configuration: .init(category: "configuration", fallbackType: "change"),
        .dataAccess: .init(category: "api", fallbackType: "access"),
        .security: .init(category: "api", fallbackType: "info"),
        .other: .init(category: "api", fallbackType: "info"),
    ]

    /// ECS 8.11's expected `event.type` values for each category we use: a type outside its
    /// category's list is left out (every category of an event must expect each of its types).
    static let expectedTypes: [String: Set<String>] = [
        "authentication": ["start", "end", "info"],
        "session": ["start", "end", "info"],
        "configuration": ["access", "change", "creation", "deletion", "info"],
        "iam": ["admin", "change", "creation", "deletion", "group", "info", "user"],
        "api": [
            "access", "admin", "allowed", "change", "creation", "deletion", "denied", "end", "info", "installation",
            "protocol", "start", "user",
        ],
    ]

    /// Verbs that change who may do what: an authorization event with one of them is `iam`.
    static let iamVerbs: Set<ActionVerb> = [.create, .delete, .update, .attach, .detach, .enable, .disable, .lock]

    /// Words of an action that record a refusal (`access_denied`, `request.blocked`), whatever
    /// the upstream put in its outcome field.
    static let refusalWords: Set<String> = ["deny", "denied", "reject", "rejected", "block", "blocked", "forbidden", "unauthorized"]

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

    /// Written field by field, keys in sorted order (it runs once per event per ECS sink: building
    /// and sorting a dictionary tree was most of the Elasticsearch sink's CPU); the bytes equal
    /// `JSONWriter.write(json(event))`, which a test holds it to. `rawText`, when given, is
    /// `event.original` as it is (the compact text of `event.raw`, e.g. the spooled payload's).
    public static func encode(_ event: AuditEvent, rawText: String? = nil) -> Data {
        let (categories, types) = classification(event)
        var writer = JSONFieldWriter(capacity: 2048)
        writer.beginObject()
        writer.field("@timestamp", RFC3339.format(event.time))
        writer.object("audit_forwarder") { writeLeftovers(of: event, into: &$0) }
        writer.object("ecs") { $0.field("version", ecsVersion) }
        writer.object("event") { fields in
            fields.field("action", event.action)
            fields.field("category", strings: categories)
            fields.field("created", RFC3339.format(event.receivedAt))
            fields.field("dataset", event.source.type + ".audit")
            fields.field("id", event.id)
            fields.field("kind", "event")
            fields.field("module", event.source.type)
            fields.field("original", rawText ?? EncodingSupport.rawText(event))
            fields.field("outcome", outcomes[event.outcome]!)
            fields.field("provider", event.source.name)
            fields.field("severity", integer: severities[event.severity]!)
            fields.field("type", strings: types)
        }
        writer.field("message", EncodingSupport.message(event))
        if let organization = event.organization { writer.object("organization") { $0.field("name", organization) } }
        if let ip = event.actor.ip {
            writer.object("source") { fields in
                if EncodingSupport.isIPAddress(ip) { fields.field("ip", ip) } else { fields.field("address", ip) }
            }
        }
        if event.actor.email != nil || event.actor.id != nil || event.actor.name != nil {
            writer.object("user") { fields in
                fields.field("email", event.actor.email)
                fields.field("id", event.actor.id)
                fields.field("name", event.actor.name)
            }
        }
        writer.endObject()
        return Data(writer.bytes)
    }

    /// `leftovers(event)`'s fields, written in sorted order.
    private static func writeLeftovers(of event: AuditEvent, into writer: inout JSONFieldWriter) {
        writer.field("actor_type", event.actor.type.rawValue)
        if let changes = event.changes { writer.field("changes", String(decoding: JSONWriter.write(.array(changes)), as: UTF8.self)) }
        if !event.details.isEmpty { writer.field("details", json: .object(event.details)) }
        writer.field("event_type", event.eventType.rawValue)
        writer.field("outcome", event.outcome.rawValue)
        writer.field("project", event.project)
        writer.field("severity", event.severity.rawValue)
        writer.source("source", event.source)
        if let target = event.target { writer.target("target", target) }
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

    /// What the classification depends on: an upstream repeats a few dozen combinations.
    private struct ClassificationKey: Hashable {
        var eventType: AuditEvent.EventType
        var action: String
        var outcome: AuditEvent.Outcome
        var targetType: String?
    }

    /// Classifications already made (cutting actions into words was a tenth of an ECS sink's
    /// CPU). Bounded: emptied when full, for upstreams whose actions carry ids.
    private static let classifications = Mutex<[ClassificationKey: (categories: [String], types: [String])]>([:])
    private static let classificationsKept = 4096

    /// `event.category` and `event.type` from the tables above.
    static func classification(_ event: AuditEvent) -> (categories: [String], types: [String]) {
        let key = ClassificationKey(eventType: event.eventType, action: event.action, outcome: event.outcome, targetType: event.target?.type)
        if let known = classifications.withLock({ $0[key] }) { return known }
        let made = classifying(event)
        classifications.withLock { known in
            if known.count >= classificationsKept { known.removeAll(keepingCapacity: true) }
            known[key] = made
        }
        return made
    }

    private static func classifying(_ event: AuditEvent) -> (categories: [String], types: [String]) {
        let mapping = typeMappings[event.eventType]!
        let verb = ActionVerb(action: event.action)
        var category = mapping.category
        if event.eventType == .authorization, !(verb.map(iamVerbs.contains) ?? false) { category = "api" }
        var categories = [category]
        if verb == .login || verb == .logout { categories.append("session") }
        var types: [String] = []
        if let verb { types.append(verbTypes[verb]!) }
        if EncodingSupport.isAccount(event.target) { types.append("user") }
        if EncodingSupport.isAdminObject(event.target) { types.append("admin") }
        let refused = event.outcome == .denied || ActionVerb.split(event.action).contains(where: refusalWords.contains)
        if refused {
            types.append("denied")
        } else if event.eventType == .authorization, event.outcome == .success {
            types.append("allowed")
        }
        let expected = { (type: String) in categories.allSatisfy { expectedTypes[$0]!.contains(type) } }
        types = types.filter(expected)
        // `info` is expected by every category we use: the fallback when the type's own is not.
        if types.isEmpty { types.append(expected(mapping.fallbackType) ? mapping.fallbackType : "info") }
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
