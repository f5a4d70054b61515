import Foundation
import Testing

@testable import Connectors

/// The direct field writer must produce exactly the bytes of the generic tree writer: the native
/// payload is what the file and webhook sinks receive, and the same event must keep its bytes.
@Suite struct NativeEncodingTests {
    static let events: [AuditEvent] = [
        AuditEventSamples.event(),
        AuditEventSamples.event(
            type: .configuration, action: "project.update", outcome: .failure, severity: .high,
            target: .init(type: "project", id: "p1", name: "Web \"main\"", location: "eu\tnorth"),
            actor: .init(id: nil, name: nil, email: nil, type: .unknown, ip: nil), message: nil,
            changes: [.object(["field": .string("name"), "from": .null, "to": .integer(-3)])],
            details: ["z": .bool(true), "a": .array([.double(1.5), .string("\u{1}\u{7F}é")])]),
        AuditEventSamples.event(target: .init(type: nil, id: nil, name: nil, location: nil), message: "line\nbreak\\ and \r\u{8}\u{C}"),
    ]

    @Test(arguments: events.indices)
    func directWriterMatchesTheTreeWriter(index: Int) throws {
        let event = Self.events[index]
        let direct = try NativeEncoding.encode(event)
        let tree = JSONWriter.write(NativeEncoding.json(event))
        #expect(String(decoding: direct, as: UTF8.self) == String(decoding: tree, as: UTF8.self))
        #expect(try AuditEvent(native: JSONValue.parse(direct)) == event)
    }

    @Test func controlCharactersAndQuotesAreEscaped() {
        var bytes: [UInt8] = []
        JSONWriter.writeString("a\"b\\c\n\u{1F}é", into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #""a\"b\\c\n\u001fé""#)
    }
}

/// Reading a payload back for ECS and OCSF (`AuditEvent.native(payload:)`) without a tree.
@Suite struct NativePayloadReadingTests {
    @Test(arguments: NativeEncodingTests.events.indices)
    func readsBackWhatTheTreeReads(index: Int) throws {
        let event = NativeEncodingTests.events[index]
        let payload = try NativeEncoding.encode(event)
        let (read, rawText) = try AuditEvent.native(payload: payload)
        var expected = try AuditEvent(native: JSONValue.parse(payload))
        #expect(try rawText.map(JSONValue.parse) == expected.raw)
        expected.raw = .null
        #expect(read == expected)
    }

    /// Odd but valid payloads read as the tree reads them: nulls, other kinds of values,
    /// repeated and unknown keys, whitespace.
    @Test(arguments: [
        #"{"id":"a","time":"2026-05-01T10:00:00Z","received_at":"2026-05-01T10:00:01Z","event_type":"security","target":null,"actor":"x","raw":[1,{"k":"v\"}"}]}"#,
        #"{ "id" : "a" , "time":"2026-05-01T10:00:00Z","received_at":"2026-05-01T10:00:01Z","event_type":"nope","target":7,"message":3,"x":{"y":[true]},"actor":{"id":"1","id":"2","z":{}},"details":[1]}"#,
        #"{"id":"a","time":"2026-05-01T10:00:00Z","received_at":"2026-05-01T10:00:01Z","event_type":"other","source":{"name":"s","type":null},"changes":{"a":1},"target":{"type":"user","extra":null}}"#,
    ])
    func oddPayloadsReadAsTheTreeReadsThem(text: String) throws {
        let (read, rawText) = try AuditEvent.native(payload: Data(text.utf8))
        var expected = try AuditEvent(native: JSONValue.parse(Data(text.utf8)))
        #expect(try rawText.map(JSONValue.parse) ?? .null == expected.raw)
        expected.raw = .null
        #expect(read == expected)
    }

    @Test(arguments: [
        #"{"id":"a","raw":{"a" 1}}"#, #"{"id":"a","raw":[1,}"#, #"{"id":"a","raw":"open}"#, #"{"id":"a","raw":{"a":tru}}"#,
        "{\"id\":\"a\",\"raw\":\"\u{1}\"}", #"[1]"#, #"{"id":"a"} x"#, #"{"time":"2026-05-01T10:00:00Z"}"#,
        #"{"id":"a","time":"yesterday","received_at":"2026-05-01T10:00:01Z","event_type":"other"}"#,
    ])
    func brokenPayloadsAreRefused(text: String) {
        #expect(throws: MalformedPayload.self) { try AuditEvent.native(payload: Data(text.utf8)) }
    }
}
