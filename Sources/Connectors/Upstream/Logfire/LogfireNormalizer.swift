import Foundation

/// Maps one Logfire audit entry into the schema.
enum LogfireNormalizer {
    static let eventTypes: [String: AuditEvent.EventType] = [
        "LOGIN": .authentication, "LOGOUT": .authentication,
        "INSERT": .configuration, "UPDATE": .configuration, "DELETE": .configuration,
    ]

    static func normalize(_ item: JSONValue, configuration: LogfireConfiguration, receivedAt: Date) throws -> NormalizedEntry {
        guard case .object(let object) = item else {
            throw SourceError(.malformed, "Logfire entry is a \(item.typeName), not an object")
        }
        guard let upstreamID = object["id"]?.scalarText, !upstreamID.isEmpty else {
            throw SourceError(.malformed, "Logfire entry has no id: \(item.excerpt)")
        }
        guard let stamp = object["created_at"]?.stringValue, let time = RFC3339.parseLenient(stamp) else {
            throw SourceError(.malformed, "Logfire entry \(upstreamID) has no valid created_at: \(item.excerpt)")
        }
        let action = object["action"]?.scalarText ?? ""
        let user = object["user_name"]?.stringValue
        let resourceType = object["resource_type"]?.stringValue
        let recordID = object["record_id"]?.scalarText
        let summary: [String] = [user ?? "unknown actor", action, resourceType ?? "", recordID ?? ""]
        let event = AuditEvent(
            id: AuditEvent.stableID(sourceName: configuration.name, upstreamID: upstreamID),
            time: time, receivedAt: receivedAt,
            source: .init(name: configuration.name, type: LogfireSource.type, eventID: upstreamID),
            eventType: eventTypes[action] ?? .other, action: action, outcome: .success,
            severity: action == "DELETE" ? .low : .info,
            actor: .init(id: user, name: user, type: user == nil ? .unknown : .user, ip: object["ip_address"]?.stringValue),
            target: .init(type: resourceType, id: recordID),
            organization: object["organization_name"]?.stringValue, project: object["project_name"]?.stringValue,
            message: summary.filter { !$0.isEmpty }.joined(separator: " "),
            changes: object["downgrade_patches"]?.arrayValue, raw: item)
        return NormalizedEntry(upstreamID: upstreamID, event: event)
    }
}
