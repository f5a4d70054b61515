import Foundation

/// `encoding: ocsf`: the schema as an OCSF 1.3.0 event (DESIGN.md §6).
///
/// Class by event: Authentication (3002) for authentication events, Account Change (3001) for
/// authorization events whose target is an account, API Activity (6003) for everything else.
/// Only attributes the class defines are written at the top level (the official schemas allow
/// no others); everything else goes to `unmapped`. Identity: `metadata.uid` is our stable id and
/// `raw_data` the upstream entry as a JSON string.
public enum OCSFEncoding {
    public static let version = "1.3.0"
    /// `metadata.log_provider`: who turned the upstream entry into this event.
    public static let logProvider = "audit-forwarder"

    public enum EventClass: Int64, Sendable, CaseIterable {
        case accountChange = 3001
        case authentication = 3002
        case apiActivity = 6003

        public var categoryUID: Int64 { self == .apiActivity ? 6 : 3 }
        var name: String {
            switch self {
            case .accountChange: "Account Change"
            case .authentication: "Authentication"
            case .apiActivity: "API Activity"
            }
        }
        var categoryName: String { self == .apiActivity ? "Application Activity" : "Identity & Access Management" }
    }

    struct Activity: Equatable {
        var id: Int64
        var name: String
    }

    static let other = Activity(id: 99, name: "Other")

    /// The action's verb → the class's activity; a verb a class has no activity for is Other (99).
    static let activities: [EventClass: [ActionVerb: Activity]] = [
        .authentication: [.login: .init(id: 1, name: "Logon"), .logout: .init(id: 2, name: "Logoff")],
        .accountChange: [
            .create: .init(id: 1, name: "Create"), .enable: .init(id: 2, name: "Enable"), .disable: .init(id: 5, name: "Disable"),
            .delete: .init(id: 6, name: "Delete"), .attach: .init(id: 7, name: "Attach Policy"),
            .detach: .init(id: 8, name: "Detach Policy"), .lock: .init(id: 9, name: "Lock"),
        ],
        .apiActivity: [
            .create: .init(id: 1, name: "Create"), .read: .init(id: 2, name: "Read"), .update: .init(id: 3, name: "Update"),
            .delete: .init(id: 4, name: "Delete"), .attach: .init(id: 3, name: "Update"), .detach: .init(id: 3, name: "Update"),
            .enable: .init(id: 3, name: "Update"), .disable: .init(id: 3, name: "Update"), .lock: .init(id: 3, name: "Update"),
        ],
    ]

    static let severities: [AuditEvent.Severity: (id: Int64, name: String)] = [
        .info: (1, "Informational"), .low: (2, "Low"), .medium: (3, "Medium"), .high: (4, "High"), .critical: (5, "Critical"),
    ]

    /// `denied` is a failure to OCSF; `status_detail` keeps the difference.
    static let statuses: [AuditEvent.Outcome: (id: Int64, name: String)] = [
        .success: (1, "Success"), .failure: (2, "Failure"), .denied: (2, "Failure"), .unknown: (0, "Unknown"),
    ]

    /// The top-level attributes this encoder writes for each class (all defined by OCSF 1.3.0).
    static let allowedKeys: [EventClass: Set<String>] = {
        let common: Set<String> = [
            "activity_id", "activity_name", "category_uid", "category_name", "class_uid", "class_name", "type_uid", "type_name",
            "severity_id", "severity", "status_id", "status", "status_detail", "time", "metadata", "message", "raw_data",
            "unmapped", "actor", "src_endpoint",
        ]
        return [
            .authentication: common.union(["user", "service"]),
            .accountChange: common.union(["user"]),
            .apiActivity: common.union(["api", "resources"]),
        ]
    }()

    /// `rawText`, when given, is `raw_data` as it is (the compact text of `event.raw`).
    public static func encode(_ event: AuditEvent, rawText: String? = nil) -> Data {
        JSONWriter.write(json(event, rawText: rawText))
    }

    public static func eventClass(for event: AuditEvent) -> EventClass {
        switch event.eventType {
        case .authentication: .authentication
        case .authorization where EncodingSupport.isAccount(event.target): .accountChange
        default: .apiActivity
        }
    }

    public static func json(_ event: AuditEvent, rawText: String? = nil) -> JSONValue {
        let eventClass = eventClass(for: event)
        let activity = ActionVerb(action: event.action).flatMap { activities[eventClass]![$0] } ?? other
        let severity = severities[event.severity]!
        let status = statuses[event.outcome]!
        var unmapped = leftovers(event)
        var object: [String: JSONValue] = [
            "class_uid": .integer(eventClass.rawValue),
            "class_name": .string(eventClass.name),
            "category_uid": .integer(eventClass.categoryUID),
            "category_name": .string(eventClass.categoryName),
            "activity_id": .integer(activity.id),
            "activity_name": .string(activity.name),
            "type_uid": .integer(eventClass.rawValue * 100 + activity.id),
            "type_name": .string(eventClass.name + ": " + activity.name),
            "severity_id": .integer(severity.id),
            "severity": .string(severity.name),
            "status_id": .integer(status.id),
            "status": .string(status.name),
            "time": .integer(EncodingSupport.epochMilliseconds(event.time)),
            "metadata": metadata(event),
            "message": .string(EncodingSupport.message(event)),
            "raw_data": .string(rawText ?? EncodingSupport.rawText(event)),
        ]
        if event.outcome == .denied { object["status_detail"] = .string("denied") }
        let actor = event.actor
        let actorUser = user(id: actor.id, name: actor.name, email: actor.email, type: actor.type, unmapped: &unmapped)
        let endpoint = sourceEndpoint(event.actor.ip)
        switch eventClass {
        case .authentication:
            object["user"] = actorUser
            object["service"] = .object(["name": .string(event.source.type)])
            object["src_endpoint"] = endpoint
        case .accountChange:
            let target = event.target ?? AuditEvent.Target()
            object["user"] = user(id: target.id, name: target.name, email: nil, type: .unknown, unmapped: &unmapped)
            object["actor"] = .object(["user": actorUser])
            object["src_endpoint"] = endpoint
        case .apiActivity:
            object["actor"] = .object(["user": actorUser])
            object["api"] = .object(["operation": .string(event.action), "service": .object(["name": .string(event.source.type)])])
            // Required here: where the call came from, even when the upstream did not say.
            object["src_endpoint"] = endpoint ?? .object(["name": .string("unknown")])
            if let target = event.target, target.id != nil || target.name != nil {
                var resource: [String: JSONValue] = [:]
                resource["uid"] = EncodingSupport.string(target.id)
                resource["name"] = EncodingSupport.string(target.name)
                resource["type"] = EncodingSupport.string(target.type)
                object["resources"] = .array([.object(resource)])
            }
        }
        object["unmapped"] = .object(unmapped)
        return .object(object)
    }

    static func metadata(_ event: AuditEvent) -> JSONValue {
        let product = EncodingSupport.product(sourceType: event.source.type)
        return .object([
            "product": .object(["name": .string(product.name), "vendor_name": .string(product.vendor)]),
            "version": .string(version),
            "uid": .string(event.id),
            "logged_time": .integer(EncodingSupport.epochMilliseconds(event.receivedAt)),
            "log_provider": .string(logProvider),
        ])
    }

    /// An OCSF `user`. It needs a `uid` or a `name`; an address that fails OCSF's email pattern
    /// is kept in `unmapped` rather than failing the event.
    static func user(
        id: String?, name: String?, email: String?, type: AuditEvent.ActorType, unmapped: inout [String: JSONValue]
    )
        -> JSONValue
    {
        var fields: [String: JSONValue] = [:]
        fields["uid"] = EncodingSupport.string(id)
        fields["name"] = EncodingSupport.string(name)
        if let email {
            if EncodingSupport.isEmail(email) {
                fields["email_addr"] = .string(email)
            } else {
                unmapped["actor_email"] = .string(email)
            }
        }
        if id == nil && name == nil { fields["name"] = .string(email ?? "unknown") }
        switch type {
        case .user: (fields["type_id"], fields["type"]) = (.integer(1), .string("User"))
        case .serviceAccount: (fields["type_id"], fields["type"]) = (.integer(99), .string("Service Account"))
        case .unknown: break
        }
        return .object(fields)
    }

    /// `src_endpoint` when the upstream gave an address: `ip` when it is one (the schema has a
    /// pattern), its `name` otherwise.
    static func sourceEndpoint(_ address: String?) -> JSONValue? {
        guard let address, !address.isEmpty else { return nil }
        return .object([EncodingSupport.isIPAddress(address) ? "ip" : "name": .string(address)])
    }

    /// The schema fields OCSF has no attribute for, plus the originals of the mapped enums.
    static func leftovers(_ event: AuditEvent) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "source": EncodingSupport.sourceReference(event),
            "event_type": .string(event.eventType.rawValue),
            "action": .string(event.action),
            "outcome": .string(event.outcome.rawValue),
            "severity": .string(event.severity.rawValue),
        ]
        fields["target"] = event.target.map(EncodingSupport.target)
        fields["organization"] = EncodingSupport.string(event.organization)
        fields["project"] = EncodingSupport.string(event.project)
        fields["changes"] = event.changes.map(JSONValue.array)
        if !event.details.isEmpty { fields["details"] = .object(event.details) }
        return fields
    }
}
