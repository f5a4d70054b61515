import Foundation

/// One Pydantic Logfire audit log record, as the emulator stores and serves it.
public struct LogfireEntry: Sendable, Equatable {
    /// A UUID string.
    public var id: String
    /// Served in UTC with microseconds, or without a fraction when it is zero (as Pydantic
    /// writes datetimes); the emulator keeps the nearest microsecond.
    public var createdAt: Date
    public var organizationName: String
    public var projectName: String?
    public var userName: String
    /// `LOGIN`, `LOGOUT`, `INSERT`, `UPDATE` or `DELETE`.
    public var action: String
    /// e.g. `projects`, `read_tokens`, `write_tokens`.
    public var resourceType: String?
    public var recordID: String?
    public var ipAddress: String?
    /// JSON text (a JSON Patch array) served verbatim by the detail route only; nil is `null`.
    public var downgradePatches: String?
    /// JSON text served verbatim by the detail route only; nil is `null`.
    public var metadata: String?

    public init(
        id: String,
        createdAt: Date,
        organizationName: String = "acme-org",
        projectName: String? = nil,
        userName: String = "alice",
        action: String = "LOGIN",
        resourceType: String? = nil,
        recordID: String? = nil,
        ipAddress: String? = nil,
        downgradePatches: String? = nil,
        metadata: String? = nil
    ) {
        self.id = id
        self.createdAt = createdAt
        self.organizationName = organizationName
        self.projectName = projectName
        self.userName = userName
        self.action = action
        self.resourceType = resourceType
        self.recordID = recordID
        self.ipAddress = ipAddress
        self.downgradePatches = downgradePatches
        self.metadata = metadata
    }

    /// The wire form of PROTOCOLS.md; `detail` adds `downgrade_patches` and `metadata`,
    /// which the list route does not carry.
    func json(detail: Bool) -> String {
        func nullable(_ text: String?) -> String { text.map(JSONText.quote) ?? "null" }
        var out = #"{"id":"# + JSONText.quote(id)
        out += #","created_at":"# + JSONText.quote(RFC3339.format(microseconds: RFC3339.microseconds(createdAt)))
        out += #","organization_name":"# + JSONText.quote(organizationName)
        out += #","project_name":"# + nullable(projectName)
        out += #","user_name":"# + JSONText.quote(userName)
        out += #","action":"# + JSONText.quote(action)
        out += #","resource_type":"# + nullable(resourceType)
        out += #","record_id":"# + nullable(recordID)
        out += #","ip_address":"# + nullable(ipAddress)
        if detail {
            out += #","downgrade_patches":"# + (downgradePatches ?? "null")
            out += #","metadata":"# + (metadata ?? "null")
        }
        return out + "}"
    }
}

/// A stored record with its sort key worked out once.
struct StoredLogfireEntry: TimeOrdered {
    var entry: LogfireEntry
    /// Microseconds since the epoch.
    var orderTime: Int64
    var orderID: String { entry.id }

    init(_ entry: LogfireEntry) {
        var entry = entry
        self.orderTime = RFC3339.microseconds(entry.createdAt)
        entry.createdAt = RFC3339.date(microseconds: orderTime)
        self.entry = entry
    }
}
