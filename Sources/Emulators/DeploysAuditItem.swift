import Foundation

/// One deploys.app audit log entry, as the emulator stores and serves it.
public struct DeploysAuditItem: Sendable, Equatable {
    public var id: Int64
    public var resourceType: String
    public var resourceID: String
    public var resourceName: String
    public var locationID: String
    public var actorEmail: String
    /// `User` or `ServiceAccount`.
    public var actorType: String
    public var actorLabel: String
    /// `api`, `console`, `mcp` or `cli`.
    public var channel: String
    /// e.g. `deployment.deploy`.
    public var action: String
    /// `success`, `forbidden` or `error`.
    public var outcome: String
    public var detail: String
    /// Served as RFC 3339 with second precision in UTC (`2026-05-01T10:30:00Z`);
    /// the emulator drops any fraction when the item is stored.
    public var createdAt: Date

    public init(
        id: Int64,
        resourceType: String = "deployment",
        resourceID: String = "api",
        resourceName: String = "api",
        locationID: String = "gke.cluster-rcf2",
        actorEmail: String = "alice@acme.example",
        actorType: String = "User",
        actorLabel: String = "Alice",
        channel: String = "console",
        action: String = "deployment.deploy",
        outcome: String = "success",
        detail: String = "",
        createdAt: Date
    ) {
        self.id = id
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.resourceName = resourceName
        self.locationID = locationID
        self.actorEmail = actorEmail
        self.actorType = actorType
        self.actorLabel = actorLabel
        self.channel = channel
        self.action = action
        self.outcome = outcome
        self.detail = detail
        self.createdAt = createdAt
    }

    /// Whole seconds since the epoch: the precision the server keeps and compares.
    var createdAtSeconds: Int64 { Int64(createdAt.timeIntervalSince1970.rounded(.down)) }

    /// The wire form from PROTOCOLS.md, keys in the documented order.
    var json: String {
        var out = #"{"id":"# + String(id)
        out += #","resource":{"type":"# + JSONText.quote(resourceType)
        out += #","id":"# + JSONText.quote(resourceID)
        out += #","name":"# + JSONText.quote(resourceName)
        out += #","locationId":"# + JSONText.quote(locationID)
        out += #"},"actor":{"email":"# + JSONText.quote(actorEmail)
        out += #","type":"# + JSONText.quote(actorType)
        out += #","label":"# + JSONText.quote(actorLabel)
        out += #"},"channel":"# + JSONText.quote(channel)
        out += #","action":"# + JSONText.quote(action)
        out += #","outcome":"# + JSONText.quote(outcome)
        out += #","detail":"# + JSONText.quote(detail)
        out += #","createdAt":"# + JSONText.quote(RFC3339.format(seconds: createdAtSeconds))
        out += "}"
        return out
    }
}
