import Foundation
import TestSupport
import Testing

@testable import Connectors

/// Validates sample OCSF output against the official class schemas of the declared version,
/// using the PyPI package `ocsf-json-schema` with `jsonschema` (offline). Skipped when python3
/// or either package is missing: `pip install ocsf-json-schema jsonschema` to run it.
@Suite struct OCSFSchemaValidationTests {
    static let available: Bool = (try? python(["-c", "import jsonschema, ocsf_json_schema"]).status) == 0

    @Test(.enabled(if: available, "needs python3 with ocsf-json-schema and jsonschema"))
    func samplesValidateAgainstTheOfficialSchemas() throws {
        typealias Samples = AuditEventSamples
        var events: [JSONValue] = []
        let targets: [AuditEvent.Target?] = [
            nil, .init(type: "user", id: "u2", name: "Ann"), .init(type: "role"), .init(type: "project", id: "p1", location: "eu"),
        ]
        let actors: [AuditEvent.Actor] = [
            .init(id: "u1", name: "Bob", email: "bob@acme.io", type: .user, ip: "203.0.113.42"),
            .init(email: "not an email", type: .serviceAccount, ip: "runner-7"), .init(ip: "2001:db8::1"), .init(),
        ]
        for type in AuditEvent.EventType.allCases {
            for (index, (action, _)) in Samples.verbActions.enumerated() {
                let event = Samples.event(
                    type: type, action: action, outcome: AuditEvent.Outcome.allCases[index % 4],
                    severity: AuditEvent.Severity.allCases[index % 5], target: targets[index % targets.count],
                    actor: actors[(index / 2) % actors.count], message: index % 3 == 0 ? nil : "m",
                    changes: [.object(["op": .string("replace"), "value": .null])], details: ["k": .array([.integer(1)])])
                events.append(OCSFEncoding.json(event))
            }
        }
        // With a sink's integrity link in `unmapped` (signed or not), they must still validate.
        for (index, event) in events.prefix(12).enumerated() {
            var link = IntegrityChain.Link(
                sink: "siem", source: "shield", seq: Int64(index + 1), previous: IntegrityChain.genesis,
                hash: String(repeating: "ab", count: 32))
            if index % 2 == 0 { (link.signature, link.keyID) = ("c2lnbmF0dXJl", "a3f09c1d2e4b5a67") }
            let sealed = IntegrityChain.attach(link, to: JSONWriter.write(event), parsed: event, ocsf: true)
            events.append(try JSONValue.parse(sealed))
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ocsf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("check.py")
        let samples = directory.appendingPathComponent("events.json")
        try Data(Self.script.utf8).write(to: script)
        try JSONWriter.write(.array(events)).write(to: samples)
        let result = try Self.python([script.path, samples.path, OCSFEncoding.version])
        #expect(result.status == 0, "\(result.output)")
    }

    static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try SpawnedProcess.run("/usr/bin/env", ["python3"] + arguments)
    }

    static let script = """
        import json, sys
        import jsonschema
        from ocsf_json_schema import get_ocsf_schema, OcsfJsonSchemaEmbedded
        events = json.load(open(sys.argv[1]))
        schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=sys.argv[2]))
        validators, failures = {}, 0
        for event in events:
            uid = event["class_uid"]
            if uid not in validators:
                class_schema = schema.get_class_schema(schema.lookup_class_name_from_uid(uid))
                validators[uid] = jsonschema.validators.validator_for(class_schema)(
                    class_schema, format_checker=jsonschema.FormatChecker())
            for error in validators[uid].iter_errors(event):
                failures += 1
                path = "/".join(map(str, error.absolute_path))
                print(f"class {uid} activity {event.get('activity_id')}: {path}: {error.message[:300]}")
        print(f"checked {len(events)} events of {len(validators)} classes, {failures} errors")
        sys.exit(1 if failures else 0)
        """
}
