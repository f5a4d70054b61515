import Foundation

/// One GitHub audit log event, as the emulator stores and serves it (enterprise and
/// organization audit-log REST API).
public struct GitHubAuditEvent: Sendable, Equatable {
    /// `_document_id`: the event's id, opaque and not in time order.
    public var documentID: String
    /// Served as epoch milliseconds in both `@timestamp` and `created_at`; kept to the millisecond.
    public var timestamp: Date
    /// e.g. `org.add_member`, `repo.create`, `git.clone`. `git.*` events are only served with
    /// `include=git` or `include=all`.
    public var action: String
    public var actor: String
    public var actorID: Int
    /// Left out when nil (IP disclosure off), like the other optional fields.
    public var actorIP: String?
    /// `actor_location.country_code`.
    public var actorCountryCode: String?
    /// The user acted upon (`org.add_member`'s new member).
    public var user: String?
    /// nil for enterprise-level events (`business.*`), which only the enterprise route serves.
    public var org: String?
    /// `org/name`.
    public var repo: String?
    /// The enterprise slug.
    public var business: String
    /// `create`, `modify`, `remove`, `access`, `authentication` or `transfer`.
    public var operationType: String
    /// `http` or `ssh`, on `git.*` events.
    public var transportProtocolName: String?

    public init(
        documentID: String,
        timestamp: Date,
        action: String = "org.add_member",
        actor: String = "mona",
        actorID: Int = 1001,
        actorIP: String? = nil,
        actorCountryCode: String? = nil,
        user: String? = nil,
        org: String? = "acme-org",
        repo: String? = nil,
        business: String = "acme",
        operationType: String = "create",
        transportProtocolName: String? = nil
    ) {
        self.documentID = documentID
        self.timestamp = timestamp
        self.action = action
        self.actor = actor
        self.actorID = actorID
        self.actorIP = actorIP
        self.actorCountryCode = actorCountryCode
        self.user = user
        self.org = org
        self.repo = repo
        self.business = business
        self.operationType = operationType
        self.transportProtocolName = transportProtocolName
    }

    /// True for `git.*`, which `include=web` (the default) leaves out.
    var isGit: Bool { action.hasPrefix("git.") }

    /// Keys in GitHub's (alphabetical) order; absent optionals are left out, not `null`.
    var json: String {
        let millis = String(RFC3339.milliseconds(timestamp))
        var out = #"{"@timestamp":"# + millis
        out += #","_document_id":"# + JSONText.quote(documentID)
        out += #","action":"# + JSONText.quote(action)
        out += #","actor":"# + JSONText.quote(actor)
        out += #","actor_id":"# + String(actorID)
        if let actorIP { out += #","actor_ip":"# + JSONText.quote(actorIP) }
        if let actorCountryCode { out += #","actor_location":{"country_code":"# + JSONText.quote(actorCountryCode) + "}" }
        out += #","business":"# + JSONText.quote(business)
        out += #","created_at":"# + millis
        out += #","operation_type":"# + JSONText.quote(operationType)
        if let org { out += #","org":"# + JSONText.quote(org) }
        if let repo { out += #","repo":"# + JSONText.quote(repo) }
        if let transportProtocolName { out += #","transport_protocol_name":"# + JSONText.quote(transportProtocolName) }
        if let user { out += #","user":"# + JSONText.quote(user) }
        return out + "}"
    }
}

/// A stored event with its sort key worked out once.
struct StoredGitHubAuditEvent: TimeOrdered {
    var event: GitHubAuditEvent
    /// Milliseconds since the epoch.
    var orderTime: Int64
    var orderID: String { event.documentID }

    init(_ event: GitHubAuditEvent) {
        var event = event
        self.orderTime = RFC3339.milliseconds(event.timestamp)
        event.timestamp = RFC3339.date(milliseconds: orderTime)
        self.event = event
    }
}
