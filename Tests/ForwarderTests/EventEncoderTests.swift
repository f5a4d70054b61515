import Checkpoint
import Connectors
import Foundation
import Testing

@testable import Forwarder

/// The sink-side encoder reads spooled payloads back: for ECS and OCSF it builds everything but
/// `raw`, whose text it copies as the payload holds it. The documents must be the ones the
/// encoders write from the whole event.
@Suite struct EventEncoderTests {
    static let raw = JSONValue.object([
        "id": .string("e-1"), "action": .string("user.login"), "note": .string("said \"hi\"\nthen — left"),
        "sequence": .integer(9_007_199_254_740_993), "nested": .object(["list": .array([.null, .bool(true), .double(1.5)])]),
    ])

    static let event = AuditEvent(
        id: AuditEvent.stableID(sourceName: "deploys", upstreamID: "e-1"), time: Date(timeIntervalSince1970: 1_777_631_400.123),
        receivedAt: Date(timeIntervalSince1970: 1_777_631_462.004), source: .init(name: "deploys", type: "deploys", eventID: "e-1"),
        eventType: .authentication, action: "user.login", outcome: .denied, severity: .medium,
        actor: .init(id: "u1", name: "Bob", email: "bob@acme.io", type: .user, ip: "203.0.113.42"),
        target: .init(type: "Users", id: "u2", name: nil, location: nil), organization: "acme", project: nil, message: nil,
        changes: [.object(["op": .string("replace")])], details: ["region": .string("eu")], raw: raw)

    func record(_ payload: Data) -> SpoolRecord {
        SpoolRecord(
            seq: 1, source: "deploys", eventID: Self.event.id, eventTime: Self.event.time, eventType: "authentication",
            severity: "medium", action: "user.login", outcome: "denied", payload: payload, spooledAt: Date())
    }

    @Test func ecsAndOCSFFromThePayloadEqualTheEncodersOwn() throws {
        let payload = try NativeEncoding.encode(Self.event)
        let ecs = try EventEncoder(encoding: .ecs, redact: []).encode(record(payload))
        #expect(String(decoding: ecs.body, as: UTF8.self) == String(decoding: ECSEncoding.encode(Self.event), as: UTF8.self))
        let ocsf = try EventEncoder(encoding: .ocsf, redact: []).encode(record(payload))
        #expect(String(decoding: ocsf.body, as: UTF8.self) == String(decoding: OCSFEncoding.encode(Self.event), as: UTF8.self))
    }

    /// The upstream's own text (its key order, its escapes) is what `event.original` carries.
    @Test func theOriginalIsTheSpooledTextAsItIs() throws {
        let upstreamText = #"{"z":1,"a":"\u00e9","id":"e-1"}"#
        let payload = try NativeEncoding.encode(Self.event, rawText: Data(upstreamText.utf8))
        let ecs = try JSONValue.parse(try EventEncoder(encoding: .ecs, redact: []).encode(record(payload)).body)
        #expect(ecs["event"]?["original"] == .string(upstreamText))
        let ocsf = try JSONValue.parse(try EventEncoder(encoding: .ocsf, redact: []).encode(record(payload)).body)
        #expect(ocsf["raw_data"] == .string(upstreamText))
    }

    @Test func redactedPathsAreGoneFromTheOriginal() throws {
        let payload = try NativeEncoding.encode(Self.event)
        let ecs = try JSONValue.parse(try EventEncoder(encoding: .ecs, redact: ["raw.note", "actor.email"]).encode(record(payload)).body)
        let original = try #require(ecs["event"]?["original"]?.stringValue)
        #expect(!original.contains("said"))
        #expect(original.contains("9007199254740993"))
        #expect(ecs["user"]?["email"] == nil)
    }
}
