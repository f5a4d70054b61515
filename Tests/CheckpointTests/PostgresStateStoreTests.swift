import Foundation
import TestSupport
import Testing

@testable import Checkpoint

/// What only the PostgreSQL backend has: its URL, its schema's ownership of the database, its
/// connection. Its behaviour as a store is `StateStoreTests`, run on both backends.
@Suite struct PostgresStateStoreTests {
    var server: PostgresTestServer { get throws { try PostgresTestServer.shared.get() } }

    @Test func theURLIsParsedAndItsPasswordNeverShown() throws {
        let location = try PostgresLocation(url: "postgresql://forwarder:s%40cret@db.example:6543/audit?sslmode=verify-full")
        #expect(location.host == "db.example" && location.port == 6543 && location.user == "forwarder")
        #expect(location.password == "s@cret" && location.database == "audit" && location.tlsMode == .verifyFull)
        #expect(location.redacted == "postgresql://forwarder:***@db.example:6543/audit?sslmode=verify-full")
        #expect(try PostgresLocation(url: "postgres://u@h/d").tlsMode == .prefer)

        for (bad, says) in [
            ("mysql://u:hunter2@h/d", "postgresql://"), ("postgresql://u:hunter2@h/", "no database"),
            ("postgresql://u:hunter2@h/d?sslmode=sometimes", "sslmode"), ("postgresql://u:hunter2@h/d?sslrootcert=x", "sslrootcert"),
            ("postgresql://:hunter2@h/d", "no user"),
        ] {
            let error = #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: bad) }
            #expect(error?.description.contains(says) == true, "\(bad)")
            #expect(error?.description.contains("hunter2") == false)
        }
    }

    @Test func aServerThatCannotBeReachedIsNamedWithoutThePassword() throws {
        var location = try server.freshDatabase()
        location.port = 1  // nothing listens there
        location.password = "hunter2"
        let error = #expect(throws: PostgresStateError.self) { try PostgresStateStore(location: location, statementTimeout: .seconds(5)) }
        let message = error?.description ?? ""
        #expect(message.contains("127.0.0.1:1/") && message.contains("***") && message.contains("cannot connect"), "\(message)")
        #expect(!message.contains("hunter2"))
    }

    @Test func aDatabaseHoldingSomethingElseIsRefusedAndLeftUntouched() throws {
        let location = try server.freshDatabase()
        try server.psql("CREATE TABLE invoices (id int); INSERT INTO invoices VALUES (7)", database: location.database)
        let error = #expect(throws: PostgresStateError.self) { try PostgresStateStore(location: location) }
        #expect(error?.description.contains("something else") == true, "\(String(describing: error))")
        // Untouched: their table still there with its row, none of ours created.
        try server.psql("DO $$ BEGIN IF (SELECT count(*) FROM invoices) <> 1 THEN RAISE 'row gone'; END IF; END $$", database: location.database)
        try server.psql(
            "DO $$ BEGIN IF to_regclass('audit_forwarder_schema') IS NOT NULL OR to_regclass('spool') IS NOT NULL THEN RAISE 'ours created'; END IF; END $$",
            database: location.database)
    }

    @Test func aNewerSchemaIsRefused() throws {
        let location = try server.freshDatabase()
        _ = try PostgresStateStore(location: location)
        try server.psql("INSERT INTO audit_forwarder_schema VALUES (99, 0)", database: location.database)
        let error = #expect(throws: PostgresStateError.self) { try PostgresStateStore(location: location) }
        #expect(error?.description.contains("newer audit-forwarder") == true, "\(String(describing: error))")
    }

    /// Several agents starting at once on a new database: one migrates, the others wait for it and
    /// find the schema there.
    @Test func agentsStartingTogetherMigrateOnce() async throws {
        let location = try server.freshDatabase()
        let opened = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 { group.addTask { (try? PostgresStateStore(location: location)) != nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(opened == 4)
        let store = try PostgresStateStore(location: location)
        #expect(try store.integrityCheck() == "ok")
        try store.registerSinks(["a"])
        #expect(try store.offset(sink: "a") == 0)
    }

    /// A killed server connection (a restarted database, `pg_terminate_backend`): the call that
    /// meets it fails, the next one reconnects, and nothing committed is lost.
    @Test func aKilledConnectionIsReplacedOnTheNextCall() throws {
        let location = try server.freshDatabase()
        let store = try PostgresStateStore(location: location)
        try store.registerSinks(["a"])
        try store.appendPage(source: "s", entries: (1...3).map { entry($0) }, cursor: "c1")
        // Raises unless it ended the store's backend.
        try server.psql(
            """
            DO $$ BEGIN IF (SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = '\(location.database)' AND application_name = 'audit-forwarder') < 1 THEN RAISE 'no backend ended'; END IF; END $$
            """)
        var answered: Int64?
        for _ in 0..<3 where answered == nil { answered = try? store.spoolDepth() }
        #expect(answered == 3)
        #expect(try store.cursor(source: "s") == "c1")
        try store.appendPage(source: "s", entries: (3...5).map { entry($0) }, cursor: "c2")
        #expect(try store.readBatch(sink: "a", after: 0, limit: 10).map(\.eventID) == (1...5).map { "e\($0)" })
    }

    /// A page is written in a fixed number of statements, in page order, whatever its size.
    @Test func aLargePageKeepsItsOrder() throws {
        let store = try PostgresStateStore(location: try server.freshDatabase())
        try store.registerSinks(["a"])
        let ids = (1...2000).shuffled()
        let result = try store.appendPage(source: "s", entries: ids.map { entry($0, bytes: 200) } + [entry(ids[0])], cursor: "c")
        #expect(result == AppendResult(inserted: 2000, duplicates: 1))
        let batch = try store.readBatch(sink: "a", after: 0, limit: 5000)
        #expect(batch.map(\.eventID) == ids.map { "e\($0)" })
        #expect(zip(batch, batch.dropFirst()).allSatisfy { $0.seq < $1.seq })
        #expect(batch.allSatisfy { $0.payload.count == 200 })
    }

    /// TLS to the database over a real handshake: verify-full with the server's CA is encrypted
    /// and trusted; another CA is refused with the reason; disable is plain.
    @Test func tlsToTheDatabaseIsVerifiedAgainstTheConfiguredCA() throws {
        var location = try server.freshDatabase()
        func encrypted(_ store: PostgresStateStore) throws -> Bool? {
            try store.connector.withSession { try $0.scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", as: Bool.self) }
        }
        location.tlsMode = .disable
        #expect(try encrypted(try PostgresStateStore(location: location)) == false)

        location.tlsMode = .verifyFull
        location.caFile = try server.caFile
        #expect(try encrypted(try PostgresStateStore(location: location)) == true)
        location.tlsMode = .require
        location.caFile = nil
        #expect(try encrypted(try PostgresStateStore(location: location)) == true)

        location.tlsMode = .verifyFull
        location.caFile = try server.otherCAFile
        location.password = "hunter2"
        let error = #expect(throws: PostgresStateError.self) { try PostgresStateStore(location: location, statementTimeout: .seconds(10)) }
        #expect(error?.description.contains("cannot connect") == true, "\(String(describing: error))")
        #expect(error?.description.contains("hunter2") == false)
    }
}
