import Foundation

/// The events of a spool row that holds a run of them (`v9-spool-runs`): a page's events meant
/// for the same sinks, with consecutive sequence numbers and their payloads side by side in one
/// segment. The row keeps what the queries need (first and last sequence number, sinks, segment);
/// this blob keeps each event's own fields.
///
/// One row per event cost an insert each (about 8 % of the forwarder's CPU on a busy source)
/// and a row decode each when a sink read it back.
///
/// Layout, little-endian: per event, its time (Float64 bits), its payload's offset from the run's
/// first payload and its length (UInt64 each), then five strings (UInt32 length, UTF-8 bytes):
/// event id, type, severity, action, outcome.
enum SpoolRun {
    struct Event: Equatable {
        var eventID: String
        var eventTime: Double
        var eventType: String
        var severity: String
        var action: String
        var outcome: String
        /// From the run's first payload.
        var offset: Int64
        var length: Int
    }

    static func append(_ event: Event, to blob: inout [UInt8]) {
        appendInteger(event.eventTime.bitPattern, to: &blob)
        appendInteger(UInt64(event.offset), to: &blob)
        appendInteger(UInt64(event.length), to: &blob)
        // One call per field: an array of the five was an allocation per event.
        appendText(event.eventID, to: &blob)
        appendText(event.eventType, to: &blob)
        appendText(event.severity, to: &blob)
        appendText(event.action, to: &blob)
        appendText(event.outcome, to: &blob)
    }

    private static func appendText(_ text: String, to blob: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            appendInteger(UInt32(bytes.count), to: &blob)
            blob.append(contentsOf: bytes)
        }
    }

    /// The run's events, in order; a clear error for a blob no run of ours can have (a damaged file).
    static func events(in blob: Data, seq: Int64) throws -> [Event] {
        var reader = Reader([UInt8](blob), seq: seq)
        var events: [Event] = []
        while let event = try reader.next() { events.append(event) }
        return events
    }

    private static func appendInteger<T: FixedWidthInteger>(_ value: T, to blob: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { blob.append(contentsOf: $0) }
    }

    /// Reads a run's events one at a time, so a batch that needs a few of a long run decodes
    /// only those (the ones before it are stepped over without making their strings).
    struct Reader {
        private let bytes: [UInt8]
        private let seq: Int64
        private var position = 0

        init(_ blob: [UInt8], seq: Int64) {
            bytes = blob
            self.seq = seq
        }

        var atEnd: Bool { position == bytes.count }

        /// The next event; nil at the run's end.
        mutating func next() throws -> Event? {
            guard !atEnd else { return nil }
            let time = Double(bitPattern: try integer(UInt64.self))
            let offset = try integer(UInt64.self)
            let length = try integer(UInt64.self)
            guard offset <= UInt64(Int64.max), length <= UInt64(Int.max) else { throw damaged() }
            return Event(
                eventID: try text(), eventTime: time, eventType: try text(), severity: try text(), action: try text(),
                outcome: try text(), offset: Int64(offset), length: Int(length))
        }

        /// Steps over the next event; false at the run's end.
        mutating func skip() throws -> Bool {
            guard !atEnd else { return false }
            try advance(by: 3 * MemoryLayout<UInt64>.size)
            for _ in 0..<5 { try advance(by: Int(try integer(UInt32.self))) }
            return true
        }

        private mutating func advance(by count: Int) throws {
            guard bytes.count - position >= count else { throw damaged() }
            position += count
        }

        private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            guard bytes.count - position >= size else { throw damaged() }
            defer { position += size }
            return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: position, as: T.self)) }
        }

        private mutating func text() throws -> String {
            let length = Int(try integer(UInt32.self))
            guard bytes.count - position >= length else { throw damaged() }
            defer { position += length }
            return String(decoding: bytes[position..<position + length], as: UTF8.self)
        }

        private func damaged() -> StateError {
            StateError(.unreadable, "spool row \(seq): its run of events is cut short or damaged")
        }
    }
}
