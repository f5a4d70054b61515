import Foundation

/// Small helpers the ECS and OCSF encoders share.
enum EncodingSupport {
    /// Whole milliseconds since 1970 (OCSF `time`; Datadog reads numbers as epoch ms too).
    static func epochMilliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The upstream entry as a JSON string (ECS `event.original`, OCSF `raw_data`).
    static func rawText(_ event: AuditEvent) -> String {
        String(decoding: JSONWriter.write(event.raw), as: UTF8.self)
    }

    /// The event's message, or a one-line summary when the upstream had none: both schemas
    /// show `message` first, and an empty one makes a SIEM list unreadable.
    static func message(_ event: AuditEvent) -> String {
        if let message = event.message, !message.isEmpty { return message }
        let who = event.actor.email ?? event.actor.name ?? event.actor.id
        return event.action + (who.map { " by " + $0 } ?? "") + ": " + event.outcome.rawValue
    }

    /// A target whose type names an account (OCSF Account Change; ECS type `user`).
    static func isAccount(_ target: AuditEvent.Target?) -> Bool {
        guard let type = target?.type else { return false }
        return accountTypes.contains(normalizedType(type))
    }

    /// A target whose type names a role, group or policy (ECS type `admin`).
    static func isAdminObject(_ target: AuditEvent.Target?) -> Bool {
        guard let type = target?.type else { return false }
        return adminTypes.contains(normalizedType(type))
    }

    static let accountTypes: Set<String> = ["user", "account", "role", "service_account", "serviceaccount", "member"]
    static let adminTypes: Set<String> = ["role", "group", "policy", "permission"]

    /// `Service Accounts` → `service_account`, `users` → `user`.
    static func normalizedType(_ type: String) -> String {
        // ASCII (nearly always) byte by byte: Foundation's replacingOccurrences bridges to NSString.
        if type.utf8.allSatisfy({ $0 < 0x80 }) {
            var bytes = type.utf8.map { byte -> UInt8 in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte | 0x20
                case UInt8(ascii: " "), UInt8(ascii: "-"): UInt8(ascii: "_")
                default: byte
                }
            }
            if bytes.last == UInt8(ascii: "s"), bytes.count > 1 { bytes.removeLast() }
            return String(decoding: bytes, as: UTF8.self)
        }
        var text = type.lowercased().replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "-", with: "_")
        if text.hasSuffix("s"), text.count > 1 { text.removeLast() }
        return text
    }

    /// An IPv4 or IPv6 address (with an optional `%zone`). Elasticsearch maps `source.ip` as
    /// `ip` and OCSF's schema has a pattern: a hostname or "unknown" there fails the whole
    /// document, so anything else is carried as an address/name instead.
    static func isIPAddress(_ text: String) -> Bool {
        if text.utf8.contains(UInt8(ascii: ":")) {
            let address = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? ""
            var buffer = in6_addr()
            return inet_pton(AF_INET6, address, &buffer) == 1
        }
        var buffer = in_addr()
        return inet_pton(AF_INET, text, &buffer) == 1
    }

    /// Roughly OCSF's `email_t` pattern: something@domain.tld without spaces.
    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix(".")
        else { return false }
        return !text.contains(where: \.isWhitespace)
    }

    /// The vendor and product an upstream type stands for (OCSF `metadata.product`).
    static func product(sourceType: String) -> (name: String, vendor: String) {
        switch sourceType {
        case "deepintshield": ("DeepIntShield", "DeepIntShield")
        case "logfire": ("Logfire", "Pydantic")
        case "deploys": ("deploys.app", "deploys.app")
        case "okta": ("Okta System Log", "Okta")
        case "onepassword": ("1Password Events API", "1Password")
        case "github": ("GitHub audit log", "GitHub")
        case "slack": ("Slack Audit Logs", "Slack")
        default: (sourceType, sourceType)
        }
    }

    static func string(_ value: String?) -> JSONValue? { value.map(JSONValue.string) }

    /// The schema's source reference, kept among the leftovers of both encodings.
    static func sourceReference(_ event: AuditEvent) -> JSONValue {
        .object(["name": .string(event.source.name), "type": .string(event.source.type), "event_id": .string(event.source.eventID)])
    }

    static func target(_ target: AuditEvent.Target) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        fields["type"] = string(target.type)
        fields["id"] = string(target.id)
        fields["name"] = string(target.name)
        fields["location"] = string(target.location)
        return .object(fields)
    }
}
