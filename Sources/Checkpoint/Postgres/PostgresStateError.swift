import NIOCore
import PostgresNIO

/// A failure of the PostgreSQL state, in words an operator can act on. It names the database by
/// its redacted URL, never with the password, and quotes the server's own message.
public struct PostgresStateError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The server's SQLSTATE, when the server answered with an error.
    public let sqlState: String?

    init(_ message: String, sqlState: String? = nil) {
        self.message = message
        self.sqlState = sqlState
    }

    public var description: String { message }

    /// Another agent holds the source now (or the lease ran out): this agent's change was rolled back.
    public var isStaleEpoch: Bool { sqlState == PostgresStateError.staleEpochState }

    /// The SQLSTATE our fencing check raises (class P0: PL/pgSQL, "raise_exception" is P0001;
    /// ours is distinct so it is never mistaken for another function's error).
    static let staleEpochState = "AF001"

    static func from(_ error: any Error, location: PostgresLocation, connecting: Bool = false) -> PostgresStateError {
        if let error = error as? PostgresStateError { return error }
        let place = "PostgreSQL state \(location.redacted)"
        if let timeout = error as? PostgresTimeout {
            return PostgresStateError(
                "\(place): no answer within \(timeout.after.nanoseconds / 1_000_000_000) s (connection dropped; the next call reconnects)")
        }
        if error is PostgresConnectionClosed {
            return PostgresStateError("\(place): the connection closed before the statement was answered (the next call reconnects)")
        }
        guard let error = error as? PSQLError else {
            return PostgresStateError("\(place): \(connecting ? "cannot connect: " : "")\(error)")
        }
        if let info = error.serverInfo {
            let state = info[.sqlState]
            let detail = [info[.message], info[.detail], info[.hint]].compactMap { $0 }.joined(separator: " — ")
            return PostgresStateError("\(place): \(detail)\(state.map { " (SQLSTATE \($0))" } ?? "")", sqlState: state)
        }
        let underlying = error.underlying.map { ": \($0)" } ?? ""
        switch error.code {
        case .connectionError:
            return PostgresStateError("\(place): cannot connect\(underlying)")
        case .serverClosedConnection, .uncleanShutdown:
            return PostgresStateError("\(place): the server closed the connection\(underlying) (the next call reconnects)")
        case .sslUnsupported:
            return PostgresStateError("\(place): the server does not offer TLS, which sslmode requires")
        case .authMechanismRequiresPassword:
            return PostgresStateError("\(place): the server asks for a password and the URL has none")
        default:
            return PostgresStateError("\(place): \(error.code)\(underlying)")
        }
    }
}
