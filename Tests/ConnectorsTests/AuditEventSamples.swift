import Foundation

@testable import Connectors

/// Audit events for the encoding and sink tests.
enum AuditEventSamples {
    static let time = RFC3339.parse("2026-05-01T10:30:00.123Z")!
    static let receivedAt = RFC3339.parse("2026-05-01T10:31:02.004Z")!

    /// The upstream entry: nested, with quotes, a newline, non-ASCII and an exact large integer.
    static let raw = JSONValue.object([
        "event_id": .string("81234"),
        "action": .string("user.login"),
        "actor": .object(["email": .string("bob@acme.io"), "ip_address": .string("203.0.113.42")]),
        "details": .object(["note": .string("said \"hi\"\nthen left — ok")]),
        "sequence": .integer(9_007_199_254_740_993),
    ])

    static func event(
        type: AuditEvent.EventType = .authentication, action: String = "user.login", outcome: AuditEvent.Outcome = .success,
        severity: AuditEvent.Severity = .info, target: AuditEvent.Target? = nil, actor: AuditEvent.Actor? = nil,
        time: Date = time, message: String? = "Bob logged in", changes: [JSONValue]? = nil,
        details: [String: JSONValue] = [:]
    ) -> AuditEvent {
        AuditEvent(
            id: AuditEvent.stableID(sourceName: "shield", upstreamID: "81234"), time: time, receivedAt: receivedAt,
            source: .init(name: "shield", type: "deepintshield", eventID: "81234"), eventType: type, action: action,
            outcome: outcome, severity: severity,
            actor: actor ?? .init(id: "u1", name: "Bob", email: "bob@acme.io", type: .user, ip: "203.0.113.42"),
            target: target, organization: "acme", project: "web", message: message, changes: changes, details: details, raw: raw)
    }

    /// One action per verb, spelled the ways upstreams spell them.
    static let verbActions: [(action: String, verb: ActionVerb?)] = [
        ("project.create", .create), ("INSERT", .create), ("user.created", .create),
        ("audit_log.list", .read), ("export", .read),
        ("UPDATE", .update), ("settings.changed", .update), ("projectRename", .update),
        ("DELETE", .delete), ("read_tokens.removed", .delete),
        ("LOGIN", .login), ("user.sign_in", .login), ("log in", .login),
        ("LOGOUT", .logout), ("session.signOut", .logout),
        ("role.assign", .attach), ("permission.granted", .attach),
        ("role.revoke", .detach), ("policy.detached", .detach),
        ("user.enable", .enable), ("account.disabled", .disable), ("user.locked", .lock),
        ("deployment.deploy", nil), ("", nil),
    ]

    static func parse(_ data: Data) throws -> JSONValue { try JSONValue.parse(data) }
}
