import Foundation

extension ElasticsearchEmulator {
    /// `_id` longer than this many UTF-8 bytes is refused per item.
    static let maxIDBytes = 512

    /// Runs the items in order under one lock, so a repeated `_id` within a request sees the
    /// earlier one (a second `create` conflicts), then answers 200 with one item per pair.
    func runBulk(_ bulk: ElasticsearchBulkBody, pathIndex: String?, pipeline: String?) -> EmulatorResponse {
        let started = ContinuousClock.now
        let (items, errors) = store.withLockedValue { store in
            let items = bulk.operations.map { Self.apply($0, to: &store) }
            let errors = items.contains { $0.error != nil }
            store.bulks.append(ElasticsearchBulkRequest(pathIndex: pathIndex, pipeline: pipeline, itemCount: items.count, errors: errors))
            return (items, errors)
        }
        let took = (ContinuousClock.now - started).components
        let millis = took.seconds * 1000 + took.attoseconds / 1_000_000_000_000_000
        let json = #"{"took":\#(millis),"errors":\#(errors),"items":["# + items.map(\.json).joined(separator: ",") + "]}"
        return .json(json)
    }

    struct ItemResult {
        var action: String
        var index: String
        var id: String
        var status: Int
        var result: String?
        var version: Int?
        var error: (type: String, reason: String)?

        var json: String {
            var body = #"{"_index":"# + JSONText.quote(index) + #","_id":"# + JSONText.quote(id)
            if let version { body += #","_version":\#(version)"# }
            if let result { body += #","result":"# + JSONText.quote(result) }
            body += #","status":\#(status)"#
            if let error {
                body += #","error":{"type":"# + JSONText.quote(error.type) + #","reason":"# + JSONText.quote(error.reason)
                body += #","index":"# + JSONText.quote(index) + "}"
            }
            return "{" + JSONText.quote(action) + ":" + body + "}}"
        }
    }

    /// Checks in Elasticsearch's order for one item: id length, scripted failure, document
    /// parse, version conflict; only a success is stored.
    private static func apply(_ operation: ElasticsearchBulkBody.Operation, to store: inout ElasticsearchStore) -> ItemResult {
        let id = operation.id ?? generatedID()
        var item = ItemResult(action: operation.action, index: operation.index, id: id, status: 0)
        func fail(_ status: Int, _ type: String, _ reason: String) -> ItemResult {
            item.status = status
            item.error = (type, reason)
            return item
        }

        if id.utf8.count > maxIDBytes {
            return fail(400, "illegal_argument_exception", "id [\(id)] is too long, must be no longer than 512 bytes but was: \(id.utf8.count)")
        }
        if let scripted = store.takeFailure(for: id) {
            return fail(scripted.status, scripted.type, "scripted failure for [\(id)]")
        }
        let source = [UInt8](operation.source)
        guard source.first == UInt8(ascii: "{"), JSONSyntax.isValid(source, source.indices) else {
            return fail(400, "mapper_parsing_exception", "failed to parse: the document is not a JSON object")
        }
        let existing = store.indexes[operation.index]?[id]
        if let existing, operation.action == "create" {
            return fail(
                409, "version_conflict_engine_exception",
                "[\(id)]: version conflict, document already exists (current version [\(existing.version)])")
        }
        let version = (existing?.version ?? 0) + 1
        store.indexes[operation.index, default: [:]][id] = .init(source: String(decoding: operation.source, as: UTF8.self), version: version)
        item.status = existing == nil ? 201 : 200
        item.result = existing == nil ? "created" : "updated"
        item.version = version
        return item
    }

    /// 20 URL-safe characters, like Elasticsearch's auto-generated ids.
    private static func generatedID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return String((0..<20).map { _ in alphabet.randomElement()! })
    }
}
