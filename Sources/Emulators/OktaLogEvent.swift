import Foundation

/// One Okta System Log event (`LogEvent`), as the emulator stores and serves it.
public struct OktaLogEvent: Sendable, Equatable {
    /// The actor, or one target: `{id, type, alternateId, displayName}`.
    public struct Entity: Sendable, Equatable {
        public var id: String
        /// Actors: `User`, `SystemPrincipal`, `PublicClientApp`; targets also `AppInstance`,
        /// `UserGroup`, `AppUser`, `PolicyEntity`, `PolicyRule`, `Token`, …
        public var type: String
        /// An email for users; a name for others.
        public var alternateID: String
        public var displayName: String

        public init(id: String, type: String = "User", alternateID: String, displayName: String) {
            self.id = id
            self.type = type
            self.alternateID = alternateID
            self.displayName = displayName
        }
    }

    /// Where the request came from; nil fields are `null` (a `SystemPrincipal` has none).
    public struct Client: Sendable, Equatable {
        public var ipAddress: String?
        public var rawUserAgent: String?
        public var os: String?
        public var browser: String?
        public var city: String?
        public var country: String?

        public init(
            ipAddress: String? = nil,
            rawUserAgent: String? = nil,
            os: String? = nil,
            browser: String? = nil,
            city: String? = nil,
            country: String? = nil
        ) {
            self.ipAddress = ipAddress
            self.rawUserAgent = rawUserAgent
            self.os = os
            self.browser = browser
            self.city = city
            self.country = country
        }
    }

    public struct Outcome: Sendable, Equatable {
        /// `SUCCESS`, `FAILURE`, `SKIPPED`, `ALLOW`, `DENY`, `CHALLENGE` or `UNKNOWN`.
        public var result: String
        /// nil is `null`.
        public var reason: String?

        public init(result: String = "SUCCESS", reason: String? = nil) {
            self.result = result
            self.reason = reason
        }
    }

    public struct Transaction: Sendable, Equatable {
        /// `WEB` (a request) or `JOB` (background work).
        public var type: String
        public var id: String

        public init(type: String = "WEB", id: String) {
            self.type = type
            self.id = id
        }
    }

    public var uuid: String
    /// Served as RFC 3339 in UTC with exactly three fraction digits; kept to the millisecond.
    public var published: Date
    /// e.g. `user.session.start`, `user.lifecycle.create`, `policy.evaluate_sign_on`.
    public var eventType: String
    public var displayMessage: String
    /// `DEBUG`, `INFO`, `WARN` or `ERROR`.
    public var severity: String
    public var outcome: Outcome
    public var actor: Entity
    public var client: Client
    /// Served as `null` when empty, as Okta does for events without a target.
    public var target: [Entity]
    public var transaction: Transaction
    /// JSON object text, served verbatim.
    public var authenticationContext: String
    /// JSON object text, served verbatim.
    public var securityContext: String
    /// JSON object text, served verbatim as `debugContext.debugData`.
    public var debugData: String

    public init(
        uuid: String,
        published: Date,
        eventType: String = "user.session.start",
        displayMessage: String = "User login to Okta",
        severity: String = "INFO",
        outcome: Outcome = Outcome(),
        actor: Entity = Entity(id: "00u1alice0000000001", alternateID: "alice@acme.example", displayName: "Alice Adams"),
        client: Client = Client(ipAddress: "203.0.113.10"),
        target: [Entity] = [],
        transaction: Transaction? = nil,
        authenticationContext: String = "{}",
        securityContext: String = "{}",
        debugData: String = "{}"
    ) {
        self.uuid = uuid
        self.published = published
        self.eventType = eventType
        self.displayMessage = displayMessage
        self.severity = severity
        self.outcome = outcome
        self.actor = actor
        self.client = client
        self.target = target
        self.transaction = transaction ?? Transaction(id: "tx-" + uuid)
        self.authenticationContext = authenticationContext
        self.securityContext = securityContext
        self.debugData = debugData
    }

    /// The wire form, keys in the order Okta writes them.
    func json() -> String {
        func nullable(_ text: String?) -> String { text.map(JSONText.quote) ?? "null" }
        func entity(_ e: Entity) -> String {
            var out = #"{"id":"# + JSONText.quote(e.id)
            out += #","type":"# + JSONText.quote(e.type)
            out += #","alternateId":"# + JSONText.quote(e.alternateID)
            out += #","displayName":"# + JSONText.quote(e.displayName)
            return out + #","detailEntry":null}"#
        }
        var out = #"{"actor":"# + entity(actor)
        out += #","client":{"userAgent":"#
        if client.rawUserAgent == nil, client.os == nil, client.browser == nil {
            out += "null"
        } else {
            out += #"{"rawUserAgent":"# + nullable(client.rawUserAgent)
            out += #","os":"# + nullable(client.os)
            out += #","browser":"# + nullable(client.browser) + "}"
        }
        out += #","ipAddress":"# + nullable(client.ipAddress) + #","geographicalContext":"#
        if client.city == nil, client.country == nil {
            out += "null"
        } else {
            out += #"{"city":"# + nullable(client.city) + #","country":"# + nullable(client.country) + "}"
        }
        out += #"},"authenticationContext":"# + authenticationContext
        out += #","displayMessage":"# + JSONText.quote(displayMessage)
        out += #","eventType":"# + JSONText.quote(eventType)
        out += #","outcome":{"result":"# + JSONText.quote(outcome.result) + #","reason":"# + nullable(outcome.reason) + "}"
        out += #","published":"# + JSONText.quote(RFC3339.format(milliseconds: RFC3339.milliseconds(published)))
        out += #","securityContext":"# + securityContext
        out += #","severity":"# + JSONText.quote(severity)
        out += #","debugContext":{"debugData":"# + debugData + "}"
        out += #","legacyEventType":null,"transaction":{"type":"# + JSONText.quote(transaction.type)
        out += #","id":"# + JSONText.quote(transaction.id) + #","detail":{}}"#
        out += #","uuid":"# + JSONText.quote(uuid) + #","version":"0""#
        out += #","target":"# + (target.isEmpty ? "null" : "[" + target.map(entity).joined(separator: ",") + "]")
        return out + "}"
    }

    /// The values a `filter` clause on `field` compares with; nil for a field it cannot name.
    func values(of field: String) -> [String]? {
        switch field {
        case "uuid": [uuid]
        case "eventType": [eventType]
        case "displayMessage": [displayMessage]
        case "severity": [severity]
        case "outcome.result": [outcome.result]
        case "outcome.reason": outcome.reason.map { [$0] } ?? []
        case "actor.id": [actor.id]
        case "actor.type": [actor.type]
        case "actor.alternateId": [actor.alternateID]
        case "actor.displayName": [actor.displayName]
        case "client.ipAddress": client.ipAddress.map { [$0] } ?? []
        case "target.id": target.map(\.id)
        case "target.type": target.map(\.type)
        case "target.alternateId": target.map(\.alternateID)
        case "target.displayName": target.map(\.displayName)
        case "transaction.id": [transaction.id]
        default: nil
        }
    }

    /// What `q` keywords are searched in (case-insensitively).
    var searchable: [String] {
        [eventType, displayMessage, actor.alternateID, actor.displayName, client.ipAddress ?? ""]
            + target.flatMap { [$0.alternateID, $0.displayName] }
    }
}

/// A stored event with its sort key and its wire form worked out once (pages are served
/// many times; the JSON of an event never changes).
struct StoredOktaEvent: TimeOrdered {
    var event: OktaLogEvent
    /// Milliseconds since the epoch.
    var orderTime: Int64
    var orderID: String { event.uuid }
    let json: String

    init(_ event: OktaLogEvent) {
        var event = event
        self.orderTime = RFC3339.milliseconds(event.published)
        // Keep what is served, so a stored event compares equal to one decoded from a page.
        event.published = RFC3339.date(milliseconds: orderTime)
        self.event = event
        self.json = event.json()
    }
}
