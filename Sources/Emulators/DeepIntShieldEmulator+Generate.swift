import Foundation

extension DeepIntShieldEmulator {
    /// `count` entries with timestamps spread evenly from `from` to `to` at millisecond
    /// precision; every fourth entry shares its predecessor's timestamp, so ties happen.
    /// Event ids look like UUIDs and are NOT in time order (a client must sort by timestamp,
    /// not id). Event types cycle over all six values, statuses over all four, severities
    /// over all four; verification hashes form a sha256 hash chain. Entries from a second
    /// call need another `firstIndex` to get other ids.
    public static func generate(count: Int, firstIndex: Int = 0, from: Date, to: Date) -> [DeepIntShieldEntry] {
        guard count > 0 else { return [] }
        let start = RFC3339.milliseconds(from)
        let step = count == 1 ? 0 : Double(RFC3339.milliseconds(to) - start) / Double(count - 1)
        var previousHash = "sha256:genesis"
        return (0..<count).map { i in
            let n = firstIndex + i
            let position = i % 4 == 1 ? i - 1 : i
            let milliseconds = start + Int64((step * Double(position)).rounded(.down))
            let kind = shieldKinds[n % shieldKinds.count]
            let actor = shieldActors[(n / 2 + n * 3) % shieldActors.count]
            let status = shieldStatuses[(n * 7 / 3) % shieldStatuses.count]
            let eventID = scrambledUUID(n)
            let hash = DeepIntShieldEntry.sha256(previousHash + eventID)
            previousHash = hash
            return DeepIntShieldEntry(
                eventID: eventID,
                workspaceID: n % 5 == 4 ? "ws_beta" : "ws_acme",
                timestamp: RFC3339.date(milliseconds: milliseconds),
                eventType: kind.type,
                action: kind.actions[(n / shieldKinds.count) % kind.actions.count],
                status: status,
                severity: shieldSeverities[(n / 3 + (status == "success" ? 0 : 2)) % shieldSeverities.count],
                resourceType: kind.resource,
                resourceID: "\(kind.resource)_\(n % 13 + 1)",
                createdAt: RFC3339.date(milliseconds: milliseconds + Int64(n % 7) * 3),
                actor: actor,
                details: #"{"user_agent":"# + JSONText.quote(shieldAgents[n % shieldAgents.count])
                    + #","request_id":"req_"# + String(n) + #"","reason":"# + JSONText.quote(status == "success" ? "" : "policy \(status)") + "}",
                verification: .init(hash: hash)
            )
        }
    }

    /// A UUID-shaped id from `n`, unique for every `n` below 2^48 (odd multiplier modulo 2^48)
    /// and out of order.
    static func scrambledUUID(_ n: Int) -> String {
        let mixed = (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4B) & 0xFFFF_FFFF_FFFF
        let hex = String(mixed, radix: 16)
        return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - hex.count) + hex
    }
}

private let shieldKinds: [(type: String, resource: String, actions: [String])] = [
    ("authentication", "session", ["login", "logout", "login_failed", "mfa_challenge"]),
    ("authorization", "role", ["permission_check", "role_assigned", "access_denied"]),
    ("configuration_change", "policy", ["settings_updated", "policy_changed", "api_key_created"]),
    ("data_access", "dataset", ["record_viewed", "export_created", "query_executed"]),
    ("security_event", "api_key", ["suspicious_login", "rate_limit_exceeded"]),
    ("security_incident", "workspace", ["incident_opened", "incident_resolved"]),
]

private let shieldStatuses = ["success", "failed", "denied", "blocked"]
private let shieldSeverities = ["low", "medium", "high", "critical"]
private let shieldAgents = ["Mozilla/5.0 (Macintosh)", "deepintshield-cli/2.4", "python-requests/2.32"]
private let shieldActors: [DeepIntShieldEntry.Actor] = [
    .init(userID: "usr_alice", email: "alice@acme.example", ipAddress: "203.0.113.10"),
    .init(userID: "usr_bob", email: "bob@acme.example", ipAddress: "198.51.100.7"),
    .init(userID: "usr_carol", email: "carol@acme.example", ipAddress: "2001:db8::42"),
    .init(userID: "svc_ci", email: "ci@acme.example", ipAddress: "192.0.2.200"),
]
