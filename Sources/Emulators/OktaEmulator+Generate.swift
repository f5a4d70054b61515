import Foundation

extension OktaEmulator {
    /// `count` events with `published` spread evenly from `from` to `to` at millisecond
    /// precision; every fourth shares its predecessor's time, so ties (broken by uuid) happen.
    /// uuids are stable for an index and NOT in time order. Event types cycle over the ten of
    /// `eventTypes`; outcomes, severities, actors (users, `SystemPrincipal`,
    /// `PublicClientApp`), clients and targets vary with the type, as in a real org's log.
    /// Events from a second call need another `firstIndex` to get other uuids.
    public static func generate(count: Int, firstIndex: Int = 0, from: Date, to: Date) -> [OktaLogEvent] {
        guard count > 0 else { return [] }
        let start = RFC3339.milliseconds(from)
        let step = count == 1 ? 0 : Double(RFC3339.milliseconds(to) - start) / Double(count - 1)
        return (0..<count).map { i in
            let position = i % 4 == 1 ? i - 1 : i
            let milliseconds = start + Int64((step * Double(position)).rounded(.down))
            return event(firstIndex + i, published: RFC3339.date(milliseconds: milliseconds))
        }
    }

    /// The event types `generate` cycles over.
    public static let eventTypes = [
        "user.session.start", "user.authentication.sso", "policy.evaluate_sign_on", "user.account.lock",
        "user.lifecycle.create", "group.user_membership.add", "application.user_membership.add",
        "user.mfa.factor.activate", "user.lifecycle.deactivate", "system.api_token.create",
    ]

    /// Event `n`: its type, then what that type carries.
    private static func event(_ n: Int, published: Date) -> OktaLogEvent {
        let eventType = eventTypes[n % eventTypes.count]
        let user = oktaUsers[(n / eventTypes.count + n) % oktaUsers.count]
        let other = oktaUsers[(n / 3 + 1) % oktaUsers.count]
        let app = oktaApps[(n / 2) % oktaApps.count]
        // Admin work is sometimes done by Okta itself (group rules, scheduled deactivation)
        // or by an API client (provisioning).
        let automated = (n / eventTypes.count) % 3 == 1
        var event = OktaLogEvent(uuid: uuid(n), published: published, eventType: eventType, actor: user)
        switch eventType {
        case "user.session.start":
            let failed = n % 7 == 3
            event.displayMessage = "User login to Okta"
            event.outcome = failed ? .init(result: "FAILURE", reason: "INVALID_CREDENTIALS") : .init(result: "SUCCESS")
            event.severity = failed ? "WARN" : "INFO"
            event.authenticationContext = authentication(n, credential: "PASSWORD")
        case "user.authentication.sso":
            event.displayMessage = "User single sign on to app"
            event.target = [app]
            event.authenticationContext = authentication(n, credential: nil)
        case "policy.evaluate_sign_on":
            let result = ["ALLOW", "ALLOW", "CHALLENGE", "DENY"][(n / eventTypes.count) % 4]
            event.displayMessage = "Evaluation of sign-on policy"
            event.outcome = .init(result: result, reason: result == "ALLOW" ? nil : "Sign-on policy evaluation resulted in \(result)")
            event.severity = result == "DENY" ? "WARN" : "INFO"
            event.target = [oktaPolicy, oktaRule]
        case "user.account.lock":
            event.displayMessage = "Max sign in attempts exceeded"
            event.outcome = .init(result: "FAILURE", reason: "LOCKED_OUT")
            event.severity = "WARN"
            event.target = [user]
        case "user.lifecycle.create":
            event.displayMessage = "Create okta user"
            event.actor = automated ? oktaProvisioningClient : oktaAdmin
            event.target = [other]
        case "group.user_membership.add":
            event.displayMessage = "Add user to group membership"
            event.actor = automated ? oktaSystem : oktaAdmin
            event.target = [other, oktaGroups[n % oktaGroups.count]]
        case "application.user_membership.add":
            let failed = n % 9 == 6
            event.displayMessage = "Add user to application membership"
            event.actor = automated ? oktaSystem : oktaAdmin
            event.outcome = failed ? .init(result: "FAILURE", reason: "Provisioning error: user already exists in app") : .init()
            event.severity = failed ? "ERROR" : "INFO"
            // The app's own account for the user (`0ua…`), then the app.
            let appUser = OktaLogEvent.Entity(
                id: "0ua" + String(user.id.dropFirst(3)), type: "AppUser", alternateID: user.alternateID, displayName: user.displayName)
            event.target = [appUser, app]
        case "user.mfa.factor.activate":
            event.displayMessage = "User set up MFA factor"
            event.target = [user]
            event.debugData = #"{"requestUri":"/idp/idx/credential/enroll","factor":"OKTA_VERIFY_PUSH"}"#
        case "user.lifecycle.deactivate":
            let skipped = n % 11 == 8
            event.displayMessage = "Deactivate Okta user"
            event.actor = automated ? oktaSystem : oktaAdmin
            event.outcome = skipped ? .init(result: "SKIPPED", reason: "User is already deactivated") : .init()
            event.target = [other]
        default:  // system.api_token.create
            event.displayMessage = "Create API token"
            event.actor = oktaAdmin
            let token = "00T" + String(n % 9000 + 1000) + "tokenSIEM"
            event.target = [OktaLogEvent.Entity(id: token, type: "Token", alternateID: "SIEM export", displayName: "SIEM export")]
        }
        event.client = client(n, actor: event.actor)
        let job = event.actor.type == "SystemPrincipal"
        event.transaction = .init(type: job ? "JOB" : "WEB", id: transactionID(n))
        if event.debugData == "{}" {
            // Background jobs answer no request: no URI.
            let uri = job ? "" : #","requestUri":"# + JSONText.quote(requestURI(eventType))
            event.debugData = #"{"requestId":"# + JSONText.quote(transactionID(n)) + uri + "}"
        }
        event.securityContext =
            job
            ? #"{"asNumber":null,"asOrg":null,"isp":null,"domain":null,"isProxy":null}"#
            : #"{"asNumber":64496,"asOrg":"example networks","isp":"example networks","domain":"example.net","isProxy":false}"#
        return event
    }

    private static func authentication(_ n: Int, credential: String?) -> String {
        var out = #"{"authenticationProvider":"OKTA_AUTHENTICATION_PROVIDER","credentialProvider":"OKTA_CREDENTIAL_PROVIDER""#
        out += #","credentialType":"# + (credential.map(JSONText.quote) ?? "null")
        out += #","issuer":null,"interface":null,"authenticationStep":0,"externalSessionId":"idx"# + String(n &* 7919 % 1_000_000) + #""}"#
        return out
    }

    /// Where an actor was: none for Okta itself, a data center for an API client, a person's
    /// browser and city otherwise (IPv6 now and then).
    private static func client(_ n: Int, actor: OktaLogEvent.Entity) -> OktaLogEvent.Client {
        switch actor.type {
        case "SystemPrincipal":
            return .init()
        case "PublicClientApp":
            return .init(
                ipAddress: "198.51.100.20", rawUserAgent: "okta-sdk-java/8.2.2 java/17.0.9 Linux/6.1", os: "Linux",
                browser: "UNKNOWN", city: "Ashburn", country: "United States")
        default:
            let agent = oktaAgents[(n / 2) % oktaAgents.count]
            let place = oktaPlaces[(n / 3) % oktaPlaces.count]
            let ip = n % 6 == 5 ? "2001:db8::" + String(n % 0xFFFF, radix: 16) : "203.0.113.\(n % 200 + 1)"
            return .init(ipAddress: ip, rawUserAgent: agent.raw, os: agent.os, browser: agent.browser, city: place.city, country: place.country)
        }
    }

    private static func requestURI(_ eventType: String) -> String {
        switch eventType {
        case "user.session.start", "policy.evaluate_sign_on", "user.account.lock": return "/idp/idx/identify"
        case "user.authentication.sso": return "/app/sso/saml"
        case "system.api_token.create": return "/api/internal/tokens"
        default: return "/api/v1/users"
        }
    }

    /// A UUID-shaped id (version 1, as Okta's are) from `n`, unique below 2^48 and out of order.
    static func uuid(_ n: Int) -> String {
        let mixed = (UInt64(truncatingIfNeeded: n) &* 0xA24B_AED4_963F) & 0xFFFF_FFFF_FFFF
        let hex = String(mixed, radix: 16)
        return "d9b1e2c4-0a7f-11ef-9a3c-" + String(repeating: "0", count: 12 - hex.count) + hex
    }

    /// 27 characters, like Okta's transaction ids.
    private static func transactionID(_ n: Int) -> String {
        let mixed = (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15) >> 8
        let text = String(mixed, radix: 36)
        return "Zk" + String(repeating: "A", count: max(0, 25 - text.count)) + String(text.prefix(25))
    }
}

private let oktaUsers: [OktaLogEvent.Entity] = [
    .init(id: "00u1a2b3c4D5e6F7g8h9", alternateID: "alice@acme.example", displayName: "Alice Adams"),
    .init(id: "00u2b3c4d5E6f7G8h9i0", alternateID: "bob@acme.example", displayName: "Bob Brown"),
    .init(id: "00u3c4d5e6F7g8H9i0j1", alternateID: "carol@acme.example", displayName: "Carol Chen"),
    .init(id: "00u5e6f7g8H9i0J1k2l3", alternateID: "erin@acme.example", displayName: "Erin Evans"),
]
private let oktaAdmin = OktaLogEvent.Entity(id: "00u4d5e6f7G8h9I0j1k2", alternateID: "dana.admin@acme.example", displayName: "Dana Admin")
private let oktaSystem = OktaLogEvent.Entity(
    id: "0oa0system0okta00001", type: "SystemPrincipal", alternateID: "system@okta.com", displayName: "Okta System")
private let oktaProvisioningClient = OktaLogEvent.Entity(
    id: "0oa5f6g7h8I9j0K1l2m3", type: "PublicClientApp", alternateID: "0oa5f6g7h8I9j0K1l2m3", displayName: "Acme HR Provisioning")
private let oktaApps: [OktaLogEvent.Entity] = [
    .init(id: "0oa6salesforce000001", type: "AppInstance", alternateID: "Salesforce.com", displayName: "Salesforce.com"),
    .init(id: "0oa6github0000000002", type: "AppInstance", alternateID: "GitHub Enterprise Cloud", displayName: "GitHub Enterprise Cloud"),
    .init(id: "0oa6slack00000000003", type: "AppInstance", alternateID: "Slack", displayName: "Slack"),
]
private let oktaGroups: [OktaLogEvent.Entity] = [
    .init(id: "00g1engineering00001", type: "UserGroup", alternateID: "Engineering", displayName: "Engineering"),
    .init(id: "00g1finance000000002", type: "UserGroup", alternateID: "Finance", displayName: "Finance"),
]
private let oktaPolicy = OktaLogEvent.Entity(id: "00p1signon0000000001", type: "PolicyEntity", alternateID: "unknown", displayName: "Default Policy")
private let oktaRule = OktaLogEvent.Entity(id: "0pr1rule000000000001", type: "PolicyRule", alternateID: "unknown", displayName: "Default Rule")
private let oktaAgents: [(raw: String, os: String, browser: String)] = [
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", "Mac OS X", "CHROME"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", "Windows 10", "FIREFOX"),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "iOS", "SAFARI"
    ),
]
private let oktaPlaces: [(city: String, country: String)] = [
    ("San Francisco", "United States"), ("London", "United Kingdom"), ("Berlin", "Germany"), ("Toronto", "Canada"),
]
