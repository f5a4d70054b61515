import Connectors
import Foundation
import Yams

/// Reads one mapping of the configuration document, tracking the key path for error messages,
/// expanding `${VAR}` in scalars, and remembering which keys were read so unknown ones are errors.
final class ConfigReader {
    let path: String
    private let pairs: [(key: String, value: Node)]
    private var read: Set<String> = []
    private let context: Context

    /// Shared by every reader of one load: the environment and the problems found so far.
    final class Context {
        let environment: [String: String]
        var problems: [ConfigurationError.Problem] = []
        /// Key paths of secrets written into the document itself (not `${VAR}`, not `*_file`):
        /// a configuration file readable by others then gives them away.
        var inlineSecrets: [String] = []
        /// Admin commands (`status`, `checkpoints`, `deadletters`, `check` without `--connect`)
        /// read only the state: a secret they cannot read here (its variable or credential file
        /// is the service's) is not a problem for them. Its key path is noted instead.
        var secretsOptional = false
        var unavailableSecrets: [String] = []
        /// Every key path a reader asked for, list indexes as `[]` (`sources[].tls.ca_file`): the
        /// keys the configuration accepts, which the reference in docs/ must name (a test checks).
        var askedKeys: Set<String> = []
        init(environment: [String: String]) { self.environment = environment }
        func fail(_ path: String, _ message: String) {
            problems.append(.init(path: path, message: message))
        }
    }

    init?(node: Node, path: String, context: Context) {
        self.path = path
        self.context = context
        guard case .mapping(let mapping) = node else {
            context.fail(path, "must be a mapping of keys to values")
            return nil
        }
        var pairs: [(String, Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                context.fail(path, "keys must be plain strings")
                continue
            }
            pairs.append((scalar.string, value))
        }
        self.pairs = pairs
    }

    func fail(_ key: String?, _ message: String) {
        context.fail(key.map(child) ?? path, message)
    }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { node(key) != nil }

    private func node(_ key: String) -> Node? {
        read.insert(key)
        context.askedKeys.insert(Self.listIndexesRemoved(child(key)))
        guard let value = pairs.first(where: { $0.key == key })?.value else { return nil }
        if case .scalar = value, value.null != nil { return nil }
        return value
    }

    /// A scalar as text, `${VAR}` expanded; nil when absent.
    private func scalar(_ key: String, at path: String? = nil) -> String? {
        guard let value = node(key) else { return nil }
        return scalarText(value, path: path ?? child(key))
    }

    private func scalarText(_ value: Node, path: String) -> String? {
        guard case .scalar(let scalar) = value else {
            context.fail(path, "must be a single value, not a \(value.isMapping ? "mapping" : "list")")
            return nil
        }
        do {
            return try EnvironmentExpansion.expand(scalar.string, environment: context.environment)
        } catch .unset(let name) {
            context.fail(path, "environment variable \(name) is not set (use ${\(name):-default} for a default)")
        } catch {
            context.fail(path, "unterminated ${ in value")
        }
        return nil
    }

    func string(_ key: String) -> String? { scalar(key) }

    var environmentVariables: [String: String] { context.environment }

    /// Whether the document's own text for `key` takes a `${VAR}`: such a value may be a secret
    /// or an environment's detail, so errors do not echo it.
    private func isFromVariable(_ key: String) -> Bool {
        guard case .scalar(let scalar)? = pairs.first(where: { $0.key == key })?.value else { return false }
        return scalar.string.contains("${")
    }

    /// `, got "text"` for an error message, unless the value came from a variable.
    private func got(_ key: String, _ text: String) -> String {
        isFromVariable(key) ? " (the value comes from a variable and is not shown)" : ", got \"\(text)\""
    }

    /// A secret: `key` (inline or `${VAR}`), or `key_file`, a file that holds it (systemd
    /// credentials, Kubernetes and Docker secrets). A relative `key_file` is looked up in
    /// `$CREDENTIALS_DIRECTORY` when systemd sets it (`LoadCredential=`). One trailing newline is
    /// dropped. nil when neither is given (or on an error already reported).
    func secret(_ key: String) -> String? {
        let fileKey = key + "_file"
        let hasInline = has(key)
        let hasFile = has(fileKey)
        if hasInline, hasFile {
            fail(fileKey, "give \(key) or \(fileKey), not both")
            return nil
        }
        return readableHere {
            if hasFile { return scalar(fileKey).flatMap { readSecretFile($0, key: fileKey) } }
            guard let value = scalar(key) else { return nil }
            if !isFromVariable(key), !value.isEmpty { context.inlineSecrets.append(child(key)) }
            return value
        }
    }

    /// Reads a secret's value; for admin commands (`secretsOptional`), a value this shell cannot
    /// read (an unset variable, a credential file only the service sees) is noted, not a problem.
    private func readableHere(_ read: () -> String?) -> String? {
        guard context.secretsOptional else { return read() }
        let problemsBefore = context.problems.count
        let value = read()
        guard context.problems.count > problemsBefore else { return value }
        context.unavailableSecrets += context.problems[problemsBefore...].map(\.description)
        context.problems.removeSubrange(problemsBefore...)
        return Self.unavailableSecret
    }

    /// Stands in for a secret an admin command could not read; never sent anywhere (those commands
    /// make no requests). Shaped to pass every format check (a webhook's `whsec_` + base64).
    static let unavailableSecret = "whsec_dW5hdmFpbGFibGUgaGVyZQ=="

    /// Every key was read: the keys an unknown `type` would have taken are not reported one by one.
    func acceptRemainingKeys() {
        for (key, _) in pairs { read.insert(key) }
    }

    /// `secret`, reporting "is required" when neither `key` nor `key_file` is given.
    func requiredSecret(_ key: String) -> String? {
        guard let value = secret(key) else {
            if !has(key), !has(key + "_file") { fail(key, "is required (or \(key)_file: a file that holds it)") }
            return nil
        }
        if value.isEmpty { fail(key, "must not be empty") }
        return value.isEmpty ? nil : value
    }

    /// `LoadCredential=audit-forwarder:/etc/audit-forwarder/credentials` in the shipped units.
    static let credentialPrefix = "audit-forwarder_"

    /// Secrets are small; a larger file is the wrong file.
    static let maxSecretFileBytes = 64 << 10

    private func readSecretFile(_ path: String, key: String) -> String? {
        var resolved = path
        if !path.hasPrefix("/"), let directory = context.environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
            resolved = directory + "/" + path
            // The shipped units load the directory /etc/audit-forwarder/credentials, whose files
            // systemd names `audit-forwarder_<file>`.
            let prefixed = directory + "/" + Self.credentialPrefix + path
            if !FileManager.default.fileExists(atPath: resolved), FileManager.default.fileExists(atPath: prefixed) { resolved = prefixed }
        }
        guard let handle = FileHandle(forReadingAtPath: resolved) else {
            let reason = FileManager.default.fileExists(atPath: resolved) ? "permission denied" : "no such file"
            fail(key, "cannot read \(resolved): \(reason)")
            return nil
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: Self.maxSecretFileBytes + 1)) ?? Data()
        guard data.count <= Self.maxSecretFileBytes else {
            fail(key, "\(resolved) is larger than \(Self.maxSecretFileBytes / 1024) KiB; is it the right file?")
            return nil
        }
        guard var text = String(data: data, encoding: .utf8) else {
            fail(key, "\(resolved) is not UTF-8 text")
            return nil
        }
        if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
        guard !text.isEmpty else {
            fail(key, "\(resolved) is empty")
            return nil
        }
        return text
    }

    func requiredString(_ key: String) -> String? {
        guard let value = scalar(key) else {
            if !has(key) { fail(key, "is required") }
            return nil
        }
        if value.isEmpty { fail(key, "must not be empty") }
        return value.isEmpty ? nil : value
    }

    func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let text = scalar(key) else { return defaultValue }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            fail(key, "must be a whole number" + got(key, text))
            return defaultValue
        }
        guard range.contains(value) else {
            fail(key, "must be between \(range.lowerBound) and \(range.upperBound)")
            return defaultValue
        }
        return value
    }

    func optionalInt(_ key: String, range: ClosedRange<Int>) -> Int? {
        guard has(key) else { return nil }
        return int(key, default: range.lowerBound, range: range)
    }

    func bool(_ key: String, default defaultValue: Bool) -> Bool {
        guard let text = scalar(key) else { return defaultValue }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default:
            fail(key, "must be true or false" + got(key, text))
            return defaultValue
        }
    }

    func duration(_ key: String, default defaultValue: Duration, minimum: Duration = .zero) -> Duration {
        guard let text = scalar(key) else { return defaultValue }
        guard let value = DurationText.parse(text) else {
            fail(key, "must be a duration like 500ms, 10s, 5m, 2h or 7d (at most 36500d)" + got(key, text))
            return defaultValue
        }
        guard value >= minimum else {
            fail(key, "must be at least \(DurationText.format(minimum))")
            return defaultValue
        }
        return value
    }

    func choice<T: RawRepresentable>(_ key: String, default defaultValue: T) -> T where T.RawValue == String, T: CaseIterable {
        guard let text = scalar(key) else { return defaultValue }
        guard let value = T(rawValue: text) else {
            fail(key, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))" + got(key, text))
            return defaultValue
        }
        return value
    }

    func url(_ key: String, required: Bool) -> URL? {
        guard let text = required ? requiredString(key) : string(key) else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            fail(key, "must be an http:// or https:// URL")
            return nil
        }
        return url
    }

    /// A list of strings; a single string is accepted as a list of one.
    func stringList(_ key: String) -> [String]? {
        guard let value = node(key) else { return nil }
        if case .scalar = value { return scalarText(value, path: child(key)).map { [$0] } }
        guard case .sequence(let sequence) = value else {
            fail(key, "must be a list of strings")
            return nil
        }
        return sequence.enumerated().compactMap { index, item in
            scalarText(item, path: "\(child(key))[\(index)]")
        }
    }

    func mapping(_ key: String) -> ConfigReader? {
        guard let value = node(key) else { return nil }
        return ConfigReader(node: value, path: child(key), context: context)
    }

    func list(_ key: String) -> [ConfigReader] {
        guard let value = node(key) else { return [] }
        guard case .sequence(let sequence) = value else {
            fail(key, "must be a list")
            return []
        }
        return sequence.enumerated().compactMap { index, item in
            ConfigReader(node: item, path: "\(child(key))[\(index)]", context: context)
        }
    }

    /// A mapping of strings to strings (headers, value maps), `${VAR}` expanded.
    func stringMap(_ key: String) -> [String: String]? {
        guard let value = node(key) else { return nil }
        guard case .mapping(let mapping) = value else {
            fail(key, "must be a mapping of names to values")
            return nil
        }
        var result: [String: String] = [:]
        for (name, item) in mapping {
            guard case .scalar(let scalar) = name else { continue }
            if let text = scalarText(item, path: "\(child(key)).\(scalar.string)") { result[scalar.string] = text }
        }
        return result
    }

    /// Any value as JSON (a request body template), strings `${VAR}` expanded.
    func json(_ key: String) -> JSONValue? {
        guard let value = node(key) else { return nil }
        return jsonValue(value, path: child(key))
    }

    private func jsonValue(_ node: Node, path: String) -> JSONValue? {
        switch node {
        case .scalar(let scalar):
            if node.null != nil { return .null }
            if scalar.style == .plain {
                // Typed here: the document is composed without Yams' implicit tags.
                switch scalar.string.lowercased() {
                case "true", "yes", "on": return .bool(true)
                case "false", "no", "off": return .bool(false)
                default: break
                }
                if let int = node.int { return .integer(Int64(int)) }
                if let double = node.float { return .double(double) }
            }
            return scalarText(node, path: path).map(JSONValue.string)
        case .sequence(let sequence):
            return .array(sequence.enumerated().compactMap { jsonValue($1, path: "\(path)[\($0)]") })
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, item) in mapping {
                guard case .scalar(let name) = key else { continue }
                object[name.string] = jsonValue(item, path: "\(path).\(name.string)")
            }
            return .object(object)
        case .alias:
            return nil
        }
    }

    /// `sources[2].tls.ca_file` → `sources[].tls.ca_file`.
    static func listIndexesRemoved(_ path: String) -> String {
        var result = ""
        var inIndex = false
        for character in path {
            if character == "[" {
                inIndex = true
                result.append("[")
            } else if character == "]" {
                inIndex = false
                result.append("]")
            } else if !inIndex {
                result.append(character)
            }
        }
        return result
    }

    /// Reports every key that no reader asked for: typos must not pass silently.
    func rejectUnknownKeys() {
        for (key, _) in pairs where !read.contains(key) {
            let known = read.sorted().joined(separator: ", ")
            fail(key, "unknown key (known here: \(known))")
        }
    }
}

extension Node {
    var isMapping: Bool {
        if case .mapping = self { return true }
        return false
    }
}

/// Connectors read their own keys (`<Connector>ConfigurationReader.swift` in their folders)
/// through this.
extension ConfigReader: ConfigurationKeys {
    func section(_ key: String) -> (any ConfigurationKeys)? { mapping(key) }
}
