import Foundation
import Testing

@testable import Connectors

@Suite struct OCSFEncodingTests {
    typealias Samples = AuditEventSamples
    static let required: [OCSFEncoding.EventClass: Set<String>] = [
        .authentication: ["activity_id", "category_uid", "class_uid", "metadata", "severity_id", "time", "type_uid", "user", "service"],
        .accountChange: ["activity_id", "category_uid", "class_uid", "metadata", "severity_id", "time", "type_uid", "user"],
        .apiActivity: [
            "activity_id", "actor", "api", "category_uid", "class_uid", "metadata", "severity_id", "src_endpoint", "time", "type_uid",
        ],
    ]

    func ocsf(_ event: AuditEvent) throws -> JSONValue {
        try Samples.parse(OCSFEncoding.encode(event))
    }

    @Test(arguments: [
        (AuditEvent.EventType.authentication, AuditEvent.Target?.none, Int64(3002), Int64(3)),
        (.authorization, AuditEvent.Target(type: "user", id: "u2"), 3001, 3),
        (.authorization, AuditEvent.Target(type: "Service Accounts", name: "ci"), 3001, 3),
        (.authorization, AuditEvent.Target(type: "role", name: "admin"), 3001, 3),
        (.authorization, AuditEvent.Target(type: "project", id: "p1"), 6003, 6),
        (.authorization, nil, 6003, 6),
        (.configuration, AuditEvent.Target(type: "user", id: "u2"), 6003, 6),
        (.dataAccess, nil, 6003, 6), (.security, nil, 6003, 6), (.other, nil, 6003, 6),
    ])
    func classes(type: AuditEvent.EventType, target: AuditEvent.Target?, classUID: Int64, category: Int64) throws {
        let json = try ocsf(Samples.event(type: type, action: "x", target: target))
        #expect(json["class_uid"] == .integer(classUID))
        #expect(json["category_uid"] == .integer(category))
        #expect(json["activity_id"] == .integer(99))
        #expect(json["type_uid"] == .integer(classUID * 100 + 99))
    }

    @Test func activitiesByVerb() throws {
        let expected: [OCSFEncoding.EventClass: [ActionVerb?: Int64]] = [
            .authentication: [.login: 1, .logout: 2, .create: 99, .delete: 99, nil: 99],
            .accountChange: [.create: 1, .enable: 2, .disable: 5, .delete: 6, .attach: 7, .detach: 8, .lock: 9, .update: 99, .read: 99, nil: 99],
            .apiActivity: [
                .create: 1, .read: 2, .update: 3, .delete: 4, .attach: 3, .detach: 3, .enable: 3, .disable: 3, .lock: 3, .login: 99,
                .logout: 99, nil: 99,
            ],
        ]
        let kinds: [OCSFEncoding.EventClass: (AuditEvent.EventType, AuditEvent.Target?)] = [
            .authentication: (.authentication, nil), .accountChange: (.authorization, .init(type: "user", id: "u2")),
            .apiActivity: (.dataAccess, .init(type: "project", id: "p1")),
        ]
        for (eventClass, table) in expected {
            let (type, target) = kinds[eventClass]!
            for (action, verb) in Samples.verbActions where table.keys.contains(verb) {
                let json = try ocsf(Samples.event(type: type, action: action, target: target))
                let activity = table[verb]!
                #expect(json["class_uid"] == .integer(eventClass.rawValue))
                #expect(json["activity_id"] == .integer(activity), "\(eventClass) \(action)")
                #expect(json["type_uid"] == .integer(eventClass.rawValue * 100 + activity))
                #expect(json["type_name"]?.stringValue?.hasPrefix(eventClass.name + ": ") == true)
            }
        }
    }

    @Test(arguments: [(AuditEvent.Severity.info, Int64(1)), (.low, 2), (.medium, 3), (.high, 4), (.critical, 5)])
    func severities(severity: AuditEvent.Severity, id: Int64) throws {
        let json = try ocsf(Samples.event(severity: severity))
        #expect(json["severity_id"] == .integer(id))
        #expect(json["unmapped"]?["severity"] == .string(severity.rawValue))
    }

    @Test(arguments: [
        (AuditEvent.Outcome.success, Int64(1), "Success"), (.failure, 2, "Failure"), (.denied, 2, "Failure"), (.unknown, 0, "Unknown"),
    ])
    func statuses(outcome: AuditEvent.Outcome, id: Int64, name: String) throws {
        let json = try ocsf(Samples.event(outcome: outcome))
        #expect(json["status_id"] == .integer(id))
        #expect(json["status"] == .string(name))
        #expect(json["status_detail"] == (outcome == .denied ? .string("denied") : nil))
    }

    @Test func topLevelKeysAreTheClassAttributesOnly() throws {
        for type in AuditEvent.EventType.allCases {
            for target in [nil, AuditEvent.Target(type: "user", id: "u2"), AuditEvent.Target(type: "project", name: "web")] {
                let event = Samples.event(type: type, target: target, changes: [.object(["op": .string("add")])], details: ["k": .integer(1)])
                let json = try ocsf(event)
                let eventClass = OCSFEncoding.eventClass(for: event)
                let keys = Set(json.objectValue!.keys)
                #expect(keys.isSubset(of: OCSFEncoding.allowedKeys[eventClass]!), "\(keys.subtracting(OCSFEncoding.allowedKeys[eventClass]!))")
                #expect(Self.required[eventClass]!.isSubset(of: keys))
                #expect(json["unmapped"]?["changes"] != nil && json["unmapped"]?["details"] != nil)
            }
        }
    }

    @Test func keepsIdentityTimesAndTheOriginal() throws {
        let event = Samples.event()
        let json = try ocsf(event)
        #expect(json["metadata"]?["uid"] == .string(event.id))
        #expect(json["metadata"]?["version"] == .string("1.3.0"))
        #expect(json["metadata"]?["product"] == .object(["name": .string("DeepIntShield"), "vendor_name": .string("DeepIntShield")]))
        #expect(json["metadata"]?["logged_time"] == .integer(1_777_631_462_004))
        #expect(json["time"] == .integer(1_777_631_400_123))
        let raw = try #require(json["raw_data"]?.stringValue)
        #expect(try Samples.parse(Data(raw.utf8)) == event.raw)
        #expect(json["message"] == .string("Bob logged in"))
        #expect(json["unmapped"]?["source"]?["event_id"] == .string("81234"))
        #expect(json["unmapped"]?["organization"] == .string("acme"))
    }

    @Test func authenticationNamesTheUserTheServiceAndTheEndpoint() throws {
        let json = try ocsf(Samples.event())
        #expect(
            json["user"]
                == .object([
                    "uid": .string("u1"), "name": .string("Bob"), "email_addr": .string("bob@acme.io"), "type_id": .integer(1),
                    "type": .string("User"),
                ]))
        #expect(json["service"] == .object(["name": .string("deepintshield")]))
        #expect(json["src_endpoint"] == .object(["ip": .string("203.0.113.42")]))
    }

    @Test func accountChangeTargetsTheAccountAndKeepsTheActor() throws {
        let json = try ocsf(Samples.event(type: .authorization, action: "role.assign", target: .init(type: "user", id: "u2", name: "Ann")))
        #expect(json["user"] == .object(["uid": .string("u2"), "name": .string("Ann")]))
        #expect(json["actor"]?["user"]?["uid"] == .string("u1"))
        #expect(json["activity_name"] == .string("Attach Policy"))
    }

    @Test func apiActivityHasAnEndpointEvenWithoutAnAddress() throws {
        let event = Samples.event(
            type: .configuration, action: "project.update", target: .init(type: "project", id: "p1", name: "web"),
            actor: .init(email: "not-an-email", type: .serviceAccount))
        let json = try ocsf(event)
        #expect(json["src_endpoint"] == .object(["name": .string("unknown")]))
        #expect(json["api"] == .object(["operation": .string("project.update"), "service": .object(["name": .string("deepintshield")])]))
        #expect(json["actor"]?["user"] == .object(["name": .string("not-an-email"), "type_id": .integer(99), "type": .string("Service Account")]))
        #expect(json["unmapped"]?["actor_email"] == .string("not-an-email"))
        #expect(json["resources"] == .array([.object(["uid": .string("p1"), "name": .string("web"), "type": .string("project")])]))
        let host = try ocsf(Samples.event(type: .other, actor: .init(id: "u1", ip: "runner-7")))
        #expect(host["src_endpoint"] == .object(["name": .string("runner-7")]))
    }
}
