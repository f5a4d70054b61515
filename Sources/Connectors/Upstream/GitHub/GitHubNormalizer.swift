import Foundation

/// Maps one GitHub audit log event into the schema.
enum GitHubNormalizer {
    /// By the action's category (before the first dot), then a few exact actions.
    static let categories: [String: AuditEvent.EventType] = [
        "git": .dataAccess, "repo": .configuration, "protected_branch": .configuration, "repository_ruleset": .configuration,
        "business": .configuration, "hook": .configuration, "integration_installation": .configuration,
        "oauth_application": .configuration, "environment": .configuration, "workflows": .configuration,
        "team": .authorization, "oauth_authorization": .authorization, "personal_access_token": .authorization,
        "ssh_certificate_authority": .configuration, "secret_scanning_alert": .security, "dependabot_alerts": .security,
        "repository_secret_scanning": .security, "repository_vulnerability_alert": .security,
    ]

    static let actions: [String: AuditEvent.EventType] = [
        "org.add_member": .authorization, "org.remove_member": .authorization, "org.update_member": .authorization,
        "org.invite_member": .authorization, "org.add_outside_collaborator": .authorization,
        "repo.add_member": .authorization, "repo.remove_member": .authorization, "repo.access": .authorization,
        "org.sso_response": .authentication, "business.sso_response": .authentication,
        "org.disable_two_factor_requirement": .security, "business.disable_two_factor_requirement": .security,
    ]

    static func eventType(_ action: String) -> AuditEvent.EventType {
        if let type = actions[action] { return type }
        let category = action.split(separator: ".").first.map(String.init) ?? action
        if let type = categories[category] { return type }
        return category == "org" ? .configuration : .other
    }

    /// Removals and destructions are low; turning protections off is medium.
    static func severity(_ action: String) -> AuditEvent.Severity {
        if action.contains("disable_two_factor") || action.hasSuffix(".disable") || action.contains("destroy_") { return .medium }
        if action.hasSuffix(".destroy") || action.hasSuffix(".remove_member") || action.hasSuffix(".delete") || action.hasSuffix(".remove") {
            return .low
        }
        return .info
    }

    static func normalize(_ item: JSONValue, configuration: GitHubConfiguration, receivedAt: Date) throws -> NormalizedEntry {
        guard case .object = item else {
            throw SourceError(.malformed, "GitHub audit event is a \(item.typeName), not an object")
        }
        let fields = GitHubEventFields(item)
        guard fields.documentID?.isEmpty == false else {
            throw SourceError(.malformed, "GitHub audit event has no _document_id: \(item.excerpt)")
        }
        return try normalize(fields, raw: item, configuration: configuration, receivedAt: receivedAt)
    }

    /// The mapping from an event's fields. `raw` is its tree; `.null` when it was read without one
    /// (`GitHubEventReader`), its own text then being all of it.
    static func normalize(
        _ fields: GitHubEventFields, raw: JSONValue, configuration: GitHubConfiguration, receivedAt: Date
    ) throws -> NormalizedEntry {
        guard let upstreamID = fields.documentID, !upstreamID.isEmpty else {
            throw SourceError(.malformed, "GitHub audit event has no _document_id")
        }
        // `@timestamp` and `created_at` are both epoch milliseconds.
        guard let milliseconds = fields.milliseconds else {
            throw SourceError(.malformed, "GitHub audit event \(upstreamID) has no @timestamp")
        }
        let action = fields.action ?? ""
        let actorLogin = fields.actor
        let repo = fields.repo
        let user = fields.user
        let target: AuditEvent.Target? =
            if let repo { .init(type: "repository", id: fields.repoID, name: repo) } else if let user {
                .init(type: "user", id: fields.userID, name: user)
            } else { nil }
        var details: [String: JSONValue] = [:]
        if let kind = fields.operationType, !kind.isNull { details["operation_type"] = kind }
        let event = AuditEvent(
            id: AuditEvent.stableID(sourceName: configuration.name, upstreamID: upstreamID),
            time: Date(timeIntervalSince1970: milliseconds / 1000), receivedAt: receivedAt,
            source: .init(name: configuration.name, type: GitHubSource.type, eventID: upstreamID),
            eventType: eventType(action), action: action, outcome: .success, severity: severity(action),
            actor: .init(
                id: fields.actorID, name: actorLogin,
                type: actorLogin.map { $0.hasSuffix("[bot]") ? .serviceAccount : .user } ?? .unknown,
                ip: fields.actorIP),
            target: target,
            organization: fields.org ?? fields.business,
            message: [actorLogin, action, repo ?? user].compactMap { $0 }.joined(separator: " "),
            details: details, raw: raw)
        return NormalizedEntry(upstreamID: upstreamID, event: event)
    }
}
