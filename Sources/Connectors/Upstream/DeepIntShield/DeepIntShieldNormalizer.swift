import Foundation

/// Maps one DeepIntShield audit entry into the schema.
enum DeepIntShieldNormalizer {
    /// Upstream event_type → schema (PROTOCOLS.md lists both security_event and security_incident).
    static let eventTypes: [String: AuditEvent.EventType] = [
        "authentication": .authentication, "authorization": .authorization,
        "configuration_change": .configuration, "configuration": .configuration,
        "data_access": .dataAccess, "security_event": .security, "security_incident": .security,
    ]
    static let outcomes: [String: AuditEvent.Outcome] = [
        "success": .success, "failed": .failure, "denied": .denied, "blocked": .denied,
    ]
    static let severities: [String: AuditEvent.Severity] = [
        "info": .info, "low": .low, "medium": .medium, "high": .high, "critical": .critical,
    ]

    static func normalize(_ item: JSONValue, configuration: DeepIntShieldConfiguration, receivedAt: Date) throws -> NormalizedEntry {
        guard case .object(let object) = item else {
            throw SourceError(.malformed, "DeepIntShield entry is a \(item.typeName), not an object")
        }
        guard let upstreamID = object["event_id"]?.scalarText, !upstreamID.isEmpty else {
            throw SourceError(.malformed, "DeepIntShield entry has no event_id: \(item.excerpt)")
        }
        guard let stamp = (object["timestamp"] ?? object["created_at"])?.stringValue, let time = RFC3339.parse(stamp) else {
            throw SourceError(.malformed, "DeepIntShield entry \(upstreamID) has no RFC 3339 timestamp: \(item.excerpt)")
        }
        let action = object["action"]?.scalarText ?? ""
        let actorJSON = object["actor"]
        let email = actorJSON?["email"]?.stringValue
        let userID = actorJSON?["user_id"]?.scalarText
        let actor = AuditEvent.Actor(
            id: userID, name: email ?? userID, email: email,
            type: (userID ?? email) == nil ? .unknown : .user, ip: actorJSON?["ip_address"]?.stringValue)
        let target = AuditEvent.Target(type: object["resource_type"]?.scalarText, id: object["resource_id"]?.scalarText)
        var details: [String: JSONValue] = [:]
        if let extra = object["details"]?.objectValue { details = extra }
        for key in ["verification", "workspace_id", "event_type", "status"] {
            if let value = object[key], !value.isNull { details[key == "event_type" || key == "status" ? "upstream_" + key : key] = value }
        }
        let summary: [String] = [email ?? userID ?? "unknown actor", action, target.type ?? "", target.id ?? ""]
        let event = AuditEvent(
            id: AuditEvent.stableID(sourceName: configuration.name, upstreamID: upstreamID),
            time: time, receivedAt: receivedAt,
            source: .init(name: configuration.name, type: DeepIntShieldSource.type, eventID: upstreamID),
            eventType: eventTypes[object["event_type"]?.stringValue ?? ""] ?? .other,
            action: action,
            outcome: outcomes[object["status"]?.stringValue ?? ""] ?? .unknown,
            severity: severities[object["severity"]?.stringValue ?? ""] ?? .info,
            actor: actor, target: target, organization: object["workspace_id"]?.scalarText,
            message: summary.filter { !$0.isEmpty }.joined(separator: " "),
            details: details, raw: item)
        return NormalizedEntry(upstreamID: upstreamID, event: event)
    }
}
