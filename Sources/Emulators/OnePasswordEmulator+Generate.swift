import Foundation

extension OnePasswordEmulator {
    /// `count` audit events spread evenly from `from` to `to` at millisecond precision; every
    /// fourth shares its predecessor's time (ties, broken by uuid), two in three are whole
    /// seconds (written without a fraction). Offsets cycle over -03:00, +02:00, Z and +05:30 with
    /// a matching city (São Paulo, Berlin, London, Bengaluru). Actions cover join, create,
    /// update, delete, grant, revoke, suspend, reactivate, begin, complete and provision; the
    /// provisioning events come from a service account; grant and revoke carry the aux fields.
    /// uuids are not in time order. Events from a second call need another `firstIndex`.
    public static func generate(
        count: Int,
        firstIndex: Int = 0,
        accountUUID: String = OnePasswordEmulator.defaultAccountUUID,
        from: Date,
        to: Date
    ) -> [OnePasswordAuditEvent] {
        spread(count, firstIndex, from, to).map { item -> OnePasswordAuditEvent in
            let (n, millis) = item
            let kind = auditKinds[n % auditKinds.count]
            let place = places[n % places.count]
            let actor = kind.action == "provision" ? provisioner : people[(n / 3) % people.count]
            let time = RFC3339.date(milliseconds: millis)
            let session = OnePasswordSession(
                uuid: base32ID(n / 4, prefix: "SESS"),
                loginTime: RFC3339.date(milliseconds: millis - Int64(n % 50) * 60_000 - 1000 * Int64(n % 7)),
                deviceUUID: base32ID(n % 9, prefix: "DEVC").lowercased(),
                ip: place.ip
            )
            let grants = kind.action == "grant" || kind.action == "revoke"
            return OnePasswordAuditEvent(
                uuid: base32ID(n, prefix: "EVNT"),
                timestamp: time,
                utcOffsetMinutes: place.offset,
                actorDetails: actor,
                actorType: actor == provisioner ? "service_account" : "user",
                action: kind.action,
                objectType: kind.object,
                objectUUID: base32ID(n % 23, prefix: kind.object.uppercased()).lowercased(),
                auxID: grants ? 9_277_000 + n % 97 : nil,
                auxUUID: grants ? people[(n + 1) % people.count].uuid : nil,
                auxInfo: grants ? (n % 2 == 0 ? "1073741823" : "32") : nil,
                session: session,
                location: place.location,
                accountUUID: accountUUID
            )
        }
    }

    /// `count` sign-in attempts (same spacing, ties and offsets as `generate`): mostly
    /// successes, with failed credentials, failed MFA, firewall refusals (with `details`) and
    /// old app versions; every fifth has no location.
    public static func generateSignInAttempts(count: Int, firstIndex: Int = 0, from: Date, to: Date) -> [OnePasswordSignInAttempt] {
        spread(count, firstIndex, from, to).map { item -> OnePasswordSignInAttempt in
            let (n, millis) = item
            let outcome = signInOutcomes[n % signInOutcomes.count]
            let place = places[(n / 2) % places.count]
            var client = clients[n % clients.count]
            client.ipAddress = place.ip
            return OnePasswordSignInAttempt(
                uuid: base32ID(n, prefix: "SIGN"),
                sessionUUID: base32ID(n, prefix: "SSID"),
                timestamp: RFC3339.date(milliseconds: millis),
                utcOffsetMinutes: place.offset,
                category: outcome.category,
                type: outcome.type,
                country: place.location.country,
                details: outcome.category == "firewall_failed" ? "Blocked countries rule" : nil,
                targetUser: people[(n / 2) % people.count],
                client: client,
                location: n % 5 == 4 ? nil : place.location
            )
        }
    }

    /// `count` item usages (same spacing, ties and offsets as `generate`) over a few vaults
    /// and items, actions cycling over fill, reveal, secure-copy and the others.
    public static func generateItemUsages(count: Int, firstIndex: Int = 0, from: Date, to: Date) -> [OnePasswordItemUsage] {
        spread(count, firstIndex, from, to).map { item -> OnePasswordItemUsage in
            let (n, millis) = item
            let place = places[(n / 3) % places.count]
            var client = clients[(n / 2) % clients.count]
            client.ipAddress = place.ip
            return OnePasswordItemUsage(
                uuid: base32ID(n, prefix: "USGE"),
                timestamp: RFC3339.date(milliseconds: millis),
                utcOffsetMinutes: place.offset,
                usedVersion: n % 5 + 1,
                vaultUUID: base32ID(n % 3, prefix: "VALT").lowercased(),
                itemUUID: base32ID(n % 17, prefix: "ITEM").lowercased(),
                user: people[n % people.count],
                client: client,
                location: place.location,
                action: usageActions[n % usageActions.count]
            )
        }
    }

    /// (index, milliseconds) of `count` items spread evenly from `from` to `to`; every fourth
    /// takes its predecessor's time, and two in three are cut to the whole second (never
    /// before `from`).
    private static func spread(_ count: Int, _ firstIndex: Int, _ from: Date, _ to: Date) -> [(Int, Int64)] {
        guard count > 0 else { return [] }
        let start = RFC3339.milliseconds(from)
        let step = count == 1 ? 0 : Double(RFC3339.milliseconds(to) - start) / Double(count - 1)
        var previous = start
        return (0..<count).map { i -> (Int, Int64) in
            let n = firstIndex + i
            if i % 4 == 1 { return (n, previous) }
            var millis = start + Int64((step * Double(i)).rounded(.down))
            if n % 3 != 0 { millis = max(start, millis - ((millis % 1000) + 1000) % 1000) }
            previous = max(previous, millis)
            return (n, previous)
        }
    }

    /// A 26-character base32 id, as 1Password writes uuids: `prefix` (letters, cut or padded
    /// to 16) and `n` scrambled into 10 characters; unique per prefix for every `n` below 2^48,
    /// and not in the order of `n`.
    static func base32ID(_ n: Int, prefix: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let head = String((prefix.uppercased().filter { alphabet.contains($0) } + String(repeating: "Q", count: 16)).prefix(16))
        var mixed = (UInt64(truncatingIfNeeded: n) &* 0xA24B_AED4_963F) & 0xFFFF_FFFF_FFFF
        var tail = ""
        for _ in 0..<10 {
            tail.append(alphabet[Int(mixed & 31)])
            mixed >>= 5
        }
        return head + tail
    }
}

private let people: [OnePasswordUser] = [
    .init(uuid: "4HCGRGYCTRQFBMGVEGTABYDU2V", name: "Alice Jones", email: "alice@acme.example"),
    .init(uuid: "2VH5HTMZ6RD6VJ4YKLH4QWJXOI", name: "Bob Martins", email: "bob@acme.example"),
    .init(uuid: "WJ4Q3JZWPBAMXH3XTMQ3CEVNHA", name: "Chloé Dubois", email: "chloe@acme.example"),
    .init(uuid: "Y6NVIUPMVNDCFKKDO7OAZ4ROQE", name: "Dev Patel", email: "dev@acme.example"),
]

/// The SCIM bridge: a service account that provisions users.
private let provisioner = OnePasswordUser(uuid: "SCIMBRIDGE7MQ4XOVZ2RJWKLTE", name: "Provision Manager", email: "scim@acme.example")

private let auditKinds: [(action: String, object: String)] = [
    ("join", "user"), ("create", "vault"), ("grant", "vault"), ("update", "item"), ("revoke", "vault"),
    ("create", "invite"), ("suspend", "user"), ("reactivate", "user"), ("begin", "user"), ("complete", "user"),
    ("provision", "user"), ("delete", "item"), ("update", "sso"), ("create", "group"), ("delete", "device"),
]

/// An account's local offset and where such a session would be.
private let places: [(offset: Int, ip: String, location: OnePasswordLocation)] = [
    (-180, "198.51.100.23", .init(country: "Brazil", region: "São Paulo", city: "São Paulo", latitude: -23.5505, longitude: -46.6333)),
    (120, "203.0.113.77", .init(country: "Germany", region: "Berlin", city: "Berlin", latitude: 52.52, longitude: 13.405)),
    (0, "192.0.2.14", .init(country: "United Kingdom", region: "England", city: "London", latitude: 51.5072, longitude: -0.1276)),
    (330, "2001:db8::7", .init(country: "India", region: "Karnataka", city: "Bengaluru", latitude: 12.9716, longitude: 77.5946)),
]

private let signInOutcomes: [(category: String, type: String)] = [
    ("success", "credentials_ok"), ("success", "mfa_ok"), ("credentials_failed", "password_secret_bad"),
    ("success", "credentials_ok"), ("mfa_failed", "totp_bad"), ("firewall_failed", "country_blocked"),
    ("success", "sso_ok"), ("modern_version_failed", "modern_version_old"),
]

private let clients: [OnePasswordClient] = [
    .init(),
    .init(
        appName: "1Password for Web", appVersion: "1951", platformName: "Chrome", platformVersion: "124.0.6367.91",
        osName: "Windows", osVersion: "10.0"),
    .init(
        appName: "1Password CLI", appVersion: "2.28.0", platformName: "op", platformVersion: "2.28.0",
        osName: "Linux", osVersion: "6.8.0"),
    .init(
        appName: "1Password for iOS", appVersion: "80900003", platformName: "iPhone15,2", platformVersion: "arm64",
        osName: "iOS", osVersion: "17.4.1"),
]

private let usageActions = [
    "fill", "reveal", "secure-copy", "enter-item-edit-mode", "server-fetch", "select-sso-provider",
    "export", "share", "server-update", "server-create",
]
