import Foundation

/// Where a PostgreSQL state lives, read from `state.url`
/// (`postgresql://user:password@host:5432/db?sslmode=verify-full`).
///
/// The password is kept out of every description: `redacted` is what logs, errors and `status`
/// show.
public struct PostgresLocation: Sendable, Equatable {
    /// libpq's `sslmode` values. `prefer` (libpq's default) tries TLS and falls back to plain.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"

        /// Whether the server's certificate is checked against a CA.
        public var verifiesCertificate: Bool { self == .verifyCA || self == .verifyFull }
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    /// PEM file of the CA(s) that sign the server's certificate (`state.tls.ca_file`); the
    /// system's trust store when nil.
    public var caFile: String?

    public init(
        host: String, port: Int = 5432, user: String, password: String? = nil, database: String, tlsMode: TLSMode = .prefer,
        caFile: String? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.caFile = caFile
    }

    /// Parses a `postgresql://` (or `postgres://`) URL. Errors never quote the URL: it may hold
    /// the password.
    public init(url text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "postgresql" || scheme == "postgres"
        else {
            throw PostgresLocationError("is not a postgresql:// URL (postgresql://user:password@host:5432/database)")
        }
        guard let host = components.host, !host.isEmpty else { throw PostgresLocationError("names no host") }
        guard let user = components.user, !user.isEmpty else { throw PostgresLocationError("names no user") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresLocationError("names no database (postgresql://user:password@host:5432/database)")
        }
        var tlsMode = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw PostgresLocationError(
                        "has an unknown sslmode (expected one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                tlsMode = mode
            default:
                throw PostgresLocationError("has an unknown parameter \"\(item.name)\" (only sslmode is read)")
            }
        }
        self.init(
            host: host, port: components.port ?? 5432, user: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 }, database: database.removingPercentEncoding ?? database,
            tlsMode: tlsMode)
    }

    /// The URL with the password replaced: safe for logs, errors and `status`.
    public var redacted: String {
        let secret = password == nil ? "" : ":***"
        return "postgresql://\(user)\(secret)@\(host):\(port)/\(database)?sslmode=\(tlsMode.rawValue)"
    }
}

/// A `state.url` that cannot be used; the message says what is wrong without quoting the URL.
public struct PostgresLocationError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { "the state URL \(reason)" }
}
