import Foundation
import GRDB

extension StateStore {
    /// The sources' cursors read without creating, migrating or writing the file (for `dry-run`).
    /// A state file that does not exist yet has no cursors.
    public static func peekCursors(path: String) throws -> [String: String] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        try refuseForeignFile(at: path)
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            guard try db.tableExists("source_cursor") else { return [:] }
            var cursors: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT source, position FROM source_cursor WHERE position IS NOT NULL") {
                cursors[row[0]] = row[1]
            }
            return cursors
        }
    }
}
