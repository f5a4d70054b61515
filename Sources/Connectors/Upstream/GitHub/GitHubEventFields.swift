import Foundation

/// What normalizing needs of a GitHub audit event: read from its tree, or straight from its bytes
/// (`GitHubEventReader`) so that no tree is built for it. Both give the same fields.
struct GitHubEventFields: Equatable {
    var documentID: String?
    /// `@timestamp` and `created_at` (epoch milliseconds); the first, when there, is the time.
    var timestamp, createdAt: JSONValue?
    var action, actor, repo, user, actorIP, org, business: String?
    var actorID, repoID, userID: String?
    /// Goes into the event's details as it is, whatever its JSON type.
    var operationType: JSONValue?

    init() {}

    /// From an event's tree (an entry that cannot be read straight from its bytes).
    init(_ item: JSONValue) {
        guard case .object(let object) = item else { return }
        documentID = object["_document_id"]?.scalarText
        timestamp = object["@timestamp"]
        createdAt = object["created_at"]
        action = object["action"]?.stringValue
        actor = object["actor"]?.stringValue
        repo = object["repo"]?.stringValue
        user = object["user"]?.stringValue
        actorIP = object["actor_ip"]?.stringValue
        org = object["org"]?.stringValue
        business = object["business"]?.stringValue
        actorID = object["actor_id"]?.scalarText
        repoID = object["repo_id"]?.scalarText
        userID = object["user_id"]?.scalarText
        operationType = object["operation_type"]
    }

    /// Epoch milliseconds, as the normalizer reads them.
    var milliseconds: Double? { (timestamp ?? createdAt)?.numberValue }
}

/// Reads a GitHub audit event's fields straight from its bytes; the members the mapping does not
/// read (`actor_location`, `user_agent`, `hashed_token` and the like) are checked and stepped
/// over. An event with no `_document_id` is nil: the tree reader words the error.
enum GitHubEventReader {
    static func fields(_ parser: inout JSONParser) throws(JSONParser.Failure) -> GitHubEventFields? {
        var fields = GitHubEventFields()
        let isObject = try parser.members { parser, key throws(JSONParser.Failure) in
            switch key {
            case "_document_id": fields.documentID = try parser.value().scalarText
            case "@timestamp": fields.timestamp = try parser.value()
            case "created_at": fields.createdAt = try parser.value()
            case "action": fields.action = try parser.value().stringValue
            case "actor": fields.actor = try parser.value().stringValue
            case "repo": fields.repo = try parser.value().stringValue
            case "user": fields.user = try parser.value().stringValue
            case "actor_ip": fields.actorIP = try parser.value().stringValue
            case "org": fields.org = try parser.value().stringValue
            case "business": fields.business = try parser.value().stringValue
            case "actor_id": fields.actorID = try parser.value().scalarText
            case "repo_id": fields.repoID = try parser.value().scalarText
            case "user_id": fields.userID = try parser.value().scalarText
            case "operation_type": fields.operationType = try parser.value()
            default: try parser.skipValue()
            }
        }
        guard isObject, fields.documentID != nil else { return nil }
        return fields
    }
}
