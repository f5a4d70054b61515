import Foundation

/// What normalizing needs of an Okta LogEvent: read from its tree, or straight from its bytes
/// (`OktaEventReader`) so that no tree is built for it at all. Both give the same fields.
struct OktaEventFields: Equatable {
    var uuid: String?
    var published: String?
    var eventType: String?
    var severity: String?
    var displayMessage: String?
    var actorID, actorType, actorAlternateID, actorDisplayName: String?
    var clientIP: String?
    /// `client.userAgent.rawUserAgent`, `client.geographicalContext`, `outcome.reason` and
    /// `transaction.id` go into the event's details as they are, whatever their JSON type.
    var userAgent, geo, outcomeReason, transactionID: JSONValue?
    var outcomeResult: String?
    /// `target`: the first is the one acted on; all of them go into details when there are several.
    var targets: [JSONValue] = []

    init() {}

    /// From an event's tree (an entry that cannot be read straight from its bytes).
    init(_ item: JSONValue) {
        guard case .object(let object) = item else { return }
        uuid = object["uuid"]?.scalarText
        published = object["published"]?.stringValue
        eventType = object["eventType"]?.stringValue
        severity = object["severity"]?.stringValue
        displayMessage = object["displayMessage"]?.stringValue
        let actor = object["actor"]
        actorID = actor?["id"]?.scalarText
        actorType = actor?["type"]?.stringValue
        actorAlternateID = actor?["alternateId"]?.stringValue
        actorDisplayName = actor?["displayName"]?.stringValue
        let client = object["client"]
        clientIP = client?["ipAddress"]?.stringValue
        userAgent = client?["userAgent"]?["rawUserAgent"]
        geo = client?["geographicalContext"]
        let outcome = object["outcome"]
        outcomeReason = outcome?["reason"]
        outcomeResult = outcome?["result"]?.stringValue
        transactionID = object["transaction"]?["id"]
        targets = object["target"]?.arrayValue ?? []
    }
}

/// Reads an Okta LogEvent's fields straight from its bytes, the members normalizing does not read
/// checked and stepped over (an event's `debugContext`, `authenticationContext` and `request` are
/// most of it). An event with no uuid or no `published` is nil: the tree reader words the error.
enum OktaEventReader {
    static func fields(_ parser: inout JSONParser) throws(JSONParser.Failure) -> OktaEventFields? {
        var fields = OktaEventFields()
        let isObject = try parser.members { parser, key throws(JSONParser.Failure) in
            switch key {
            case "uuid": fields.uuid = try parser.value().scalarText
            case "published": fields.published = try parser.value().stringValue
            case "eventType": fields.eventType = try parser.value().stringValue
            case "severity": fields.severity = try parser.value().stringValue
            case "displayMessage": fields.displayMessage = try parser.value().stringValue
            case "actor": try parser.actor(into: &fields)
            case "client": try parser.client(into: &fields)
            case "outcome":
                (fields.outcomeReason, fields.outcomeResult) = (nil, nil)
                _ = try parser.members { parser, key throws(JSONParser.Failure) in
                    switch key {
                    case "reason": fields.outcomeReason = try parser.value()
                    case "result": fields.outcomeResult = try parser.value().stringValue
                    default: try parser.skipValue()
                    }
                }
            case "transaction":
                fields.transactionID = nil
                _ = try parser.members { parser, key throws(JSONParser.Failure) in
                    if key == "id" { fields.transactionID = try parser.value() } else { try parser.skipValue() }
                }
            case "target": fields.targets = try parser.value().arrayValue ?? []
            default: try parser.skipValue()
            }
        }
        guard isObject, fields.uuid != nil, fields.published != nil else { return nil }
        return fields
    }
}

extension JSONParser {
    /// A repeated member replaces the earlier one whole, as in a tree: its fields start over.
    fileprivate mutating func actor(into fields: inout OktaEventFields) throws(Failure) {
        (fields.actorID, fields.actorType, fields.actorAlternateID, fields.actorDisplayName) = (nil, nil, nil, nil)
        _ = try members { parser, key throws(Failure) in
            switch key {
            case "id": fields.actorID = try parser.value().scalarText
            case "type": fields.actorType = try parser.value().stringValue
            case "alternateId": fields.actorAlternateID = try parser.value().stringValue
            case "displayName": fields.actorDisplayName = try parser.value().stringValue
            default: try parser.skipValue()
            }
        }
    }

    fileprivate mutating func client(into fields: inout OktaEventFields) throws(Failure) {
        (fields.clientIP, fields.userAgent, fields.geo) = (nil, nil, nil)
        _ = try members { parser, key throws(Failure) in
            switch key {
            case "ipAddress": fields.clientIP = try parser.value().stringValue
            case "geographicalContext": fields.geo = try parser.value()
            case "userAgent":
                fields.userAgent = nil
                _ = try parser.members { parser, key throws(Failure) in
                    if key == "rawUserAgent" { fields.userAgent = try parser.value() } else { try parser.skipValue() }
                }
            default: try parser.skipValue()
            }
        }
    }
}
