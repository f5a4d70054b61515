import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// One connection to the state database, used by one caller at a time, reconnected when lost.
///
/// `StateBackend` is synchronous (the SQLite backend blocks its caller on file I/O the same
/// way), so each statement's future is awaited here on the caller's thread. The future itself
/// completes on an event loop thread, never a Swift concurrency thread, so blocking cannot
/// starve what it waits for.
final class PostgresConnector: @unchecked Sendable {
    let location: PostgresLocation
    /// Longest any one statement may take before the connection is dropped and the call fails:
    /// an unreachable server must not hang a poll or a delivery forever.
    let statementTimeout: TimeAmount
    /// How long the server lets one of our transactions sit idle before ending our session: an
    /// agent frozen mid-transaction (SIGSTOP, a VM pause) cannot hold its locks longer.
    let idleInTransactionTimeout: TimeAmount
    private let lock = NSLock()
    private var connection: PostgresConnection?
    /// Statements sent so far (tests and telemetry: "one statement per renewal").
    let statements = StatementCount()
    private var nextConnectionID = 0
    private let tlsContext: NIOSSLContext?
    /// PostgresNIO logs each statement at debug level; none of that belongs in our logs.
    private let logger = Logger(label: "audit-forwarder.state.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    init(location: PostgresLocation, statementTimeout: TimeAmount = .seconds(30), idleInTransactionTimeout: TimeAmount = .seconds(15)) throws {
        self.location = location
        self.statementTimeout = statementTimeout
        self.idleInTransactionTimeout = idleInTransactionTimeout
        tlsContext = try Self.tlsContext(for: location)
    }

    deinit {
        if let connection { Self.closeSoon(connection) }
    }

    /// Runs `body` on the connection, connecting first if there is none. A failure that closed
    /// the connection leaves none, so the next call reconnects (a restarted server, a killed
    /// backend).
    @discardableResult
    func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let session = PostgresSession(
            connection: try connected(), logger: logger, timeout: statementTimeout, location: location, statements: statements)
        do {
            return try body(session)
        } catch {
            if session.connection.isClosed || error is PostgresTimeout {
                Self.closeSoon(session.connection)
                connection = nil
            }
            throw PostgresStateError.from(error, location: location)
        }
    }

    /// `body` inside BEGIN … COMMIT; any error rolls back. `isolation`: the transaction's level.
    @discardableResult
    func transaction<T>(_ isolation: String = "READ COMMITTED", _ body: (PostgresSession) throws -> T) throws -> T {
        try withSession { session in
            try session.execute("BEGIN ISOLATION LEVEL \(unescaped: isolation)")
            do {
                let result = try body(session)
                let tag = try session.run("COMMIT").metadata.command
                // A transaction that failed on the server answers COMMIT with ROLLBACK, not an error.
                guard tag == "COMMIT" else { throw PostgresStateError("the transaction was rolled back by the server") }
                return result
            } catch {
                if !session.connection.isClosed { _ = try? session.run("ROLLBACK") }
                throw error
            }
        }
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        if let connection {
            let closing: EventLoopFuture<Void> = connection.close()
            _ = try? PostgresSession.await(closing, timeout: statementTimeout)
        }
        connection = nil
    }

    /// Starts closing `connection` without waiting for it; the callback keeps it alive until it is
    /// closed (PostgresNIO asserts that a connection is closed before it is freed).
    private static func closeSoon(_ connection: PostgresConnection) {
        let closing: EventLoopFuture<Void> = connection.close()
        closing.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    private func connected() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tlsMode)
        configuration.options.connectTimeout = statementTimeout
        // The server name for TLS is PostgresNIO's: the host, unless it is an IP address (not valid
        // in SNI; verify-full then checks the certificate's IP entries against the address).
        configuration.options.additionalStartupParameters = [
            ("application_name", "audit-forwarder"),
            ("idle_in_transaction_session_timeout", "\(idleInTransactionTimeout.nanoseconds / 1_000_000)"),
        ]
        nextConnectionID += 1
        let future = PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: nextConnectionID, logger: logger)
        do {
            let connection = try PostgresSession.await(future, timeout: statementTimeout)
            self.connection = connection
            return connection
        } catch {
            throw PostgresStateError.from(error, location: location, connecting: true)
        }
    }

    private var tlsMode: PostgresConnection.Configuration.TLS {
        guard let tlsContext else { return .disable }
        switch location.tlsMode {
        case .disable: return .disable
        case .allow, .prefer: return .prefer(tlsContext)
        case .require, .verifyCA, .verifyFull: return .require(tlsContext)
        }
    }

    private static func tlsContext(for location: PostgresLocation) throws -> NIOSSLContext? {
        guard location.tlsMode != .disable else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        switch location.tlsMode {
        case .disable, .allow, .prefer, .require:
            // libpq's meaning: encryption without checking whom we talk to.
            tls.certificateVerification = .none
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
        case .verifyFull:
            tls.certificateVerification = .fullVerification
        }
        if location.tlsMode.verifiesCertificate, let caFile = location.caFile {
            tls.trustRoots = .file(caFile)
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw PostgresStateError("cannot set up TLS to the state database (state.tls.ca_file \(location.caFile ?? "unset")): \(error)")
        }
    }
}

/// A connection lent to one call: statements run one at a time and are awaited.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger
    let timeout: TimeAmount
    let location: PostgresLocation
    let statements: StatementCount

    /// Runs `query` and returns its rows.
    @discardableResult
    func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        statements.add()
        return try Self.await(connection.query(query, logger: logger), timeout: timeout, unlessClosed: connection)
    }

    /// Runs `query` and returns how many rows it changed.
    @discardableResult
    func execute(_ query: PostgresQuery) throws -> Int {
        try run(query).metadata.rows ?? 0
    }

    /// The first column of the first row, nil when there is no row or it is NULL.
    func scalar<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type) throws -> T? {
        guard let row = try run(query).first else { return nil }
        let cell = row.makeRandomAccess()[0]
        guard cell.bytes != nil else { return nil }
        return try cell.decode(T.self, context: .default)
    }

    /// Blocks until `future` completes, or fails with `PostgresTimeout` after `timeout`, or with
    /// `PostgresConnectionClosed` as soon as `connection` is seen closed while it waits: a
    /// statement sent as its backend was ended (`pg_terminate_backend`) was once left unanswered
    /// until the timeout, 30 s of an agent doing nothing. Looked at once a second, not through
    /// `closeFuture`, whose callbacks would pile up for the connection's life.
    static func await<T>(_ future: EventLoopFuture<T>, timeout: TimeAmount, unlessClosed connection: PostgresConnection? = nil) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        future.whenComplete { result in
            box.result = result
            done.signal()
        }
        let deadline = DispatchTime.now() + .nanoseconds(Int(timeout.nanoseconds))
        while done.wait(timeout: min(deadline, DispatchTime.now() + .seconds(1))) == .timedOut {
            if DispatchTime.now() >= deadline { throw PostgresTimeout(after: timeout) }
            if let connection, connection.isClosed { throw PostgresConnectionClosed() }
        }
        guard let result = box.result else { throw PostgresTimeout(after: timeout) }
        return try result.get()
    }
}

/// Hands a result from the event loop thread to the waiting one; the semaphore orders the two.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

/// A counter read from other threads than the one that counts.
final class StatementCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// The connection closed while a statement waited for its answer.
struct PostgresConnectionClosed: Error {}

struct PostgresTimeout: Error {
    let after: TimeAmount
}
