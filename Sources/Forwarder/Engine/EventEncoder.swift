import Checkpoint
import Connectors
import Foundation

/// Turns spooled events into a sink's encoding, after removing `redact` paths.
struct EventEncoder: Sendable {
    let encoding: SinkConfiguration.Encoding
    let redact: [[String]]

    init(encoding: SinkConfiguration.Encoding, redact: [String]) {
        self.encoding = encoding
        self.redact = redact.map { $0.split(separator: ".").map(String.init) }
    }

    /// The native payload passes through untouched when nothing is redacted: the hot path decodes nothing.
    func encode(_ record: SpoolRecord) throws -> EncodedEvent {
        let body: Data
        if encoding == .native, redact.isEmpty {
            body = record.payload
        } else if redact.isEmpty {
            // `raw` is written as the payload holds it: only its text is needed, not its tree.
            let (event, raw) = try AuditEvent.native(payload: record.payload)
            let rawText = raw.map { String(decoding: $0, as: UTF8.self) } ?? "null"
            body = encoding == .ecs ? ECSEncoding.encode(event, rawText: rawText) : OCSFEncoding.encode(event, rawText: rawText)
        } else {
            var json = try JSONValue.parse(record.payload)
            for path in redact { json.remove(path: path[...]) }
            switch encoding {
            case .native: body = try NativeEncoding.encode(json)
            case .ecs: body = ECSEncoding.encode(try AuditEvent(native: json))
            case .ocsf: body = OCSFEncoding.encode(try AuditEvent(native: json))
            }
        }
        return EncodedEvent(
            id: record.eventID, time: record.eventTime, body: body, source: record.source, eventType: record.eventType,
            severity: record.severity)
    }
}

extension JSONValue {
    /// Removes the value at a dotted path; arrays apply the rest of the path to each element.
    mutating func remove(path: ArraySlice<String>) {
        guard let key = path.first else { return }
        switch self {
        case .object(var object):
            if path.count == 1 {
                object.removeValue(forKey: key)
            } else if var child = object[key] {
                child.remove(path: path.dropFirst())
                object[key] = child
            }
            self = .object(object)
        case .array(var array):
            for index in array.indices { array[index].remove(path: path) }
            self = .array(array)
        default:
            break
        }
    }
}
