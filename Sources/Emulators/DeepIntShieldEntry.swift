import Crypto
import Foundation

/// One DeepIntShield audit log entry, as the emulator stores and serves it.
public struct DeepIntShieldEntry: Sendable, Equatable {
    public struct Actor: Sendable, Equatable {
        public var userID: String
        public var email: String
        public var ipAddress: String

        public init(userID: String = "usr_alice", email: String = "alice@acme.example", ipAddress: String = "203.0.113.10") {
            self.userID = userID
            self.email = email
            self.ipAddress = ipAddress
        }
    }

    public struct Verification: Sendable, Equatable {
        /// `sha256:<64 hex digits>`.
        public var hash: String
        public var verified: Bool
        public var verificationMethod: String

        public init(hash: String, verified: Bool = true, verificationMethod: String = "hash_chain") {
            self.hash = hash
            self.verified = verified
            self.verificationMethod = verificationMethod
        }
    }

    public var eventID: String
    public var workspaceID: String
    /// Served as RFC 3339 in UTC with milliseconds; the emulator keeps the nearest millisecond.
    public var timestamp: Date
    /// `authentication`, `authorization`, `configuration_change`, `data_access`,
    /// `security_event` or `security_incident`.
    public var eventType: String
    public var action: String
    /// `success`, `failed`, `denied` or `blocked`.
    public var status: String
    /// `low`, `medium`, `high` or `critical`.
    public var severity: String
    public var resourceType: String
    public var resourceID: String
    /// Milliseconds, like `timestamp`.
    public var createdAt: Date
    public var actor: Actor
    /// The `details` object as JSON text, served verbatim. Default: `{}`.
    public var details: String
    public var verification: Verification

    /// `createdAt` defaults to `timestamp`; `verification` to a verified `sha256:` of the event id.
    public init(
        eventID: String,
        workspaceID: String = "ws_acme",
        timestamp: Date,
        eventType: String = "authentication",
        action: String = "login",
        status: String = "success",
        severity: String = "low",
        resourceType: String = "session",
        resourceID: String = "sess_1",
        createdAt: Date? = nil,
        actor: Actor = Actor(),
        details: String = "{}",
        verification: Verification? = nil
    ) {
        self.eventID = eventID
        self.workspaceID = workspaceID
        self.timestamp = timestamp
        self.eventType = eventType
        self.action = action
        self.status = status
        self.severity = severity
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.createdAt = createdAt ?? timestamp
        self.actor = actor
        self.details = details
        self.verification = verification ?? Verification(hash: Self.sha256(eventID))
    }

    /// `sha256:` and the hex digest of `text`.
    static func sha256(_ text: String) -> String {
        "sha256:"
            + SHA256.hash(data: Data(text.utf8)).map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined()
    }

    /// The wire form of PROTOCOLS.md, keys in the documented order; `details` is left out
    /// when the query asked for `include_details: false`.
    func json(includeDetails: Bool = true) -> String {
        var out = #"{"event_id":"# + JSONText.quote(eventID)
        out += #","workspace_id":"# + JSONText.quote(workspaceID)
        out += #","timestamp":"# + JSONText.quote(RFC3339.format(milliseconds: RFC3339.milliseconds(timestamp)))
        out += #","event_type":"# + JSONText.quote(eventType)
        out += #","action":"# + JSONText.quote(action)
        out += #","status":"# + JSONText.quote(status)
        out += #","severity":"# + JSONText.quote(severity)
        out += #","resource_type":"# + JSONText.quote(resourceType)
        out += #","resource_id":"# + JSONText.quote(resourceID)
        out += #","created_at":"# + JSONText.quote(RFC3339.format(milliseconds: RFC3339.milliseconds(createdAt)))
        out += #","actor":{"user_id":"# + JSONText.quote(actor.userID)
        out += #","email":"# + JSONText.quote(actor.email)
        out += #","ip_address":"# + JSONText.quote(actor.ipAddress) + "}"
        if includeDetails { out += #","details":"# + details }
        out += #","verification":{"hash":"# + JSONText.quote(verification.hash)
        out += #","verified":"# + (verification.verified ? "true" : "false")
        out += #","verification_method":"# + JSONText.quote(verification.verificationMethod) + "}}"
        return out
    }
}

/// A stored entry with its sort key worked out once.
struct StoredShieldEntry: TimeOrdered {
    var entry: DeepIntShieldEntry
    /// Milliseconds since the epoch.
    var orderTime: Int64
    var orderID: String { entry.eventID }

    init(_ entry: DeepIntShieldEntry) {
        var entry = entry
        // Keep what is served, so a stored entry compares equal to one decoded from a page.
        entry.timestamp = RFC3339.date(milliseconds: RFC3339.milliseconds(entry.timestamp))
        entry.createdAt = RFC3339.date(milliseconds: RFC3339.milliseconds(entry.createdAt))
        self.entry = entry
        self.orderTime = RFC3339.milliseconds(entry.timestamp)
    }
}
