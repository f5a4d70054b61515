import Checkpoint
import Foundation

extension ForwarderConfiguration.State {
    /// Where the state lives, for messages: the SQLite file's path, or the database's URL
    /// without its password.
    public var displayName: String { database?.redacted ?? (databaseUnreadable ? "state.url (not readable here)" : path) }

    /// Whether several agents may share this state (PostgreSQL), each holding leases on sources.
    public var isShared: Bool { database != nil || databaseUnreadable }

    /// Opens the configured backend: the SQLite file (created when missing), or the PostgreSQL
    /// database (its schema created or migrated).
    public func open() throws -> any StateBackend {
        if databaseUnreadable {
            throw StateOpeningError(
                description:
                    "state.url cannot be read in this shell (a variable or credential file only the service sees); run with the service's environment"
            )
        }
        if let database { return try PostgresStateStore(location: database) }
        return try StateStore(path: path)
    }
}

public struct StateOpeningError: Error, CustomStringConvertible {
    public let description: String
}

/// This agent's name in leases, logs and `status`: `$AUDIT_FORWARDER_AGENT`, else
/// `<hostname>-<pid>`.
public enum AgentName {
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let name = environment["AUDIT_FORWARDER_AGENT"], !name.isEmpty { return name }
        return "\(ProcessInfo.processInfo.hostName)-\(getpid())"
    }
}
