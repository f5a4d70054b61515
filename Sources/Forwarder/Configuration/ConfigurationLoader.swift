import Checkpoint
import Connectors
import Foundation
import Logging
import Yams

/// Loads and validates a configuration file (YAML or JSON). Every problem is reported at once,
/// each with its key path; nothing is validated later, at first use.
public enum ConfigurationLoader {
    /// `secretsOptional`: for commands that only read the state (see `ConfigReader.Context`).
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment, secretsOptional: Bool = false
    ) throws -> ForwarderConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(
                path: "", "cannot read the configuration file \(path): \(Self.reason(path)) (give another with -c FILE or $AUDIT_FORWARDER_CONFIG)")
        }
        var configuration = try parse(text, environment: environment, secretsOptional: secretsOptional)
        var info = stat()
        configuration.fileReadableByOthers = stat(path, &info) == 0 && info.st_mode & 0o004 != 0
        return configuration
    }

    /// Why a file cannot be read, in a few words.
    private static func reason(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "no such file" }
        if isDirectory.boolValue { return "it is a directory" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied (run as a user who may read it)" }
        return "not UTF-8 text"
    }

    /// The daemon's state under the shipped units (`StateDirectory=audit-forwarder`): a shell's
    /// admin commands find it there too, without `$STATE_DIRECTORY`.
    public static let systemStatePath = "/var/lib/audit-forwarder/state.sqlite"

    public static func parse(
        _ text: String, environment: [String: String] = ProcessInfo.processInfo.environment, secretsOptional: Bool = false,
        systemStatePath: String = ConfigurationLoader.systemStatePath
    ) throws -> ForwarderConfiguration {
        let context = ConfigReader.Context(environment: environment)
        context.secretsOptional = secretsOptional
        let configuration = try parse(text, context: context, systemStatePath: systemStatePath)
        if !context.problems.isEmpty { throw ConfigurationError(problems: context.problems) }
        return configuration
    }

    /// Every key path the readers ask for while reading `text` (list indexes as `[]`), valid or not:
    /// the keys the configuration accepts, for the reference test.
    static func askedKeys(_ text: String, environment: [String: String]) -> Set<String> {
        let context = ConfigReader.Context(environment: environment)
        _ = try? parse(text, context: context, systemStatePath: systemStatePath)
        return context.askedKeys
    }

    /// The document's tree, without implicit typing (`.basic`): Yams' default resolver compiles
    /// seven ICU regular expressions at start, about 1 MiB resident for the life of the process,
    /// and the readers type every value from its text anyway.
    static func compose(_ text: String) throws -> Node? {
        do {
            return try Yams.compose(yaml: text, .basic)
        } catch {
            throw ConfigurationError(path: "", "not valid YAML or JSON: \(error)")
        }
    }

    private static func parse(_ text: String, context: ConfigReader.Context, systemStatePath: String) throws -> ForwarderConfiguration {
        let root = try compose(text)
        guard let root, let document = ConfigReader(node: root, path: "", context: context) else {
            throw ConfigurationError(problems: context.problems.isEmpty ? [.init(path: "", message: "the document is empty")] : context.problems)
        }
        var configuration = read(document, environment: context.environment, systemStatePath: systemStatePath)
        configuration.inlineSecretKeys = context.inlineSecrets
        configuration.unavailableSecretKeys = context.unavailableSecrets
        document.rejectUnknownKeys()
        return configuration
    }

    private static func read(_ document: ConfigReader, environment: [String: String], systemStatePath: String) -> ForwarderConfiguration {
        let stateReader = document.mapping("state")
        let defaultStatePath =
            environment["STATE_DIRECTORY"].map { dir in
                // systemd may pass several directories separated by ':'; the first is ours.
                (dir.split(separator: ":").first.map(String.init) ?? dir) + "/state.sqlite"
            } ?? (FileManager.default.fileExists(atPath: systemStatePath) ? systemStatePath : "./audit-forwarder.sqlite")
        var state = ForwarderConfiguration.State(
            path: stateReader?.string("path") ?? defaultStatePath,
            spoolMaxEvents: stateReader?.int("spool_max_events", default: 1_000_000, range: 100...1_000_000_000) ?? 1_000_000,
            dedupeWindow: stateReader?.duration("dedupe_window", default: .seconds(7 * 86400), minimum: .seconds(60))
                ?? .seconds(7 * 86400))
        if let stateReader { readDatabase(stateReader, into: &state) }
        stateReader?.rejectUnknownKeys()

        var telemetry: ForwarderConfiguration.Telemetry?
        if let reader = document.mapping("telemetry") {
            if let listen = reader.string("listen") {
                if TelemetryServer.address(listen) == nil {
                    reader.fail("listen", "must be host:port, e.g. 127.0.0.1:9464")
                } else {
                    telemetry = .init(listen: listen)
                }
            }
            reader.rejectUnknownKeys()
        }

        let logReader = document.mapping("log")
        var level = Logger.Level.info
        if let text = logReader?.string("level") {
            if let parsed = Logger.Level(rawValue: text.lowercased()) {
                level = parsed
            } else {
                logReader?.fail("level", "must be one of trace, debug, info, notice, warning, error, critical")
            }
        }
        let log = ForwarderConfiguration.Log(
            level: level, format: logReader?.choice("format", default: ForwarderConfiguration.Log.Format.json) ?? .json)
        logReader?.rejectUnknownKeys()

        let sources = document.list("sources").compactMap { SourceConfigurationReader.read($0) }
        let sinks = document.list("sinks").compactMap { SinkConfigurationReader.read($0) }
        if sources.isEmpty, !document.has("sources") { document.fail("sources", "at least one source is required") }
        if sinks.isEmpty, !document.has("sinks") { document.fail("sinks", "at least one sink is required") }
        rejectDuplicateNames(sources.map(\.name), key: "sources", in: document)
        rejectDuplicateNames(sinks.map(\.name), key: "sinks", in: document)
        // Every poll re-reads `overlap` behind the cursor, and the cursor is up to `poll_interval`
        // old: ids forgotten sooner than that come back on every poll, sent again each time.
        let mustRemember = sources.map { $0.overlap + $0.pollInterval }.max() ?? .zero
        if state.dedupeWindow < mustRemember {
            document.fail(
                "state.dedupe_window",
                "must be at least the largest overlap + poll_interval of the sources (\(DurationText.format(mustRemember))), else re-read events are sent again on every poll"
            )
        }
        return ForwarderConfiguration(state: state, telemetry: telemetry, log: log, sources: sources, sinks: sinks)
    }

    /// `state.url` (a secret: it holds the password), `state.lease_ttl` and `state.tls.ca_file`.
    private static func readDatabase(_ reader: ConfigReader, into state: inout ForwarderConfiguration.State) {
        let hasURL = reader.has("url") || reader.has("url_file")
        if hasURL, reader.has("path") { reader.fail("url", "give state.path (SQLite) or state.url (PostgreSQL), not both") }
        if reader.has("lease_ttl") {
            let ttl = reader.duration("lease_ttl", default: state.leaseTTL)
            if ttl < .seconds(3) || ttl > .seconds(300) { reader.fail("lease_ttl", "must be between 3s and 5m") } else { state.leaseTTL = ttl }
        }
        let tlsReader = reader.mapping("tls")
        let caFile = tlsReader?.string("ca_file")
        tlsReader?.rejectUnknownKeys()
        guard hasURL else {
            if reader.has("lease_ttl") || tlsReader != nil { reader.fail("url", "lease_ttl and tls apply to a PostgreSQL state: set state.url") }
            return
        }
        guard let text = reader.secret("url") else { return }
        // An admin command's shell may not see the daemon's secret: kept as unreadable, and
        // opening the state says so.
        if text == ConfigReader.unavailableSecret {
            state.databaseUnreadable = true
            return
        }
        do {
            var location = try PostgresLocation(url: text)
            location.caFile = caFile
            if caFile != nil, !location.tlsMode.verifiesCertificate {
                reader.fail("tls.ca_file", "is used only with sslmode=verify-ca or verify-full in state.url")
            }
            state.database = location
        } catch {
            reader.fail("url", "\(error)")
        }
    }

    private static func rejectDuplicateNames(_ names: [String], key: String, in document: ConfigReader) {
        var seen: Set<String> = []
        for (index, name) in names.enumerated() where !seen.insert(name).inserted {
            document.fail("\(key)[\(index)].name", "\"\(name)\" is used by another entry; names must be unique")
        }
    }

    /// Names end up in ids, metrics and the state: keep them to a safe alphabet.
    static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
    }
}
