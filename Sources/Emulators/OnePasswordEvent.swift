import Foundation

/// The three streams of the 1Password Events API: each is its own route and store, paged
/// the same way.
public enum OnePasswordFeature: String, CaseIterable, Sendable {
    case auditEvents = "auditevents"
    case signInAttempts = "signinattempts"
    case itemUsages = "itemusages"

    /// `/api/v2/auditevents`, `/api/v2/signinattempts`, `/api/v2/itemusages`.
    public var path: String { "/api/v2/" + rawValue }
}

/// `actor_details`, `target_user` and `user`: who did it, or whom it was done to.
public struct OnePasswordUser: Sendable, Equatable {
    public var uuid: String
    public var name: String
    public var email: String

    public init(uuid: String = "4HCGRGYCTRQFBMGVEGTABYDU2V", name: String = "Alice Jones", email: String = "alice@acme.example") {
        self.uuid = uuid
        self.name = name
        self.email = email
    }

    var json: String {
        #"{"uuid":"# + JSONText.quote(uuid) + #","name":"# + JSONText.quote(name) + #","email":"# + JSONText.quote(email) + "}"
    }
}

/// Where the request came from, as 1Password geolocates the IP address.
public struct OnePasswordLocation: Sendable, Equatable {
    /// A country name, e.g. `Canada` (city names may be non-ASCII: `São Paulo`).
    public var country: String
    public var region: String
    public var city: String
    public var latitude: Double
    public var longitude: Double

    public init(
        country: String = "Canada", region: String = "Ontario", city: String = "Toronto",
        latitude: Double = 43.6532, longitude: Double = -79.3832
    ) {
        self.country = country
        self.region = region
        self.city = city
        self.latitude = latitude
        self.longitude = longitude
    }

    var json: String {
        func number(_ value: Double) -> String { value.isFinite ? String(value) : "0" }
        var out = #"{"country":"# + JSONText.quote(country)
        out += #","region":"# + JSONText.quote(region)
        out += #","city":"# + JSONText.quote(city)
        out += #","latitude":"# + number(latitude)
        return out + #","longitude":"# + number(longitude) + "}"
    }
}

/// The app that signed in or used an item.
public struct OnePasswordClient: Sendable, Equatable {
    public var appName: String
    public var appVersion: String
    public var platformName: String
    public var platformVersion: String
    public var osName: String
    public var osVersion: String
    public var ipAddress: String

    public init(
        appName: String = "1Password for Mac", appVersion: String = "81080027", platformName: String = "MacBookPro18,3",
        platformVersion: String = "arm64", osName: String = "MacOSX", osVersion: String = "14.4.1",
        ipAddress: String = "203.0.113.10"
    ) {
        self.appName = appName
        self.appVersion = appVersion
        self.platformName = platformName
        self.platformVersion = platformVersion
        self.osName = osName
        self.osVersion = osVersion
        self.ipAddress = ipAddress
    }

    var json: String {
        var out = #"{"app_name":"# + JSONText.quote(appName)
        out += #","app_version":"# + JSONText.quote(appVersion)
        out += #","platform_name":"# + JSONText.quote(platformName)
        out += #","platform_version":"# + JSONText.quote(platformVersion)
        out += #","os_name":"# + JSONText.quote(osName)
        out += #","os_version":"# + JSONText.quote(osVersion)
        return out + #","ip_address":"# + JSONText.quote(ipAddress) + "}"
    }
}

/// The session an audit event happened in.
public struct OnePasswordSession: Sendable, Equatable {
    public var uuid: String
    /// Written in the event's offset, like its `timestamp`.
    public var loginTime: Date
    public var deviceUUID: String
    public var ip: String

    public init(
        uuid: String = "A5K6COGVRVEJXJW3XQZGS7VAMM", loginTime: Date, deviceUUID: String = "lc5fqgbrcm4plajd8mwncv2b3u",
        ip: String = "203.0.113.10"
    ) {
        self.uuid = uuid
        self.loginTime = loginTime
        self.deviceUUID = deviceUUID
        self.ip = ip
    }
}

/// One item of `POST /api/v2/auditevents`: an action by a team member or service account.
public struct OnePasswordAuditEvent: Sendable, Equatable {
    public var uuid: String
    /// Kept to the millisecond; written in the account's local offset (see `utcOffsetMinutes`).
    public var timestamp: Date
    /// The offset `timestamp` and `session.loginTime` are written in: -180 is `-03:00`,
    /// 0 is `Z`, 330 is `+05:30`. Clients must normalize to UTC.
    public var utcOffsetMinutes: Int
    public var actorUUID: String
    public var actorDetails: OnePasswordUser
    /// `user` or `service_account`.
    public var actorType: String
    /// join, create, update, delete, grant, revoke, suspend, reactivate, begin, complete, provision…
    public var action: String
    /// user, vault, item, sso, group, invite, device…
    public var objectType: String
    public var objectUUID: String
    /// The aux fields are left out of the JSON when nil (as 1Password omits empty ones).
    public var auxID: Int?
    public var auxUUID: String?
    public var auxInfo: String?
    public var session: OnePasswordSession
    public var location: OnePasswordLocation
    public var accountUUID: String

    /// `actorUUID` defaults to `actorDetails.uuid`; `session` to one that logged in at `timestamp`.
    public init(
        uuid: String,
        timestamp: Date,
        utcOffsetMinutes: Int = 0,
        actorUUID: String? = nil,
        actorDetails: OnePasswordUser = OnePasswordUser(),
        actorType: String = "user",
        action: String = "create",
        objectType: String = "vault",
        objectUUID: String = "pf8soyakgngrphytsyjed4ae3u",
        auxID: Int? = nil,
        auxUUID: String? = nil,
        auxInfo: String? = nil,
        session: OnePasswordSession? = nil,
        location: OnePasswordLocation = OnePasswordLocation(),
        accountUUID: String = OnePasswordEmulator.defaultAccountUUID
    ) {
        self.uuid = uuid
        self.timestamp = timestamp
        self.utcOffsetMinutes = utcOffsetMinutes
        self.actorUUID = actorUUID ?? actorDetails.uuid
        self.actorDetails = actorDetails
        self.actorType = actorType
        self.action = action
        self.objectType = objectType
        self.objectUUID = objectUUID
        self.auxID = auxID
        self.auxUUID = auxUUID
        self.auxInfo = auxInfo
        self.session = session ?? OnePasswordSession(loginTime: timestamp)
        self.location = location
        self.accountUUID = accountUUID
    }

    var json: String {
        func time(_ date: Date) -> String { JSONText.quote(OnePasswordTime.format(date, offsetMinutes: utcOffsetMinutes)) }
        var out = #"{"uuid":"# + JSONText.quote(uuid)
        out += #","timestamp":"# + time(timestamp)
        out += #","actor_uuid":"# + JSONText.quote(actorUUID)
        out += #","actor_details":"# + actorDetails.json
        out += #","action":"# + JSONText.quote(action)
        out += #","object_type":"# + JSONText.quote(objectType)
        out += #","object_uuid":"# + JSONText.quote(objectUUID)
        if let auxID { out += #","aux_id":"# + String(auxID) }
        if let auxUUID { out += #","aux_uuid":"# + JSONText.quote(auxUUID) }
        if let auxInfo { out += #","aux_info":"# + JSONText.quote(auxInfo) }
        out += #","session":{"uuid":"# + JSONText.quote(session.uuid)
        out += #","login_time":"# + time(session.loginTime)
        out += #","device_uuid":"# + JSONText.quote(session.deviceUUID)
        out += #","ip":"# + JSONText.quote(session.ip) + "}"
        out += #","location":"# + location.json
        out += #","actor_type":"# + JSONText.quote(actorType)
        return out + #","account_uuid":"# + JSONText.quote(accountUUID) + "}"
    }
}

/// One item of `POST /api/v2/signinattempts`.
public struct OnePasswordSignInAttempt: Sendable, Equatable {
    public var uuid: String
    public var sessionUUID: String
    /// Kept to the millisecond; written in `utcOffsetMinutes`.
    public var timestamp: Date
    public var utcOffsetMinutes: Int
    /// success, credentials_failed, mfa_failed, sso_failed, firewall_failed, modern_version_failed…
    public var category: String
    /// credentials_ok, mfa_ok, password_secret_bad, totp_bad, country_blocked, modern_version_old…
    public var type: String
    public var country: String
    /// Served as `"details":{"value":…}` when set (a firewall rule, say); left out when nil.
    public var details: String?
    public var targetUser: OnePasswordUser
    public var client: OnePasswordClient
    /// Left out when nil (1Password cannot always place the address).
    public var location: OnePasswordLocation?

    public init(
        uuid: String,
        sessionUUID: String = "UED4KFZ5BH37IQWTJ7LG4VPWK4",
        timestamp: Date,
        utcOffsetMinutes: Int = 0,
        category: String = "success",
        type: String = "credentials_ok",
        country: String = "Canada",
        details: String? = nil,
        targetUser: OnePasswordUser = OnePasswordUser(),
        client: OnePasswordClient = OnePasswordClient(),
        location: OnePasswordLocation? = OnePasswordLocation()
    ) {
        self.uuid = uuid
        self.sessionUUID = sessionUUID
        self.timestamp = timestamp
        self.utcOffsetMinutes = utcOffsetMinutes
        self.category = category
        self.type = type
        self.country = country
        self.details = details
        self.targetUser = targetUser
        self.client = client
        self.location = location
    }

    var json: String {
        var out = #"{"uuid":"# + JSONText.quote(uuid)
        out += #","session_uuid":"# + JSONText.quote(sessionUUID)
        out += #","timestamp":"# + JSONText.quote(OnePasswordTime.format(timestamp, offsetMinutes: utcOffsetMinutes))
        out += #","category":"# + JSONText.quote(category)
        out += #","type":"# + JSONText.quote(type)
        out += #","country":"# + JSONText.quote(country)
        if let details { out += #","details":{"value":"# + JSONText.quote(details) + "}" }
        out += #","target_user":"# + targetUser.json
        out += #","client":"# + client.json
        if let location { out += #","location":"# + location.json }
        return out + "}"
    }
}

/// One item of `POST /api/v2/itemusages`: an item revealed, copied, filled…
public struct OnePasswordItemUsage: Sendable, Equatable {
    public var uuid: String
    /// Kept to the millisecond; written in `utcOffsetMinutes`.
    public var timestamp: Date
    public var utcOffsetMinutes: Int
    public var usedVersion: Int
    public var vaultUUID: String
    public var itemUUID: String
    public var user: OnePasswordUser
    public var client: OnePasswordClient
    public var location: OnePasswordLocation
    /// fill, reveal, secure-copy, enter-item-edit-mode, server-fetch, export, share…
    public var action: String

    public init(
        uuid: String,
        timestamp: Date,
        utcOffsetMinutes: Int = 0,
        usedVersion: Int = 1,
        vaultUUID: String = "jaqxqf5qylslqiitnduawrndc5",
        itemUUID: String = "bvwmmwxisuca7wbehrbyqhag54",
        user: OnePasswordUser = OnePasswordUser(),
        client: OnePasswordClient = OnePasswordClient(),
        location: OnePasswordLocation = OnePasswordLocation(),
        action: String = "reveal"
    ) {
        self.uuid = uuid
        self.timestamp = timestamp
        self.utcOffsetMinutes = utcOffsetMinutes
        self.usedVersion = usedVersion
        self.vaultUUID = vaultUUID
        self.itemUUID = itemUUID
        self.user = user
        self.client = client
        self.location = location
        self.action = action
    }

    var json: String {
        var out = #"{"uuid":"# + JSONText.quote(uuid)
        out += #","timestamp":"# + JSONText.quote(OnePasswordTime.format(timestamp, offsetMinutes: utcOffsetMinutes))
        out += #","used_version":"# + String(usedVersion)
        out += #","vault_uuid":"# + JSONText.quote(vaultUUID)
        out += #","item_uuid":"# + JSONText.quote(itemUUID)
        out += #","user":"# + user.json
        out += #","client":"# + client.json
        out += #","location":"# + location.json
        return out + #","action":"# + JSONText.quote(action) + "}"
    }
}

/// A stored item of any stream: its sort key worked out once and its JSON written once
/// (the three shapes share one store type and one pager).
struct StoredOnePasswordItem: TimeOrdered {
    /// Milliseconds since the epoch, UTC.
    var orderTime: Int64
    var orderID: String
    var json: String

    init(_ event: OnePasswordAuditEvent) {
        var event = event
        event.timestamp = OnePasswordTime.rounded(event.timestamp)
        event.session.loginTime = OnePasswordTime.rounded(event.session.loginTime)
        self.init(event.timestamp, event.uuid, event.json)
    }

    init(_ attempt: OnePasswordSignInAttempt) {
        var attempt = attempt
        attempt.timestamp = OnePasswordTime.rounded(attempt.timestamp)
        self.init(attempt.timestamp, attempt.uuid, attempt.json)
    }

    init(_ usage: OnePasswordItemUsage) {
        var usage = usage
        usage.timestamp = OnePasswordTime.rounded(usage.timestamp)
        self.init(usage.timestamp, usage.uuid, usage.json)
    }

    private init(_ timestamp: Date, _ id: String, _ json: String) {
        self.orderTime = RFC3339.milliseconds(timestamp)
        self.orderID = id
        self.json = json
    }
}

/// Local-offset RFC 3339, as Go's `time.RFC3339Nano` writes a time in a fixed zone.
enum OnePasswordTime {
    /// `2026-01-05T10:00:00-03:00`; a fraction only when the millisecond is not zero, without
    /// trailing zeros (`.5`, `.25`, `.125`); `Z` for offset 0. Offsets are clamped to ±23:59.
    static func format(_ date: Date, offsetMinutes: Int) -> String {
        let offset = max(-1439, min(1439, offsetMinutes))
        let local = RFC3339.milliseconds(date) + Int64(offset) * 60_000
        let seconds = local >= 0 ? local / 1000 : (local - 999) / 1000
        let millis = local - seconds * 1000
        var out = String(RFC3339.format(seconds: seconds).dropLast())
        if millis != 0 {
            var digits = String(millis)
            digits = String(repeating: "0", count: 3 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            out += "." + digits
        }
        guard offset != 0 else { return out + "Z" }
        let minutes = abs(offset)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        let sign = offset < 0 ? "-" : "+"
        return out + sign + two(minutes / 60) + ":" + two(minutes % 60)
    }

    /// The nearest whole millisecond, what is served.
    static func rounded(_ date: Date) -> Date {
        RFC3339.date(milliseconds: RFC3339.milliseconds(date))
    }
}
