/// Errors of the state file that a user must act on. The message names the file and what to do.
public struct StateError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// The file exists but is not an SQLite database.
        case notADatabase = "not_a_database"
        /// An SQLite database that belongs to another program.
        case foreignDatabase = "foreign_database"
        /// Written by a newer audit-forwarder whose migrations this build does not know.
        case newerSchema = "newer_schema"
        /// Another process holds the run lock.
        case locked = "locked"
        /// The lock file cannot be opened.
        case lockUnavailable = "lock_unavailable"
        /// The state file does not exist and cannot be created (a missing directory, no permission).
        case uncreatable = "uncreatable"
        /// A spool segment cannot be written (a full disk, a read-only file system).
        case unwritable = "unwritable"
        /// A spool segment the spool points into is missing or short.
        case unreadable = "unreadable"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
