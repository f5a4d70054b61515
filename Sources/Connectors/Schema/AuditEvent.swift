import Foundation

/// The one event schema every upstream entry is normalized into (DESIGN.md §6).
public struct AuditEvent: Sendable, Equatable {
    /// Stable across re-fetches: sha256 of the source name and the upstream id (see `AuditEvent.stableID`).
    public var id: String
    public var time: Date
    public var receivedAt: Date
    public var source: SourceReference
    public var eventType: EventType
    /// Verbatim from upstream.
    public var action: String
    public var outcome: Outcome
    public var severity: Severity
    public var actor: Actor
    public var target: Target?
    public var organization: String?
    public var project: String?
    public var message: String?
    /// JSON Patch operations, when the upstream describes a change.
    public var changes: [JSONValue]?
    /// Upstream extras that have no field above.
    public var details: [String: JSONValue]
    /// The upstream entry, untouched. Null when a connector read the entry without a tree and
    /// kept its text instead (`NormalizedEntry.rawText`, deploys.app): the spool writes `raw`
    /// from that text, so what sinks receive is the same either way.
    public var raw: JSONValue

    public init(
        id: String, time: Date, receivedAt: Date, source: SourceReference, eventType: EventType, action: String,
        outcome: Outcome, severity: Severity, actor: Actor, target: Target? = nil, organization: String? = nil,
        project: String? = nil, message: String? = nil, changes: [JSONValue]? = nil,
        details: [String: JSONValue] = [:], raw: JSONValue
    ) {
        self.id = id
        self.time = time
        self.receivedAt = receivedAt
        self.source = source
        self.eventType = eventType
        self.action = action
        self.outcome = outcome
        self.severity = severity
        self.actor = actor
        self.target = target
        self.organization = organization
        self.project = project
        self.message = message
        self.changes = changes
        self.details = details
        self.raw = raw
    }

    public struct SourceReference: Sendable, Equatable, Codable {
        public var name: String
        public var type: String
        /// The upstream's own id of the entry.
        public var eventID: String

        public init(name: String, type: String, eventID: String) {
            self.name = name
            self.type = type
            self.eventID = eventID
        }

        enum CodingKeys: String, CodingKey {
            case name, type
            case eventID = "event_id"
        }
    }

    public enum EventType: String, Sendable, Codable, CaseIterable {
        case authentication, authorization, configuration
        case dataAccess = "data_access"
        case security, other
    }

    public enum Outcome: String, Sendable, Codable, CaseIterable {
        case success, failure, denied, unknown
    }

    public enum Severity: String, Sendable, Codable, CaseIterable {
        case info, low, medium, high, critical
    }

    public struct Actor: Sendable, Equatable, Codable {
        public var id: String?
        public var name: String?
        public var email: String?
        public var type: ActorType
        public var ip: String?

        public init(id: String? = nil, name: String? = nil, email: String? = nil, type: ActorType = .unknown, ip: String? = nil) {
            self.id = id
            self.name = name
            self.email = email
            self.type = type
            self.ip = ip
        }
    }

    public enum ActorType: String, Sendable, Codable, CaseIterable {
        case user
        case serviceAccount = "service_account"
        case unknown
    }

    public struct Target: Sendable, Equatable, Codable {
        public var type: String?
        public var id: String?
        public var name: String?
        public var location: String?

        public init(type: String? = nil, id: String? = nil, name: String? = nil, location: String? = nil) {
            self.type = type
            self.id = id
            self.name = name
            self.location = location
        }
    }
}

extension AuditEvent: Codable {
    enum CodingKeys: String, CodingKey {
        case id, time
        case receivedAt = "received_at"
        case source
        case eventType = "event_type"
        case action, outcome, severity, actor, target, organization, project, message, changes, details, raw
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        time = try RFC3339.decode(c, .time)
        receivedAt = try RFC3339.decode(c, .receivedAt)
        source = try c.decode(SourceReference.self, forKey: .source)
        eventType = try c.decode(EventType.self, forKey: .eventType)
        action = try c.decode(String.self, forKey: .action)
        outcome = try c.decode(Outcome.self, forKey: .outcome)
        severity = try c.decode(Severity.self, forKey: .severity)
        actor = try c.decode(Actor.self, forKey: .actor)
        target = try c.decodeIfPresent(Target.self, forKey: .target)
        organization = try c.decodeIfPresent(String.self, forKey: .organization)
        project = try c.decodeIfPresent(String.self, forKey: .project)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        changes = try c.decodeIfPresent([JSONValue].self, forKey: .changes)
        details = try c.decodeIfPresent([String: JSONValue].self, forKey: .details) ?? [:]
        raw = try c.decode(JSONValue.self, forKey: .raw)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(RFC3339.format(time), forKey: .time)
        try c.encode(RFC3339.format(receivedAt), forKey: .receivedAt)
        try c.encode(source, forKey: .source)
        try c.encode(eventType, forKey: .eventType)
        try c.encode(action, forKey: .action)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(severity, forKey: .severity)
        try c.encode(actor, forKey: .actor)
        try c.encodeIfPresent(target, forKey: .target)
        try c.encodeIfPresent(organization, forKey: .organization)
        try c.encodeIfPresent(project, forKey: .project)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(changes, forKey: .changes)
        try c.encode(details, forKey: .details)
        try c.encode(raw, forKey: .raw)
    }
}
