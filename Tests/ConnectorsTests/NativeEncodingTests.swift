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
