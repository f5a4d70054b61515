import Foundation

/// Maps one Slack audit log entry into the schema.
enum SlackNormalizer {
    /// Exact actions first, then by the words in the action.
    static let eventTypes: [String: AuditEvent.EventType] = [
        "user_login": .authentication, "user_logout": .authentication, "user_login_failed": .authentication,
        "user_session_invalidated": .authentication, "user_session_reset_by_admin": .authentication,
        "role_change_to_admin": .authorization, "role_change_to_owner": .authorization, "role_change_to_user": .authorization,
        "role_change_to_guest": .authorization, "user_channel_join": .authorization, "user_channel_leave": .authorization,
        "guest_channel_added": .authorization, "app_scopes_expanded": .authorization,
        "file_downloaded": .dataAccess, "file_downloaded_blocked": .dataAccess, "file_public_link_created": .dataAccess,
        "channel_exported": .dataAccess, "workspace_exported": .dataAccess,
        "anomaly": .security,
    ]

    static func eventType(_ action: String) -> AuditEvent.EventType {
        if let type = eventTypes[action] { return type }
        for word in [
            "created", "deleted", "changed", "installed", "uninstalled", "approved", "restricted", "archive", "renamed", "pref_", "deactivated",
            "reactivated",
        ]
        where action.contains(word) {
            return .configuration
        }
        return .other
    }

    static func outcome(_ action: String) -> AuditEvent.Outcome {
        if action.hasSuffix("_blocked") || action.hasSuffix("_denied") { return .denied }
        if action.hasSuffix("_failed") { return .failure }
        return .success
    }

    /// Anomalies are what Slack itself flags; admin and owner grants and deactivations deserve a look.
    static func severity(_ action: String, outcome: AuditEvent.Outcome) -> AuditEvent.Severity {
        if action == "anomaly" { return .high }
        if action.hasPrefix("role_change_to_admin") || action.hasPrefix("role_change_to_owner") { return .medium }
        if outcome == .denied { return .medium }
        if outcome == .failure || action.contains("deleted") || action.contains("deactivated") { return .low }
        return .info
    }

    static func normalize(_ item: JSONValue, configuration: SlackConfiguration, receivedAt: Date) throws -> NormalizedEntry {
        guard case .object(let object) = item else {
            throw SourceError(.malformed, "Slack audit entry is a \(item.typeName), not an object")
        }
        guard let upstreamID = object["id"]?.scalarText, !upstreamID.isEmpty else {
            throw SourceError(.malformed, "Slack audit entry has no id: \(item.excerpt)")
        }
        guard let seconds = object["date_create"]?.numberValue else {
            throw SourceError(.malformed, "Slack audit entry \(upstreamID) has no date_create")
        }
        let action = object["action"]?.stringValue ?? ""
        let user = object["actor"]?["user"]
        let context = object["context"]
        let entity = object["entity"]
        let entityType = entity?["type"]?.stringValue
        let entityObject = entityType.flatMap { entity?[$0] }
        let outcome = outcome(action)
        var details: [String: JSONValue] = [:]
        if let extra = object["details"], !extra.isNull { details["details"] = extra }
        if let agent = context?["ua"], !agent.isNull { details["user_agent"] = agent }
        if let session = context?["session_id"], !session.isNull { details["session_id"] = session }
        let location = context?["location"]
        let event = AuditEvent(
            id: AuditEvent.stableID(sourceName: configuration.name, upstreamID: upstreamID),
            time: Date(timeIntervalSince1970: seconds), receivedAt: receivedAt,
            source: .init(name: configuration.name, type: SlackSource.type, eventID: upstreamID),
            eventType: eventType(action), action: action, outcome: outcome, severity: severity(action, outcome: outcome),
            actor: .init(
                id: user?["id"]?.scalarText, name: user?["name"]?.stringValue, email: user?["email"]?.stringValue,
                type: object["actor"]?["type"]?.stringValue == "user" ? .user : .unknown, ip: context?["ip_address"]?.stringValue),
            target: entityType.map { .init(type: $0, id: entityObject?["id"]?.scalarText, name: entityObject?["name"]?.stringValue) },
            organization: location?["name"]?.stringValue ?? location?["domain"]?.stringValue,
            message: [user?["name"]?.stringValue ?? user?["email"]?.stringValue, action, entityObject?["name"]?.stringValue]
                .compactMap { $0 }.joined(separator: " "),
            details: details, raw: item)
        return NormalizedEntry(upstreamID: upstreamID, event: event)
    }
}
