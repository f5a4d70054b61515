import Foundation

extension SlackAuditEmulator {
    /// `count` entries with `date_create` spread evenly from `from` to `to` in whole seconds;
    /// every fourth shares its predecessor's second, so ties (broken by id) happen. ids are
    /// stable for an index and NOT in time order. Actions cycle over the ten of `actions`,
    /// each with the entity type it acts on (user, channel, file, workspace, app), in a
    /// workspace or at the Enterprise Grid level; some carry `details`. Entries from a second
    /// call need another `firstIndex` to get other ids.
    public static func generate(count: Int, firstIndex: Int = 0, from: Date, to: Date) -> [SlackAuditEntry] {
        guard count > 0 else { return [] }
        let start = from.timeIntervalSince1970.rounded(.down)
        let step = count == 1 ? 0 : (to.timeIntervalSince1970.rounded(.down) - start) / Double(count - 1)
        return (0..<count).map { i in
            let position = i % 4 == 1 ? i - 1 : i
            let seconds = (start + step * Double(position)).rounded(.down)
            return entry(firstIndex + i, at: Date(timeIntervalSince1970: seconds))
        }
    }

    /// The actions `generate` cycles over.
    public static let actions = [
        "user_login", "file_downloaded", "user_channel_join", "user_logout", "public_channel_created",
        "user_created", "role_change_to_admin", "app_installed", "user_deactivated", "pref_sso_setting_changed",
    ]

    /// Entry `n`: its action, then the entity and details that action carries.
    private static func entry(_ n: Int, at date: Date) -> SlackAuditEntry {
        let action = actions[n % actions.count]
        let user = slackUsers[(n / actions.count + n) % slackUsers.count]
        let other = slackUsers[(n / 3 + 1) % slackUsers.count]
        let workspace = slackWorkspaces[(n / 2) % slackWorkspaces.count]
        var entry = SlackAuditEntry(
            id: id(n),
            dateCreate: date,
            action: action,
            actor: user,
            location: workspace,
            userAgent: slackAgents[(n / 2) % slackAgents.count],
            ipAddress: n % 6 == 5 ? "2001:db8::" + String(n % 0xFFFF, radix: 16) : "203.0.113.\(n % 200 + 1)",
            sessionID: String(847_288_190_000 + n)
        )
        switch action {
        case "file_downloaded":
            let file = slackFiles[n % slackFiles.count]
            let id = "F0" + String(100_000 + n % 900_000, radix: 36).uppercased()
            entry.entity = .file(id: id, name: file.name, filetype: file.type, title: file.title)
        case "user_channel_join":
            let channel = slackChannels[n % slackChannels.count]
            entry.entity = .channel(id: channel.id, name: channel.name, privacy: channel.privacy)
        case "public_channel_created":
            entry.entity = .channel(id: "C0NEW" + String(n % 100_000, radix: 36).uppercased(), name: "proj-\(n % 97)")
        case "user_created", "user_deactivated", "role_change_to_admin":
            entry.actor = slackAdmin
            entry.entity = .user(other)
            if action == "role_change_to_admin" { entry.details = #"{"previous_role":"member","new_role":"admin"}"# }
        case "app_installed":
            entry.actor = slackAdmin
            let app = slackApps[n % slackApps.count]
            entry.entity = .app(id: app.id, name: app.name, scopes: app.scopes)
            entry.details = #"{"reason":"request_approved","is_internal_integration":false,"app_owner_id":"# + JSONText.quote(slackAdmin.id) + "}"
        case "pref_sso_setting_changed":
            entry.actor = slackAdmin
            // An org-wide setting: logged at the Enterprise Grid level, about one workspace.
            entry.location = slackEnterprise
            entry.entity = .workspace(id: workspace.id, name: workspace.name, domain: workspace.domain)
            entry.details =
                n % 2 == 0
                ? #"{"previous_value":"optional","new_value":"required"}"#
                : #"{"previous_value":"required","new_value":"optional"}"#
        default:  // user_login, user_logout: the user acts on themselves
            entry.entity = .user(user)
        }
        return entry
    }

    /// A UUID-shaped id from `n`, unique below 2^48 and out of order.
    static func id(_ n: Int) -> String {
        let mixed = (UInt64(truncatingIfNeeded: n) &* 0xB5AD_4ECE_DA1D) & 0xFFFF_FFFF_FFFF
        let hex = String(mixed, radix: 16)
        return "5e0c7a2b-41d3-4c8e-9f61-" + String(repeating: "0", count: 12 - hex.count) + hex
    }
}

private let slackUsers: [SlackAuditEntry.User] = [
    .init(id: "W012A3CDE", name: "Alice Adams", email: "alice@acme.example"),
    .init(id: "W045F6GHI", name: "Bob Brown", email: "bob@acme.example"),
    .init(id: "W078J9KLM", name: "Carol Chen", email: "carol@acme.example"),
    .init(id: "W09N1PQRS", name: "Erin Evans", email: "erin@acme.example"),
]
private let slackAdmin = SlackAuditEntry.User(id: "W0ADMIN01", name: "Dana Admin", email: "dana.admin@acme.example")
private let slackWorkspaces: [SlackAuditEntry.Location] = [
    .init(id: "T0ACME001", name: "Acme", domain: "acme"),
    .init(id: "T0ACMEENG", name: "Acme Engineering", domain: "acme-eng"),
]
private let slackEnterprise = SlackAuditEntry.Location(type: "enterprise", id: "E0ACMEGRD", name: "Acme Grid", domain: "acme-grid")
private let slackChannels: [(id: String, name: String, privacy: String)] = [
    ("C0GENERAL", "general", "public"), ("C0INCIDNT", "incidents", "public"), ("G0SECOPS1", "sec-ops", "private"),
]
private let slackFiles: [(name: String, type: String, title: String)] = [
    ("q3-report.pdf", "pdf", "Q3 report"), ("customers.csv", "csv", "Customer export"), ("roadmap.key", "key", "Roadmap"),
]
private let slackApps: [(id: String, name: String, scopes: [String])] = [
    ("A0JIRACLD", "Jira Cloud", ["channels:read", "chat:write", "links:read"]),
    ("A0GITHUB1", "GitHub", ["chat:write", "commands", "users:read"]),
]
private let slackAgents = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.38.125 Chrome/124.0.6367.91 Electron/30.0.1 Safari/537.36 Sonic Slack_SSB/4.38.125",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "com.tinyspeck.chatlyio/24.05.10 (iPhone; iOS 17.4.1; Scale/3.00)",
]
