import Foundation

/// An NDJSON `_bulk` body split into action/document pairs. Problems with the request as a
/// whole (framing, action lines, missing index) fail it all with 400, as Elasticsearch's
/// parser does before any item runs; problems with a document are per item, later.
struct ElasticsearchBulkBody {
    struct Operation {
        /// `create` or `index`.
        var action: String
        var index: String
        /// Nil: Elasticsearch generates one.
        var id: String?
        /// The document line as sent.
        var source: Data
    }

    struct Invalid: Error {
        var type: String
        var reason: String
    }

    static let supportedActions: Set<String> = ["create", "index"]

    var operations: [Operation] = []

    init(_ body: Data, pathIndex: String?) throws(Invalid) {
        guard !body.isEmpty else { throw Invalid(type: "parse_exception", reason: "request body is required") }
        guard body.last == UInt8(ascii: "\n") else {
            throw Invalid(type: "illegal_argument_exception", reason: "The bulk request must be terminated by a newline [\\n]")
        }
        // Split as bytes: slicing `Data` byte by byte was most of the emulator's time.
        let bytes = [UInt8](body)
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        lines.removeLast()  // after the final newline

        var number = 0
        while number < lines.count {
            let lineNumber = number + 1
            guard let action = (try? JSONSerialization.jsonObject(with: Data(lines[number]))) as? [String: Any],
                action.count == 1, let name = action.keys.first, let metadata = action[name] as? [String: Any]
            else {
                throw Invalid(
                    type: "illegal_argument_exception",
                    reason: "Malformed action/metadata line [\(lineNumber)], expected a single action object")
            }
            guard Self.supportedActions.contains(name) else {
                throw Invalid(
                    type: "illegal_argument_exception",
                    reason: "Malformed action/metadata line [\(lineNumber)], unsupported action [\(name)] (the emulator takes create and index)")
            }
            if let id = metadata["_id"], !(id is String) {
                throw Invalid(type: "illegal_argument_exception", reason: "Malformed action/metadata line [\(lineNumber)], _id must be a string")
            }
            guard let index = (metadata["_index"] as? String) ?? pathIndex, !index.isEmpty else {
                throw Invalid(type: "action_request_validation_exception", reason: "Validation Failed: 1: index is missing;")
            }
            guard number + 1 < lines.count else {
                throw Invalid(type: "action_request_validation_exception", reason: "Validation Failed: 1: source is missing;")
            }
            operations.append(Operation(action: name, index: index, id: metadata["_id"] as? String, source: Data(lines[number + 1])))
            number += 2
        }
        guard !operations.isEmpty else {
            throw Invalid(type: "action_request_validation_exception", reason: "Validation Failed: 1: no requests added;")
        }
    }
}
