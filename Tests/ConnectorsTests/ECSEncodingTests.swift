import Foundation
import Testing

@testable import Connectors

@Suite struct ECSEncodingTests {
    typealias Samples = AuditEventSamples
    static let categories: Set<String> = ["iam", "authentication", "configuration", "api", "session"]
    static let types: Set<String> = [
        "access", "admin", "allowed", "change", "creation", "deletion", "denied", "end", "info", "start", "user",
    ]

    func ecs(_ event: AuditEvent) throws -> JSONValue {
        try Samples.parse(ECSEncoding.encode(event))
    }

    func strings(_ value: JSONValue?) -> [String] { value?.arrayValue?.compactMap(\.stringValue) ?? [] }

    @Test(arguments: [
        (AuditEvent.EventType.authentication, ["authentication"], ["info"]),
        // No verb that changes access: a decision on a request, `api` (iam is for changes).
        (.authorization, ["api"], ["info"]),
        (.configuration, ["configuration"], ["change"]),
        (.dataAccess, ["api"], ["access"]),
        (.security, ["api"], ["info"]),
        (.other, ["api"], ["info"]),
    ])
    func eventTypes(type: AuditEvent.EventType, categories: [String], types: [String]) throws {
        let json = try ecs(Samples.event(type: type, action: "deployment.deploy", outcome: .failure))
        #expect(strings(json["event"]?["category"]) == categories)
        #expect(strings(json["event"]?["type"]) == types)
        #expect(json["event"]?["kind"] == .string("event"))
        #expect(json["audit_forwarder"]?["event_type"] == .string(type.rawValue))
    }

    @Test(arguments: [
        ("project.create", "creation"), ("user.deleted", "deletion"), ("UPDATE", "change"), ("LOGIN", "start"),
        ("LOGOUT", "end"), ("audit_log.list", "access"), ("role.assign", "change"), ("role.revoke", "change"),
        ("user.enable", "change"), ("user.disable", "change"), ("user.lock", "change"),
    ])
    func verbs(action: String, type: String) throws {
        let json = try ecs(Samples.event(type: .other, action: action, outcome: .failure))
        #expect(strings(json["event"]?["type"]) == [type])
        #expect(json["event"]?["action"] == .string(action))
        let categories = strings(json["event"]?["category"])
        #expect(categories.contains("session") == (type == "start" || type == "end"))
    }

    @Test(arguments: [
        (AuditEvent.Outcome.success, "success"), (.failure, "failure"), (.denied, "failure"), (.unknown, "unknown"),
    ])
    func outcomes(outcome: AuditEvent.Outcome, expected: String) throws {
        let json = try ecs(Samples.event(type: .other, action: "x", outcome: outcome))
        #expect(json["event"]?["outcome"] == .string(expected))
        #expect(strings(json["event"]?["type"]).contains("denied") == (outcome == .denied))
        #expect(json["audit_forwarder"]?["outcome"] == .string(outcome.rawValue))
    }

    @Test func authorizationAndTargetsAddAllowedUserAndAdmin() throws {
        let granted = try ecs(Samples.event(type: .authorization, action: "role.assign", target: .init(type: "users", id: "u2")))
        // A role assigned: an iam change, whose expected types have no `allowed`.
        #expect(strings(granted["event"]?["category"]) == ["iam"])
        #expect(strings(granted["event"]?["type"]) == ["change", "user"])
        let role = try ecs(Samples.event(type: .authorization, action: "x", outcome: .denied, target: .init(type: "role")))
        #expect(strings(role["event"]?["type"]) == ["user", "admin", "denied"])
    }

    @Test(arguments: [(AuditEvent.Severity.info, Int64(1)), (.low, 2), (.medium, 3), (.high, 4), (.critical, 5)])
    func severities(severity: AuditEvent.Severity, number: Int64) throws {
        let json = try ecs(Samples.event(severity: severity))
        #expect(json["event"]?["severity"] == .integer(number))
        #expect(json["audit_forwarder"]?["severity"] == .string(severity.rawValue))
    }

    /// ECS 8.11's expected event types per category, written out here from ECS's own table
    /// (not taken from the encoder), for every category the encoder can produce.
    static let ecsExpectedTypes: [String: Set<String>] = [
        "authentication": ["start", "end", "info"],
        "session": ["start", "end", "info"],
        "configuration": ["access", "change", "creation", "deletion", "info"],
        "iam": ["admin", "change", "creation", "deletion", "group", "info", "user"],
        "api": [
            "access", "admin", "allowed", "change", "creation", "deletion", "denied", "end", "info", "installation", "protocol", "start", "user",
        ],
    ]

    @Test func everyMappedActionHasOnlyTypesItsCategoriesExpect() throws {
        let targets: [AuditEvent.Target?] = [nil, .init(type: "user"), .init(type: "role"), .init(type: "group"), .init(type: "project")]
        let actions = Samples.verbActions.map(\.0) + ["access_denied", "request.blocked", "deployment.deploy"]
        var checked = 0
        for type in AuditEvent.EventType.allCases {
            for action in actions {
                for outcome in AuditEvent.Outcome.allCases {
                    for target in targets {
                        let (categories, types) = ECSEncoding.classification(
                            Samples.event(type: type, action: action, outcome: outcome, target: target))
                        for category in categories {
                            let expected = try #require(Self.ecsExpectedTypes[category], "unknown category \(category)")
                            #expect(Set(types).isSubset(of: expected), "\(type) \(action) \(outcome): \(category) with \(types)")
                        }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 1000)
    }

    @Test func accessDeniedIsDeniedNotAllowed() throws {
        let (categories, types) = ECSEncoding.classification(Samples.event(type: .authorization, action: "access_denied", outcome: .success))
        #expect(categories == ["api"])
        #expect(types == ["access", "denied"])
    }

    @Test func everyCombinationStaysInsideTheECSValueSets() throws {
        let targets: [AuditEvent.Target?] = [nil, .init(type: "user"), .init(type: "role"), .init(type: "project")]
        for type in AuditEvent.EventType.allCases {
            for (action, _) in Samples.verbActions {
                for outcome in AuditEvent.Outcome.allCases {
                    for target in targets {
                        let (categories, types) = ECSEncoding.classification(
                            Samples.event(type: type, action: action, outcome: outcome, target: target))
                        #expect(!categories.isEmpty && Set(categories).isSubset(of: Self.categories))
                        #expect(!types.isEmpty && Set(types).isSubset(of: Self.types))
                    }
                }
            }
        }
    }

    @Test func keepsIdentityTimesAndTheOriginal() throws {
        let event = Samples.event(
            changes: [.object(["op": .string("replace"), "path": .string("/name"), "value": .integer(3)])],
            details: ["browser": .string("firefox")])
        let json = try ecs(event)
        #expect(json["event"]?["id"] == .string(event.id))
        let original = try #require(json["event"]?["original"]?.stringValue)
        #expect(try Samples.parse(Data(original.utf8)) == event.raw)
        #expect(json["@timestamp"] == .string("2026-05-01T10:30:00.123Z"))
        #expect(json["event"]?["created"] == .string("2026-05-01T10:31:02.004Z"))
        #expect(json["event"]?["provider"] == .string("shield"))
        #expect(json["event"]?["module"] == .string("deepintshield"))
        #expect(json["event"]?["dataset"] == .string("deepintshield.audit"))
        #expect(json["user"] == .object(["id": .string("u1"), "name": .string("Bob"), "email": .string("bob@acme.io")]))
        #expect(json["source"] == .object(["ip": .string("203.0.113.42")]))
        #expect(json["message"] == .string("Bob logged in"))
        #expect(json["organization"] == .object(["name": .string("acme")]))
        let leftovers = try #require(json["audit_forwarder"])
        #expect(leftovers["source"] == .object(["name": .string("shield"), "type": .string("deepintshield"), "event_id": .string("81234")]))
        #expect(leftovers["project"] == .string("web"))
        #expect(leftovers["details"] == .object(["browser": .string("firefox")]))
        #expect(leftovers["changes"] == .string(#"[{"op":"replace","path":"/name","value":3}]"#))
        #expect(leftovers["actor_type"] == .string("user"))
        #expect(Set(json.objectValue!.keys) == ["@timestamp", "ecs", "event", "user", "source", "message", "organization", "audit_forwarder"])
    }

    @Test func aSourceThatIsNotAnIPGoesToAddressAndAMissingMessageIsSummarized() throws {
        let json = try ecs(Samples.event(actor: .init(email: "ci@acme.io", ip: "runner-7"), message: nil))
        #expect(json["source"] == .object(["address": .string("runner-7")]))
        #expect(json["user"] == .object(["email": .string("ci@acme.io")]))
        #expect(json["message"] == .string("user.login by ci@acme.io: success"))
        let noActor = try ecs(Samples.event(actor: .init(), message: nil))
        #expect(noActor["user"] == nil && noActor["source"] == nil)
    }

    static let varied: [AuditEvent] = [
        Samples.event(),
        Samples.event(
            type: .configuration, action: "Project Update", outcome: .failure, severity: .high,
            target: .init(type: "Service Accounts", id: "p1", name: "Web \"main\"", location: "eu\tnorth"),
            actor: .init(id: nil, name: nil, email: nil, type: .unknown, ip: "build-host"), message: nil,
            changes: [.object(["field": .string("name"), "from": .null, "to": .integer(-3)])],
            details: ["z": .bool(true), "a": .array([.double(1.5), .string("\u{1}\u{7F}é")])]),
        Samples.event(
            type: .authorization, action: "roleAssignUser", target: .init(type: nil, id: nil, name: nil, location: nil),
            actor: .init(id: "u2", name: nil, email: nil, type: .serviceAccount, ip: "2001:db8::1%eth0"), message: "line\nbreak"),
        Samples.event(type: .dataAccess, action: "données.exportées", outcome: .denied, actor: .init(), message: ""),
    ]

    /// The direct writer must give exactly the tree writer's bytes: documents already indexed
    /// keep their shape, and the tree is what the mapping tests read.
    @Test(arguments: varied.indices)
    func directWriterMatchesTheTreeWriter(index: Int) {
        let event = Self.varied[index]
        #expect(
            String(decoding: ECSEncoding.encode(event), as: UTF8.self) == String(decoding: JSONWriter.write(ECSEncoding.json(event)), as: UTF8.self))
    }

    @Test(arguments: ["user.login", "apiKeyRevoke", "LOGIN", "role.assign_user", "sign_out", "HTTPRequest2FA", "a--b..c", "", "x9Y"])
    func asciiActionsSplitAsTheUnicodePathDoes(action: String) {
        #expect(ActionVerb.split(action) == ActionVerb.unicodeWords(action))
    }

    @Test func theSameEventHasTheSameBytes() {
        #expect(ECSEncoding.encode(Samples.event()) == ECSEncoding.encode(Samples.event()))
    }
}
