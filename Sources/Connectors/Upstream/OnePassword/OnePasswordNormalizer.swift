import Foundation

/// Maps one 1Password event (of any of the three streams) into the schema. Timestamps come in
/// the account's own offset (`-03:00`); the schema's time is the same instant, written in UTC.
enum OnePasswordNormalizer {
    /// Audit event `action`s: who may do what (grants, joins, suspensions) or settings.
    static let auditTypes: [String: AuditEvent.EventType] = [
        "grant": .authorization, "revoke": .authorization, "join": .authorization, "suspend": .authorization,
        "reactivate": .authorization, "provision": .authorization, "deprovision": .authorization,
    ]

    /// Sign-in attempt `category`: success, or why it failed (a firewall rule is a refusal).
    static let signInOutcomes: [String: AuditEvent.Outcome] = [
        "success": .success, "credentials_failed": .failure, "mfa_failed": .failure, "sso_failed": .failure,
        "modern_version_failed": .failure, "firewall_failed": .denied, "firewall_reported_success": .success,
    ]

    static func normalize(_ item: JSONValue, stream: String, configuration: OnePasswordConfiguration, receivedAt: Date) throws -> NormalizedEntry {
        guard case .object(let object) = item else {
            throw SourceError(.malformed, "1Password \(stream) item is a \(item.typeName), not an object")
        }
        guard let upstreamID = object["uuid"]?.scalarText, !upstreamID.isEmpty else {
            throw SourceError(.malformed, "1Password \(stream) item has no uuid: \(item.excerpt)")
        }
        guard let stamp = object["timestamp"]?.stringValue, let time = RFC3339.parseLenient(stamp) else {
            throw SourceError(.malformed, "1Password \(stream) item \(upstreamID) has no valid timestamp")
        }
        var event = AuditEvent(
            id: AuditEvent.stableID(sourceName: configuration.name, upstreamID: upstreamID), time: time, receivedAt: receivedAt,
            source: .init(name: configuration.name, type: OnePasswordSource.type, eventID: upstreamID),
            eventType: .other, action: "", outcome: .success, severity: .info, actor: .init(), raw: item)
        event.details["stream"] = .string(stream)
        if let location = object["location"], !location.isNull { event.details["location"] = location }
        switch stream {
        case "signinattempts":
            let category = object["category"]?.stringValue ?? ""
            let user = object["target_user"]
            event.eventType = .authentication
            event.action = "signin." + (category.isEmpty ? "attempt" : category)
            event.outcome = signInOutcomes[category] ?? (category.hasSuffix("_failed") ? .failure : .unknown)
            event.severity = event.outcome == .success ? .info : event.outcome == .denied ? .medium : .low
            event.actor = .init(
                id: user?["uuid"]?.scalarText, name: user?["name"]?.stringValue, email: user?["email"]?.stringValue,
                type: user == nil ? .unknown : .user, ip: object["client"]?["ip_address"]?.stringValue)
            if let client = object["client"], !client.isNull { event.details["client"] = client }
        case "itemusages":
            let user = object["user"]
            event.eventType = .dataAccess
            event.action = "item." + (object["action"]?.stringValue ?? "use")
            event.actor = .init(
                id: user?["uuid"]?.scalarText, name: user?["name"]?.stringValue, email: user?["email"]?.stringValue,
                type: user == nil ? .unknown : .user, ip: object["client"]?["ip_address"]?.stringValue)
            event.target = .init(type: "item", id: object["item_uuid"]?.scalarText, location: object["vault_uuid"]?.stringValue)
            if let client = object["client"], !client.isNull { event.details["client"] = client }
        default:
            // auditevents: `action` verbatim, what it acted on in `object_type`.
            let action = object["action"]?.stringValue ?? ""
            let actor = object["actor_details"]
            let objectType = object["object_type"]?.stringValue
            event.action = action
            event.eventType = auditTypes[action] ?? (["create", "update", "delete"].contains(action) ? .configuration : .other)
            event.severity = action == "delete" || action == "suspend" ? .low : action == "revoke" ? .low : .info
            event.actor = .init(
                id: object["actor_uuid"]?.scalarText ?? actor?["uuid"]?.scalarText, name: actor?["name"]?.stringValue,
                email: actor?["email"]?.stringValue,
                type: object["actor_type"]?.stringValue == "service_account" ? .serviceAccount : .user,
                ip: object["session"]?["ip"]?.stringValue)
            event.target = .init(type: objectType, id: object["object_uuid"]?.scalarText)
            event.organization = object["account_uuid"]?.stringValue
            for key in ["aux_id", "aux_uuid", "aux_info"] {
                if let value = object[key], !value.isNull { event.details[key] = value }
            }
        }
        event.message = [event.actor.email ?? event.actor.name, event.action, event.target?.type].compactMap { $0 }.joined(separator: " ")
        return NormalizedEntry(upstreamID: upstreamID, event: event)
    }
}
