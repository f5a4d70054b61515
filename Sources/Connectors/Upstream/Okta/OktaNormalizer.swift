import Foundation

/// Maps one Okta LogEvent into the schema.
enum OktaNormalizer {
    /// By `eventType` prefix, the longest that matches: sign-ins and sessions are authentication;
    /// memberships, grants and privileges authorization; lifecycle and settings configuration;
    /// threats, locks and suspicious activity security.
    static let eventTypePrefixes: [(prefix: String, type: AuditEvent.EventType)] = [
        ("user.session.", .authentication), ("user.authentication.", .authentication), ("policy.evaluate_sign_on", .authentication),
        ("user.mfa.okta_verify.deny_push", .security), ("user.account.lock", .security),
        ("user.account.report_suspicious_activity", .security), ("security.", .security), ("user.risk.", .security),
        ("group.user_membership.", .authorization), ("application.user_membership.", .authorization),
        ("user.account.privilege.", .authorization), ("app.oauth2.as.consent.", .authorization), ("group.privilege.", .authorization),
        ("user.lifecycle.", .configuration), ("user.account.", .configuration), ("user.mfa.factor.", .configuration),
        ("group.lifecycle.", .configuration), ("application.lifecycle.", .configuration), ("policy.", .configuration),
        ("system.", .configuration), ("zone.", .configuration), ("app.", .configuration),
    ]

    /// `outcome.result`: ALLOW and DENY are decisions; CHALLENGE, SKIPPED and UNKNOWN decided nothing yet.
    static let outcomes: [String: AuditEvent.Outcome] = [
        "SUCCESS": .success, "ALLOW": .success, "FAILURE": .failure, "DENY": .denied,
        "CHALLENGE": .unknown, "SKIPPED": .unknown, "UNKNOWN": .unknown,
    ]

    /// Okta's four levels on our five: WARN is worth a look, ERROR more.
    static let severities: [String: AuditEvent.Severity] = ["DEBUG": .info, "INFO": .info, "WARN": .medium, "ERROR": .high]

    static func eventType(_ eventType: String) -> AuditEvent.EventType {
        eventTypePrefixes.filter { eventType.hasPrefix($0.prefix) }.max { $0.prefix.count < $1.prefix.count }?.type ?? .other
    }

    /// Every member of a LogEvent that `normalize` reads; a page's entries are built with only
    /// these (`debugContext`, `authenticationContext`, `request` and the like are most of an
    /// event, and its `raw` is its own text). A member read below must be named here.
    static let members: Set<String> = [
        "uuid", "published", "eventType", "actor", "client", "target", "outcome", "transaction", "severity", "displayMessage",
    ]

    static func normalize(_ item: JSONValue, configuration: OktaConfiguration, receivedAt: Date) throws -> NormalizedEntry {
        guard case .object = item else {
            throw SourceError(.malformed, "Okta LogEvent is a \(item.typeName), not an object")
        }
        let fields = OktaEventFields(item)
        guard fields.uuid?.isEmpty == false else {
            throw SourceError(.malformed, "Okta LogEvent has no uuid: \(item.excerpt)")
        }
        return try normalize(fields, raw: item, configuration: configuration, receivedAt: receivedAt)
    }

    /// The mapping from an event's fields. `raw` is its tree; `.null` when it was read without one
    /// (`OktaEventReader`), its own text then being all of it.
    static func normalize(
        _ fields: OktaEventFields, raw: JSONValue, configuration: OktaConfiguration, receivedAt: Date
    ) throws -> NormalizedEntry {
        guard let upstreamID = fields.uuid, !upstreamID.isEmpty else {
            throw SourceError(.malformed, "Okta LogEvent has no uuid")
        }
        guard let stamp = fields.published, let time = RFC3339.parseLenient(stamp) else {
            throw SourceError(.malformed, "Okta LogEvent \(upstreamID) has no valid published time")
        }
        let action = fields.eventType ?? ""
        let actorType: AuditEvent.ActorType =
            switch fields.actorType {
            case "User": .user
            case "SystemPrincipal", "PublicClientApp", "Client": .serviceAccount
            default: .unknown
            }
        let actor = AuditEvent.Actor(
            id: fields.actorID, name: fields.actorDisplayName,
            email: fields.actorAlternateID.flatMap { $0.contains("@") ? $0 : nil }, type: actorType, ip: fields.clientIP)
        let targets = fields.targets
        // The first target is the one acted on (the user added, the app assigned); the rest stay in details.
        let target = targets.first.map { first in
            AuditEvent.Target(
                type: first["type"]?.stringValue, id: first["id"]?.scalarText,
                name: first["displayName"]?.stringValue ?? first["alternateId"]?.stringValue)
        }
        var details: [String: JSONValue] = [:]
        if let reason = fields.outcomeReason, !reason.isNull { details["outcome_reason"] = reason }
        if let result = fields.outcomeResult { details["outcome_result"] = .string(result) }
        if let agent = fields.userAgent, !agent.isNull { details["user_agent"] = agent }
        if let place = fields.geo, !place.isNull { details["geo"] = place }
        if targets.count > 1 { details["targets"] = .array(targets) }
        if let transaction = fields.transactionID, !transaction.isNull { details["transaction_id"] = transaction }
        let event = AuditEvent(
            id: AuditEvent.stableID(sourceName: configuration.name, upstreamID: upstreamID),
            time: time, receivedAt: receivedAt,
            source: .init(name: configuration.name, type: OktaSource.type, eventID: upstreamID),
            eventType: eventType(action), action: action,
            outcome: outcomes[fields.outcomeResult ?? ""] ?? .unknown,
            severity: severities[fields.severity ?? ""] ?? .info,
            actor: actor, target: target,
            message: fields.displayMessage, details: details, raw: raw)
        return NormalizedEntry(upstreamID: upstreamID, event: event)
    }
}
