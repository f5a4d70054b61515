import Foundation

/// What a deploys.app item's fields map to, but for its id, times and raw text: shared by
/// `DeploysNormalizer.normalize` (an `AuditEvent`) and `DeploysNativeWriter` (the native
/// encoding, without the event), so the two cannot map an item differently.
struct DeploysMapping {
    var action: String
    /// The outcome as the upstream said it, unless absent or empty; kept in `details.upstream_outcome`.
    var upstreamOutcome: String?
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
        let said = fields.outcome ?? ""
        upstreamOutcome = said.isEmpty ? nil : said
        outcome = DeploysNormalizer.outcomes[said] ?? .unknown
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

    /// The event's `details` (what `DeploysNativeWriter` writes, without the dictionary).
    var details: [String: JSONValue] {
        var details = [String: JSONValue](minimumCapacity: 2)
        details["channel"] = channel
        details["upstream_outcome"] = upstreamOutcome.map(JSONValue.string)
        return details
    }
}
