import Foundation
import NIOCore
import PostgresNIO

/// The state of one or several agents in a PostgreSQL database (DESIGN.md §8): the same
/// interface and the same one-transaction guarantees as the SQLite `StateStore`.
///
/// Every call runs on one connection, one call at a time, so each call's statements see no
/// interleaving from this agent; statements that must agree (a batch and the spool's head) run
/// in one REPEATABLE READ transaction.
public final class PostgresStateStore: StateBackend {
    public let location: PostgresLocation
    /// Every change goes through this one connection, one call at a time: sequence numbers are
    /// then handed out in commit order, which a sink's reads rely on (see `nextBatch`).
    let connector: PostgresConnector
    /// Reads (the sinks' batches, status) go through a second connection, so a sink reading its
    /// next batch does not wait behind a page being written, as with SQLite's readers.
    let reader: PostgresConnector
    /// The agent this store acts for and the leases it holds (see `takeLeases`).
    let leases = LockedLeases()

    /// Connects, then creates or migrates the schema (one agent at a time). A database holding
    /// other tables, or a newer schema, is refused and left untouched.
    public init(location: PostgresLocation, statementTimeout: Duration = .seconds(30)) throws {
        self.location = location
        let timeout = TimeAmount.nanoseconds(
            Int64(statementTimeout.components.seconds) * 1_000_000_000
                + statementTimeout.components.attoseconds / 1_000_000_000)
        connector = try PostgresConnector(location: location, statementTimeout: timeout)
        reader = try PostgresConnector(location: location, statementTimeout: timeout)
        try PostgresSchema.migrate(connector)
    }

    /// Ends the connection (the store is unusable after).
    public func close() {
        connector.close()
        reader.close()
    }

    // MARK: Housekeeping

    /// The server vacuums on its own; nothing to do between writes.
    public func periodicMaintenance() throws {}

    public func checkWritable() throws {
        try connector.transaction { session in
            _ = try session.execute("UPDATE sink_offset SET updated_at = updated_at WHERE false")
            // A read-only standby or a database in read-only mode refuses writes only when asked.
            let readOnly = try session.scalar("SELECT current_setting('transaction_read_only')", as: String.self)
            if readOnly == "on" {
                throw PostgresStateError("PostgreSQL state \(location.redacted) is read-only (a standby, or default_transaction_read_only)")
            }
        }
    }

    /// The schema is there and at our version; the server checks its own pages.
    public func integrityCheck() throws -> String {
        try reader.withSession { session in
            let version = try session.scalar("SELECT max(version) FROM \(unescaped: PostgresSchema.versionTable)", as: Int32.self)
            return Int(version ?? 0) == PostgresSchema.latestVersion
                ? "ok" : "schema version \(version.map(String.init) ?? "none"), expected \(PostgresSchema.latestVersion)"
        }
    }

    public var storageWarnings: [String] {
        location.tlsMode.verifiesCertificate || ["localhost", "127.0.0.1", "::1"].contains(location.host)
            ? []
            : [
                "the state database \(location.redacted) is reached without checking its certificate; audit events cross the network: use sslmode=verify-full"
            ]
    }
}

/// `HeldLeases` behind a lock: read by every fenced transaction, written by renewals.
final class LockedLeases: @unchecked Sendable {
    private let lock = NSLock()
    private var value = HeldLeases()

    func withLock<T>(_ body: (inout HeldLeases) -> T) -> T {
        lock.withLock { body(&value) }
    }
}

extension PostgresRow {
    /// Column `index`, decoded (nil for NULL when `T` is optional).
    func column<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws -> T {
        try makeRandomAccess()[index].decode(T.self, context: .default)
    }
}

extension PostgresStateStore {
    /// The sources' cursors, read without creating or migrating anything (for `dry-run`): a
    /// database without our schema yet has none.
    public static func peekCursors(location: PostgresLocation) throws -> [String: String] {
        let connector = try PostgresConnector(location: location)
        defer { connector.close() }
        return try connector.withSession { session in
            let ours = try session.scalar("SELECT to_regclass('source_cursor') IS NOT NULL", as: Bool.self) ?? false
            guard ours else { return [:] }
            var cursors: [String: String] = [:]
            for row in try session.run("SELECT source, position FROM source_cursor WHERE position IS NOT NULL") {
                cursors[try row.column(0, as: String.self)] = try row.column(1, as: String.self)
            }
            return cursors
        }
    }
}

extension PostgresStateStore {
    /// Creates an empty database `name` (letters, digits, `_`) on the server of `server` (whose own
    /// database is the one connected to, e.g. `postgres`). For the benchmark and the tests.
    public static func createDatabase(_ name: String, server: PostgresLocation) throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw PostgresStateError("not a plain database name: \(name)")
        }
        let connector = try PostgresConnector(location: server)
        defer { connector.close() }
        try connector.withSession { try $0.execute("CREATE DATABASE \(unescaped: name)") }
    }
}
