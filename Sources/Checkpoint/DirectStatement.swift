import Foundation
import GRDB
import GRDBSQLite

/// A cached GRDB statement bound and stepped through SQLite's C API.
///
/// Appending a page runs two inserts per entry; GRDB's `StatementArguments` boxes every value and
/// copies every string on the way in, which was most of their cost. Here strings are copied once,
/// by SQLite. Use it only inside a write transaction, for statements that return no rows or one integer.
struct DirectStatement {
    private let handle: OpaquePointer
    private let database: Database

    /// Resets the statement first: GRDB may have left it finished, and a bind on a finished
    /// statement fails (SQLITE_MISUSE) without a word, the step then running with NULLs.
    init(_ statement: Statement, in database: Database) {
        handle = statement.sqliteStatement
        self.database = database
        sqlite3_reset(handle)
    }

    func bind(_ index: Int32, _ text: String?) {
        guard var text else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8 { bytes in
            _ = sqlite3_bind_text(handle, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
    }

    func bind(_ index: Int32, bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            _ = sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), Self.transient)
        }
    }

    func bind(_ index: Int32, integer value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    func bind(_ index: Int32, _ value: Double) {
        sqlite3_bind_double(handle, index, value)
    }

    /// Runs the statement.
    func run() throws {
        defer { reset() }
        try step(expecting: SQLITE_DONE)
    }

    /// Runs a statement that returns one integer (`SELECT EXISTS (…)`, a count), read without
    /// GRDB's generic row decoding, which the hot path otherwise never runs.
    func integer() throws -> Int64 {
        defer { reset() }
        try step(expecting: SQLITE_ROW)
        return sqlite3_column_int64(handle, 0)
    }

    private func step(expecting expected: Int32) throws {
        let code = sqlite3_step(handle)
        guard code == expected else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(database.sqliteConnection)),
                sql: String(cString: sqlite3_sql(handle)))
        }
    }

    /// Ready for the next binds and run.
    private func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// SQLITE_TRANSIENT: SQLite copies the bytes before the bind returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
