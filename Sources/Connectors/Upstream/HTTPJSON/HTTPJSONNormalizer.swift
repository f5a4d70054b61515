import Foundation

/// Maps one item of a generic JSON API into the schema through the configured field paths.
enum HTTPJSONNormalizer {
    static func normalize(_ item: JSONValue, configuration: HTTPJSONConfiguration, receivedAt: Date) throws -> NormalizedEntry {
        guard let upstreamID = item.value(at: configuration.idField)?.scalarText, !upstreamID.isEmpty else {
            throw SourceError(.malformed, "\(configuration.name) item has no id at \(configuration.idField): \(item.excerpt)")
        }
        guard let timeValue = item.value(at: configuration.timeField), let time = configuration.timeFormat.parse(timeValue) else {
            throw SourceError(
                .malformed, "\(configuration.name) item \(upstreamID) has no readable time at \(configuration.timeField): \(item.excerpt)")
        }
        let mapping = configuration.mapping
        func field(_ key: String) -> String? {
            guard let path = mapping.fields[key], let text = item.value(at: path)?.scalarText else { return nil }
            return mapping.valueMaps[key]?[text] ?? text
        }
        let eventType = field("event_type").flatMap(AuditEvent.EventType.init(rawValue:)) ?? mapping.defaultEventType
        let actor = AuditEvent.Actor(
            id: field("actor_id"), name: field("actor_name"), email: field("actor_email"),
            type: field("actor_type").flatMap(AuditEvent.ActorType.init(rawValue:))
                ?? ((field("actor_id") ?? field("actor_name") ?? field("actor_email")) == nil ? .unknown : .user),
            ip: field("actor_ip"))
        let target = AuditEvent.Target(
            type: field("target_type"), id: field("target_id"), name: field("target_name"), location: field("target_location"))
        let action = field("action") ?? ""
        let summary: [String] = [actor.name ?? actor.email ?? actor.id ?? "", action, target.name ?? target.id ?? ""]
        let event = AuditEvent(
            id: AuditEvent.stableID(sourceName: configuration.name, upstreamID: upstreamID),
            time: time, receivedAt: receivedAt,
            source: .init(name: configuration.name, type: HTTPJSONSource.type, eventID: upstreamID),
            eventType: eventType, action: action,
            outcome: field("outcome").flatMap(AuditEvent.Outcome.init(rawValue:)) ?? .unknown,
            severity: field("severity").flatMap(AuditEvent.Severity.init(rawValue:)) ?? .info,
            actor: actor, target: target.type == nil && target.id == nil && target.name == nil ? nil : target,
            organization: field("organization"), project: field("project"),
            message: field("message") ?? summary.filter { !$0.isEmpty }.joined(separator: " "),
            raw: item)
        return NormalizedEntry(upstreamID: upstreamID, event: event)
    }
}
