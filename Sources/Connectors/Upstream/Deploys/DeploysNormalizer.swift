import Foundation
import Synchronization

/// Maps one deploys.app audit item into the schema.
enum DeploysNormalizer {
    static func normalize(_ item: JSONValue, configuration: DeploysConfiguration, receivedAt: Date) throws -> NormalizedEntry {
        let (upstreamID, time) = try identify(item)
        return normalize(item, upstreamID: upstreamID, time: time, configuration: configuration, receivedAt: receivedAt)
    }

    /// What paging needs of an item, and all that can make it malformed: its id and its time.
    static func identify(_ item: JSONValue) throws -> (upstreamID: String, time: Date) {
        guard case .object = item else {
            throw SourceError(.malformed, "deploys.app item is a \(item.typeName), not an object")
        }
        guard let idValue = item["id"], let upstreamID = idValue.integerText else {
            throw SourceError(.malformed, "deploys.app item has no integer id: \(item.excerpt)")
        }
        guard let created = item["createdAt"]?.stringValue, let time = RFC3339.parse(created) else {
            throw SourceError(.malformed, "deploys.app item \(upstreamID) has no RFC 3339 createdAt: \(item.excerpt)")
        }
        return (upstreamID, time)
    }

    /// The rest of the mapping, for an item `identify` accepted.
    static func normalize(
        _ item: JSONValue, upstreamID: String, time: Date, configuration: DeploysConfiguration, receivedAt: Date, rawText: Data? = nil
    ) -> NormalizedEntry {
        normalize(
            DeploysItemFields(item), raw: item, upstreamID: upstreamID, time: time, configuration: configuration, receivedAt: receivedAt,
            rawText: rawText)
    }

    /// The mapping from an item's fields. `raw` is the item's tree; `.null` when the item was read
    /// without one (`DeploysPageReader`), its own text `rawText` then being all of it.
    static func normalize(
        _ fields: DeploysItemFields, raw: JSONValue, upstreamID: String, time: Date, configuration: DeploysConfiguration,
        receivedAt: Date, rawText: Data?
    ) -> NormalizedEntry {
        let mapped = DeploysMapping(fields)
        let event = AuditEvent(
            id: AuditEvent.stableID(sourceName: configuration.name, upstreamID: upstreamID),
            time: time, receivedAt: receivedAt,
            source: .init(name: configuration.name, type: DeploysSource.type, eventID: upstreamID),
            eventType: mapped.eventType, action: mapped.action, outcome: mapped.outcome, severity: mapped.severity,
            actor: mapped.actor, target: mapped.target, organization: nil, project: configuration.project,
            message: mapped.message, details: mapped.details, raw: raw)
        return NormalizedEntry(upstreamID: upstreamID, event: event, rawText: rawText)
    }

    /// "who did what to which", the parts that are there, one space apart.
    static func summary(actor: String, action: String, target: String) -> String {
        var text = actor
        for part in [action, target] where !part.isEmpty {
            if !text.isEmpty { text += " " }
            text += part
        }
        return text
    }

    /// Upstream outcome → schema outcome (PROTOCOLS.md: success, forbidden, error).
    static let outcomes: [String: AuditEvent.Outcome] = [
        "success": .success, "forbidden": .denied, "error": .failure, "failure": .failure,
    ]

    static let actorTypes: [String: AuditEvent.ActorType] = [
        "User": .user, "user": .user, "ServiceAccount": .serviceAccount, "serviceAccount": .serviceAccount,
    ]

    /// Resource families whose changes grant or revoke access.
    static let authorizationResources: Set<String> = [
        "role", "permission", "collaborator", "member", "serviceaccount", "serviceaccountkey", "policy", "iam", "apikey",
    ]
    /// Verbs that read or export data (deploys.app logs no plain reads, but exports are logged).
    static let dataAccessVerbs: Set<String> = ["get", "read", "export", "download", "reveal", "dump"]
    static let authenticationVerbs: Set<String> = ["login", "logout", "signin", "signout", "authenticate"]

    /// `deployment.deploy` → configuration; `role.grant` → authorization; `user.login` → authentication.
    /// Remembered per (action, resource type): a source has few of each, and working it out
    /// (split, lowercase, set lookups) for every event was a tenth of normalizing one.
    static func eventType(action: String, resourceType: String?) -> AuditEvent.EventType {
        let key = EventTypeKey(action: action, resourceType: resourceType)
        if let known = knownEventTypes.withLock({ $0[key] }) { return known }
        let type = classify(action: action, resourceType: resourceType)
        knownEventTypes.withLock { known in
            // Bounded: a source inventing actions must not grow this without end.
            if known.count < 4096 { known[key] = type }
        }
        return type
    }

    private struct EventTypeKey: Hashable {
        var action: String
        var resourceType: String?
    }

    private static let knownEventTypes = Mutex<[EventTypeKey: AuditEvent.EventType]>([:])

    private static func classify(action: String, resourceType: String?) -> AuditEvent.EventType {
        let parts = action.split(separator: ".").map { $0.lowercased() }
        let family = (resourceType ?? parts.first ?? "").lowercased()
        let verb = parts.last ?? ""
        if authenticationVerbs.contains(verb) { return .authentication }
        if authorizationResources.contains(family) || parts.contains(where: authorizationResources.contains) {
            return .authorization
        }
        if dataAccessVerbs.contains(verb) { return .dataAccess }
        if action.isEmpty { return .other }
        return .configuration
    }

    /// A refused action is worth a look; a failed one less so; deletions are low; the rest informational.
    static func severity(outcome: AuditEvent.Outcome, action: String) -> AuditEvent.Severity {
        switch outcome {
        case .denied: return .medium
        case .failure: return .low
        default: return endsWithDelete(action) ? .low : .info
        }
    }

    /// `action` ends in "delete", in any case (without lowercasing a copy of every action).
    private static func endsWithDelete(_ action: String) -> Bool {
        let suffix = "delete".utf8
        let bytes = action.utf8
        guard bytes.count >= suffix.count else { return false }
        return zip(bytes.suffix(suffix.count), suffix).allSatisfy { $0 | 0x20 == $1 }
    }
}

extension JSONValue {
    /// An integer id, as a number or a string of digits.
    var integerText: String? {
        switch self {
        case .integer(let i): return String(i)
        case .string(let s) where !s.isEmpty && s.allSatisfy(\.isNumber): return s
        case .double(let d) where d.rounded() == d && abs(d) < 9e15: return String(Int64(d))
        default: return nil
        }
    }
}
