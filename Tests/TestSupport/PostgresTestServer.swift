import Checkpoint
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL server for the tests: Debian's `postgresql-15` binaries, a new cluster
/// (`initdb`) in a temporary directory, `postgres` on a free loopback port, run as an
/// unprivileged user when the tests run as root (PostgreSQL refuses root). One per test process,
/// started on first use; each test takes a database of its own from `freshDatabase()`.
///
/// A watchdog shell stops the server and removes its directory once the test process is gone,
/// however it ended.
public final class PostgresTestServer: Sendable {
    /// The server of this test process, or why it could not start.
    public static let shared: Result<PostgresTestServer, any Error> = Result { try PostgresTestServer() }

    /// A server of the caller's own, for a test that stops and restarts it (the shared one
    /// serves tests running beside it). `remove()` it at the end.
    public static func dedicated() throws -> PostgresTestServer { try PostgresTestServer() }

    public let port: Int
    public let directory: String
    public let binDirectory: String
    public let user = "audit"
    /// The CA that signed the server's certificate (for `localhost` and 127.0.0.1): the server
    /// offers TLS, so `sslmode=verify-full` with this CA file is tested over a real handshake.
    public var caFile: String { directory + "/tls/ca.pem" }
    /// A CA that signed nothing of the server's.
    public var otherCAFile: String { directory + "/tls/other-ca.pem" }
    private let counter = Counter()
    /// `sudo`-like prefix: PostgreSQL will not run as root, so the cluster and the server belong
    /// to nobody then.
    private let asUser: [String]
    private var log: String { directory + "/server.log" }

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    private init() throws {
        binDirectory = try Self.findBinDirectory()
        guard let made = mkdtemp(strdup(NSTemporaryDirectory() + "/af-pg-XXXXXX")) else {
            throw Unavailable(description: "cannot make a directory for the test PostgreSQL server")
        }
        directory = String(cString: made)
        asUser = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : []
        if getuid() == 0 { chown(directory, 65534, 65534) }
        let initdb = try Self.spawn(
            asUser + [
                binDirectory + "/initdb", "-D", directory + "/data", "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions",
            ],
            log: directory + "/server.log")
        guard initdb.reap() == 0 else {
            throw Unavailable(description: "initdb failed: \((try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? "")")
        }
        try Self.makeCertificates(in: directory + "/tls", owner: getuid() == 0 ? 65534 : nil, log: directory + "/server.log")
        port = freePort()
        guard port != 0 else { throw Unavailable(description: "no free loopback port") }
        try start()
        // The watchdog: once the test process is gone, however it ended, the server stops and
        // its directory goes.
        let stop = (asUser + [binDirectory + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "stop"]).map(Self.shellQuoted).joined(
            separator: " ")
        let watchdog = """
            while kill -0 \(getpid()) 2>/dev/null && [ -d \(Self.shellQuoted(directory)) ]; do sleep 1; done
            \(stop) >/dev/null 2>&1; rm -rf \(Self.shellQuoted(directory))
            """
        _ = try Self.spawn(["/bin/sh", "-c", watchdog], log: "/dev/null")
    }

    /// Starts the server (again) and waits until it answers.
    public func start() throws {
        // Durability is not under test here (the SQLite suite and the crash tests cover the
        // engine's part); fsync off keeps a cluster's start and each CREATE DATABASE fast.
        let options = [
            "-p", String(port), "-k", directory, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=300",
            "-c", "ssl=on", "-c", "ssl_cert_file=\(directory)/tls/server.pem", "-c", "ssl_key_file=\(directory)/tls/server.key",
        ].joined(separator: " ")
        let started = try Self.spawn(
            asUser + [
                binDirectory + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/postgres.log", "-o", options, "-w", "-t", "60", "start",
            ],
            log: log)
        guard started.reap() == 0 else {
            throw Unavailable(description: "the test PostgreSQL server did not start: \(serverLog())")
        }
        try waitUntilReady()
    }

    /// Stops the server as an operator's restart would (`pg_ctl stop -m fast`: every session is
    /// ended, what was committed stays).
    public func stop() throws {
        let stopped = try Self.spawn(asUser + [binDirectory + "/pg_ctl", "-D", directory + "/data", "-m", "fast", "-w", "stop"], log: log)
        guard stopped.reap() == 0 else { throw Unavailable(description: "pg_ctl stop failed: \(serverLog())") }
    }

    /// Stops a dedicated server and removes its directory.
    public func remove() {
        try? stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func serverLog() -> String {
        [log, directory + "/postgres.log"].compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
    }

    /// A new, empty database on the server, as the state URL's parts.
    public func freshDatabase() throws -> PostgresLocation {
        let name = "t\(getpid())_\(counter.next())"
        try psql("CREATE DATABASE \(name)")
        return PostgresLocation(host: "127.0.0.1", port: port, user: user, database: name, tlsMode: .disable)
    }

    /// Runs one SQL command on `database` with psql; throws with its output when it fails.
    public func psql(_ sql: String, database: String = "postgres") throws {
        let log = directory + "/psql-\(counter.next()).log"
        defer { unlink(log) }
        let process = try Self.spawn(
            [
                binDirectory + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", database, "-c",
                sql,
            ],
            log: log)
        guard process.reap() == 0 else {
            throw Unavailable(description: "psql \(sql): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
    }

    /// A CA, a server certificate it signs (localhost, 127.0.0.1) and an unrelated CA, with
    /// openssl; the key belongs to the server's user and only to it, as PostgreSQL demands.
    private static func makeCertificates(in directory: String, owner: uid_t?, log: String) throws {
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        let script = """
            set -e
            mkdir -p \(shellQuoted(directory)) && cd \(shellQuoted(directory))
            openssl req -x509 \(ec) -keyout ca.key -out ca.pem -days 2 -subj /CN=audit-forwarder-test-ca 2>/dev/null
            openssl req \(ec) -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
            openssl req -x509 \(ec) -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=another-ca 2>/dev/null
            chmod 600 server.key
            \(owner.map { "chown \($0):\($0) server.key server.pem" } ?? ":")
            """
        let process = try spawn(["/bin/sh", "-c", script], log: log)
        guard process.reap() == 0 else {
            throw Unavailable(
                description: "cannot make the test certificates with openssl: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
    }

    private func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if (try? psql("SELECT 1")) != nil { return }
            usleep(100_000)
        }
        throw Unavailable(description: "the test PostgreSQL server did not start: \(serverLog())")
    }

    private static func spawn(_ command: [String], log: String) throws -> SpawnedProcess {
        try SpawnedProcess(
            executable: command[0], arguments: Array(command.dropFirst()),
            environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"], directory: nil, stdout: log, stderr: log)
    }

    /// `AUDIT_FORWARDER_PG_BIN`, else the newest /usr/lib/postgresql/N/bin holding `postgres`.
    private static func findBinDirectory() throws -> String {
        if let bin = ProcessInfo.processInfo.environment["AUDIT_FORWARDER_PG_BIN"] { return bin }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/postgres") {
            return "\(root)/\(version)/bin"
        }
        throw Unavailable(
            description: "PostgreSQL's server binaries are not installed (apt-get install postgresql-15, or set AUDIT_FORWARDER_PG_BIN)")
    }

    private static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.withLock {
            value += 1
            return value
        }
    }
}

/// A loopback TCP port the kernel just handed out, closed again for a server to take (0 when
/// none could be had).
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return bound ? Int(UInt16(bigEndian: address.sin_port)) : 0
}
