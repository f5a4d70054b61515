import Foundation

extension LogfireEmulator {
    /// `count` records spread evenly from `from` to `to`, with microsecond fractions (some
    /// zero, which Pydantic writes without a fraction). Actions cycle over LOGIN LOGOUT
    /// INSERT UPDATE DELETE; LOGIN/LOGOUT carry no project, resource or record (null), some
    /// records have no IP address. UPDATE records carry `downgrade_patches` and `metadata`.
    /// Entries from a second call need another `firstIndex` to get other ids.
    public static func generate(
        count: Int,
        firstIndex: Int = 0,
        organization: String = "acme-org",
        from: Date,
        to: Date
    ) -> [LogfireEntry] {
        guard count > 0 else { return [] }
        let start = RFC3339.microseconds(from)
        let step = count == 1 ? 0 : Double(RFC3339.microseconds(to) - start) / Double(count - 1)
        return (0..<count).map { i in
            let n = firstIndex + i
            let action = actions[n % actions.count]
            let user = logfireUsers[(n / 3) % logfireUsers.count]
            var micros = start + Int64((step * Double(i)).rounded(.down))
            if n % 6 == 0 { micros -= micros % 1_000_000 }  // a whole second: no fraction on the wire
            micros = max(micros, start)
            var entry = LogfireEntry(
                id: uuid(n),
                createdAt: RFC3339.date(microseconds: micros),
                organizationName: organization,
                userName: user,
                action: action,
                ipAddress: n % 4 == 3 ? nil : "198.51.100.\(n % 200 + 1)"
            )
            if action != "LOGIN", action != "LOGOUT" {
                let project = logfireProjects[(n / 5) % logfireProjects.count]
                entry.projectName = project
                entry.resourceType = logfireResources[(n / 5) % logfireResources.count]
                entry.recordID = uuid(n &+ 1_000_003)
                if action == "UPDATE" {
                    entry.downgradePatches = #"[{"op":"replace","path":"/project_name","value":"old-"# + project + #""}]"#
                    entry.metadata = #"{"changed_fields":["project_name"],"user_agent":"logfire-web"}"#
                }
            } else if action == "LOGIN" {
                entry.metadata = #"{"method":"github"}"#
            }
            return entry
        }
    }

    /// A version-4-shaped UUID from `n`, unique for every `n` below 2^48.
    private static func uuid(_ n: Int) -> String {
        let mixed = (UInt64(truncatingIfNeeded: n) &* 0xC2B2_AE3D_27D5) & 0xFFFF_FFFF_FFFF
        let hex = String(mixed, radix: 16)
        return "6f1c2a9e-5b7d-4e21-9c3a-" + String(repeating: "0", count: 12 - hex.count) + hex
    }
}

private let logfireUsers = ["alice", "bob", "carol", "deploy-bot"]
private let logfireProjects = ["web", "backend", "data-pipeline"]
/// `nil` is a record about the organization itself.
private let logfireResources: [String?] = ["projects", "read_tokens", "write_tokens", nil]
