import Foundation

/// One Slack Audit Logs API entry, as the emulator stores and serves it.
public struct SlackAuditEntry: Sendable, Equatable {
    /// The acting user: `actor.user` on the wire (`actor.type` is always `user`).
    public struct User: Sendable, Equatable {
        public var id: String
        public var name: String
        public var email: String

        public init(id: String, name: String, email: String) {
            self.id = id
            self.name = name
            self.email = email
        }
    }

    /// What was acted on: `{"type": T, "<T>": {"id", "name", …}}`. The optional members are
    /// served when set, for the types that have them.
    public struct Entity: Sendable, Equatable {
        /// `user`, `channel`, `file`, `workspace` or `app`.
        public var type: String
        public var id: String
        public var name: String
        /// `user`.
        public var email: String?
        /// `workspace`.
        public var domain: String?
        /// `channel`: `public` or `private`.
        public var privacy: String?
        /// `file`.
        public var filetype: String?
        public var title: String?
        /// `app`: the OAuth scopes granted.
        public var scopes: [String]?

        public init(
            type: String, id: String, name: String, email: String? = nil, domain: String? = nil,
            privacy: String? = nil, filetype: String? = nil, title: String? = nil, scopes: [String]? = nil
        ) {
            self.type = type
            self.id = id
            self.name = name
            self.email = email
            self.domain = domain
            self.privacy = privacy
            self.filetype = filetype
            self.title = title
            self.scopes = scopes
        }

        public static func user(_ user: User) -> Entity {
            Entity(type: "user", id: user.id, name: user.name, email: user.email)
        }

        public static func channel(id: String, name: String, privacy: String = "public") -> Entity {
            Entity(type: "channel", id: id, name: name, privacy: privacy)
        }

        public static func file(id: String, name: String, filetype: String, title: String) -> Entity {
            Entity(type: "file", id: id, name: name, filetype: filetype, title: title)
        }

        public static func workspace(id: String, name: String, domain: String) -> Entity {
            Entity(type: "workspace", id: id, name: name, domain: domain)
        }

        public static func app(id: String, name: String, scopes: [String]) -> Entity {
            Entity(type: "app", id: id, name: name, scopes: scopes)
        }
    }

    /// `context.location`: the workspace or Enterprise Grid org the action happened in.
    public struct Location: Sendable, Equatable {
        /// `workspace` or `enterprise`.
        public var type: String
        public var id: String
        public var name: String
        public var domain: String

        public init(type: String = "workspace", id: String, name: String, domain: String) {
            self.type = type
            self.id = id
            self.name = name
            self.domain = domain
        }
    }

    /// A UUID-shaped string.
    public var id: String
    /// Served as `date_create`, whole unix seconds; the emulator drops any fraction.
    public var dateCreate: Date
    /// e.g. `user_login`, `file_downloaded`, `role_change_to_admin`.
    public var action: String
    public var actor: User
    public var entity: Entity
    public var location: Location
    /// `context.ua`, `context.ip_address`, `context.session_id`: left out when nil.
    public var userAgent: String?
    public var ipAddress: String?
    public var sessionID: String?
    /// The `details` object as JSON text, served verbatim; left out when nil.
    public var details: String?

    /// `entity` defaults to the actor (a user acting on themselves: a login).
    public init(
        id: String,
        dateCreate: Date,
        action: String = "user_login",
        actor: User = User(id: "W012A3CDE", name: "Alice Adams", email: "alice@acme.example"),
        entity: Entity? = nil,
        location: Location = Location(id: "T0ACME001", name: "Acme", domain: "acme"),
        userAgent: String? = nil,
        ipAddress: String? = nil,
        sessionID: String? = nil,
        details: String? = nil
    ) {
        self.id = id
        self.dateCreate = dateCreate
        self.action = action
        self.actor = actor
        self.entity = entity ?? .user(actor)
        self.location = location
        self.userAgent = userAgent
        self.ipAddress = ipAddress
        self.sessionID = sessionID
        self.details = details
    }

    /// The wire form of the Audit Logs API.
    func json() -> String {
        var out = #"{"id":"# + JSONText.quote(id)
        out += #","date_create":"# + String(Int64(dateCreate.timeIntervalSince1970.rounded(.down)))
        out += #","action":"# + JSONText.quote(action)
        out += #","actor":{"type":"user","user":"# + user(actor) + "}"
        out += #","entity":{"type":"# + JSONText.quote(entity.type) + "," + JSONText.quote(entity.type) + ":" + entityBody() + "}"
        out += #","context":{"location":{"type":"# + JSONText.quote(location.type)
        out += #","id":"# + JSONText.quote(location.id)
        out += #","name":"# + JSONText.quote(location.name)
        out += #","domain":"# + JSONText.quote(location.domain) + "}"
        if let userAgent { out += #","ua":"# + JSONText.quote(userAgent) }
        if let ipAddress { out += #","ip_address":"# + JSONText.quote(ipAddress) }
        if let sessionID { out += #","session_id":"# + JSONText.quote(sessionID) }
        out += "}"
        if let details { out += #","details":"# + details }
        return out + "}"
    }

    private func user(_ user: User) -> String {
        var out = #"{"id":"# + JSONText.quote(user.id)
        out += #","name":"# + JSONText.quote(user.name)
        return out + #","email":"# + JSONText.quote(user.email) + "}"
    }

    private func entityBody() -> String {
        var out = #"{"id":"# + JSONText.quote(entity.id)
        if let privacy = entity.privacy { out += #","privacy":"# + JSONText.quote(privacy) }
        out += #","name":"# + JSONText.quote(entity.name)
        if let email = entity.email { out += #","email":"# + JSONText.quote(email) }
        if let domain = entity.domain { out += #","domain":"# + JSONText.quote(domain) }
        if let filetype = entity.filetype { out += #","filetype":"# + JSONText.quote(filetype) }
        if let title = entity.title { out += #","title":"# + JSONText.quote(title) }
        if entity.type == "channel" { out += #","is_shared":false,"is_org_shared":false"# }
        if let scopes = entity.scopes {
            out += #","is_distributed":false,"is_directory_approved":true,"scopes":["# + scopes.map(JSONText.quote).joined(separator: ",") + "]"
        }
        return out + "}"
    }
}

/// A stored entry with its sort key and its wire form worked out once.
struct StoredSlackEntry: TimeOrdered {
    var entry: SlackAuditEntry
    /// Whole unix seconds.
    var orderTime: Int64
    var orderID: String { entry.id }
    let json: String

    init(_ entry: SlackAuditEntry) {
        var entry = entry
        self.orderTime = Int64(entry.dateCreate.timeIntervalSince1970.rounded(.down))
        // Keep what is served, so a stored entry compares equal to one decoded from a page.
        entry.dateCreate = Date(timeIntervalSince1970: Double(orderTime))
        self.entry = entry
        self.json = entry.json()
    }
}
