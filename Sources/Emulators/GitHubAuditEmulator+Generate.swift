import Foundation

extension GitHubAuditEmulator {
    /// `count` events spread evenly from `from` to `to` at millisecond precision; every fifth
    /// shares its predecessor's millisecond (ties, broken by document id). Actions cycle over
    /// org.add_member, org.remove_member, repo.create, repo.destroy, team.add_member, git.clone,
    /// git.push, protected_branch.update, oauth_application.create, org.update_member,
    /// business.set_actions_retention_limit, repo.transfer and org.sso_response, with their
    /// operation types (create, modify, remove, access, authentication, transfer). Organization
    /// events alternate over `organizations`; `business.*` events have no `org` (enterprise
    /// route only). Every fifth event has no `actor_ip`. Document ids are not in time order;
    /// events from a second call need another `firstIndex`.
    public static func generate(
        count: Int,
        firstIndex: Int = 0,
        enterprise: String = "acme",
        organizations: [String] = ["acme-org", "acme-labs"],
        from: Date,
        to: Date
    ) -> [GitHubAuditEvent] {
        guard count > 0 else { return [] }
        let start = RFC3339.milliseconds(from)
        let step = count == 1 ? 0 : Double(RFC3339.milliseconds(to) - start) / Double(count - 1)
        let orgs = organizations.isEmpty ? ["acme-org"] : organizations
        return (0..<count).map { i -> GitHubAuditEvent in
            let n = firstIndex + i
            let position = i % 5 == 1 ? i - 1 : i
            let kind = githubKinds[n % githubKinds.count]
            let actor = githubActors[(n / 2) % githubActors.count]
            let category = String(kind.action.prefix(while: { $0 != "." }))
            let org = category == "business" ? nil : orgs[(n / githubKinds.count) % orgs.count]
            let repoName = githubRepos[(n / 3) % githubRepos.count]
            let hasRepo = ["repo", "git", "protected_branch"].contains(category)
            let hasUser = ["org.add_member", "org.remove_member", "team.add_member", "org.update_member"].contains(kind.action)
            return GitHubAuditEvent(
                documentID: documentID(n),
                timestamp: RFC3339.date(milliseconds: start + Int64((step * Double(position)).rounded(.down))),
                action: kind.action,
                actor: actor.login,
                actorID: actor.id,
                actorIP: n % 5 == 4 ? nil : actor.ip,
                actorCountryCode: n % 5 == 4 ? nil : actor.country,
                user: hasUser ? githubMembers[n % githubMembers.count] : nil,
                org: org,
                repo: hasRepo ? (org ?? orgs[0]) + "/" + repoName : nil,
                business: enterprise,
                operationType: kind.operation,
                transportProtocolName: category == "git" ? (n % 2 == 0 ? "http" : "ssh") : nil
            )
        }
    }

    /// A 22-character base64url id (16 bytes, as GitHub's `_document_id` looks), unique for
    /// every `n` below 2^48 and not in the order of `n`.
    static func documentID(_ n: Int) -> String {
        let mixed = (UInt64(truncatingIfNeeded: n) &* 0xB5AD_4ECE_DA1D) & 0xFFFF_FFFF_FFFF
        let bytes: [UInt8] =
            (0..<6).map { UInt8(truncatingIfNeeded: mixed >> (8 * UInt64($0))) }
            + [0x56, 0xAB, 0xE0, 0xEA, 0x46, 0x78, 0x31, 0x8A, 0xB0, 0x59]
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

private let githubKinds: [(action: String, operation: String)] = [
    ("org.add_member", "create"), ("org.remove_member", "remove"), ("repo.create", "create"),
    ("repo.destroy", "remove"), ("team.add_member", "create"), ("git.clone", "access"), ("git.push", "modify"),
    ("protected_branch.update", "modify"), ("oauth_application.create", "create"), ("org.update_member", "modify"),
    ("business.set_actions_retention_limit", "modify"), ("repo.transfer", "transfer"), ("org.sso_response", "authentication"),
]

private let githubActors: [(login: String, id: Int, ip: String, country: String)] = [
    ("mona", 1001, "203.0.113.10", "US"),
    ("hubot", 480_938, "198.51.100.7", "DE"),
    ("octocat", 583_231, "2001:db8::42", "BR"),
    ("deploy-bot", 49_699_333, "192.0.2.200", "IN"),
]

private let githubMembers = ["alice", "bob", "carol", "dave"]
private let githubRepos = ["web", "api", "infra", "docs"]
