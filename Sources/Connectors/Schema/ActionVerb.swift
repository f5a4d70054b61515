import Foundation

/// What an upstream `action` does, read from its words: the ECS and OCSF mappings key on it.
///
/// Upstreams spell actions freely (`LOGIN`, `user.created`, `deployment.deploy`, `apiKeyRevoke`),
/// so the action is cut into lowercase words and the LAST word that is a known verb wins
/// (`role.assign_user` → attach, `user.delete` → delete). No known word: `nil` ("other").
public enum ActionVerb: String, Sendable, CaseIterable {
    case create, read, update, delete, login, logout, attach, detach, enable, disable, lock

    /// Word → verb. Past tenses and the SQL verbs (Logfire: INSERT/UPDATE/DELETE) included.
    static let words: [String: ActionVerb] = [
        "create": .create, "created": .create, "insert": .create, "inserted": .create, "add": .create,
        "added": .create, "new": .create, "register": .create, "registered": .create, "invite": .create,
        "invited": .create, "signup": .create,
        "read": .read, "get": .read, "list": .read, "view": .read, "viewed": .read, "access": .read,
        "accessed": .read, "export": .read, "exported": .read, "download": .read, "query": .read, "search": .read,
        "update": .update, "updated": .update, "modify": .update, "modified": .update, "edit": .update,
        "edited": .update, "change": .update, "changed": .update, "patch": .update, "set": .update,
        "rename": .update, "renamed": .update, "rotate": .update, "rotated": .update,
        "delete": .delete, "deleted": .delete, "remove": .delete, "removed": .delete, "destroy": .delete,
        "destroyed": .delete, "purge": .delete, "purged": .delete,
        "login": .login, "logon": .login, "signin": .login, "authenticate": .login, "authenticated": .login,
        "logout": .logout, "logoff": .logout, "signout": .logout,
        "attach": .attach, "attached": .attach, "assign": .attach, "assigned": .attach, "grant": .attach,
        "granted": .attach,
        "detach": .detach, "detached": .detach, "unassign": .detach, "unassigned": .detach, "revoke": .detach,
        "revoked": .detach,
        "enable": .enable, "enabled": .enable, "activate": .enable, "activated": .enable,
        "disable": .disable, "disabled": .disable, "deactivate": .disable, "deactivated": .disable,
        "suspend": .disable, "suspended": .disable,
        "lock": .lock, "locked": .lock,
    ]

    public init?(action: String) {
        let words = Self.split(action)
        // "log in", "sign_out": two words that are one verb.
        var candidates: [String] = []
        for (index, word) in words.enumerated() {
            candidates.append(word)
            if index + 1 < words.count, ["log", "sign"].contains(word), ["in", "on", "out", "off", "up"].contains(words[index + 1]) {
                candidates.append(word + words[index + 1])
            }
        }
        guard let verb = candidates.reversed().lazy.compactMap({ Self.words[$0] }).first else { return nil }
        self = verb
    }

    /// Lowercase words: split at anything not a letter or digit, and at lower→upper case changes.
    static func split(_ action: String) -> [String] {
        var action = action
        if let words = action.withUTF8(asciiWords) { return words }
        return unicodeWords(action)
    }

    /// `split` for ASCII actions (nearly all), byte by byte: Character properties and
    /// `lowercased()` per character were most of the ECS and OCSF classification's cost.
    private static func asciiWords(_ bytes: UnsafeBufferPointer<UInt8>) -> [String]? {
        var words: [String] = []
        var current: [UInt8] = []
        current.reserveCapacity(bytes.count)
        var previousWasLower = false
        for byte in bytes {
            guard byte < 0x80 else { return nil }
            let isUpper = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
            let isLower = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            if isUpper || isLower || isDigit {
                if isUpper, previousWasLower, !current.isEmpty {
                    words.append(String(decoding: current, as: UTF8.self))
                    current.removeAll(keepingCapacity: true)
                }
                current.append(isUpper ? byte | 0x20 : byte)
                previousWasLower = isLower || isDigit
            } else {
                if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
                current.removeAll(keepingCapacity: true)
                previousWasLower = false
            }
        }
        if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
        return words
    }

    static func unicodeWords(_ action: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousWasLower = false
        for character in action {
            if character.isLetter || character.isNumber {
                if character.isUppercase, previousWasLower, !current.isEmpty {
                    words.append(current)
                    current = ""
                }
                current += character.lowercased()
                previousWasLower = character.isLowercase || character.isNumber
            } else {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousWasLower = false
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
