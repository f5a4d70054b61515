import Foundation

/// What a deploys.app item's fields map to, but for its id, times and raw text: shared by
/// `DeploysNormalizer.normalize` (an `AuditEvent`) and `DeploysNativeWriter` (the native
/// encoding, without the event), so the two cannot map an item differently.
struct DeploysMapping {
    var action: String
    /// As the upstream said it; kept in `details.upstream_outcome` when not empty.
    var upstreamOutcome: String
    var outcome: AuditEvent.Outcome
    var actor: AuditEvent.Actor
    var target: AuditEvent.Target
    var eventType: AuditEvent.EventType
    var severity: AuditEvent.Severity
    var message: String
    /// `channel`, unless absent or null; kept in `details.channel`.
    var channel: JSONValue?

    init(_ fields: DeploysItemFields) {
        action = fields.action ?? ""
        upstreamOutcome = fields.outcome ?? ""
        outcome = DeploysNormalizer.outcomes[upstreamOutcome] ?? .unknown
        let email = fields.actorEmail
        actor = AuditEvent.Actor(
            id: email, name: fields.actorLabel ?? email, email: email, type: DeploysNormalizer.actorTypes[fields.actorType ?? ""] ?? .unknown)
        target = AuditEvent.Target(
            type: fields.resourceType, id: fields.resourceID, name: fields.resourceName, location: fields.resourceLocation)
        eventType = DeploysNormalizer.eventType(action: action, resourceType: fields.resourceType)
        severity = DeploysNormalizer.severity(outcome: outcome, action: action)
        let detail = fields.detail ?? ""
        message =
            detail.isEmpty
            ? DeploysNormalizer.summary(actor: email ?? "unknown actor", action: action, target: target.name ?? target.id ?? "") : detail
        channel = fields.channel.flatMap { $0.isNull ? nil : $0 }
    }

    /// The event's `details`.
    var details: [String: JSONValue] {
        var details = [String: JSONValue](minimumCapacity: 2)
        if let channel { details["channel"] = channel }
        if !upstreamOutcome.isEmpty { details["upstream_outcome"] = .string(upstreamOutcome) }
        return details
    }
}
