import Foundation

/// One upstream entry in the native encoding, with the fields the spool keeps beside it: what a
/// `NormalizedEntry` becomes on its way into the spool, for connectors that write it straight from
/// the page (`PageEntries.encode()`) without building an `AuditEvent` first.
public struct EncodedEntry: Sendable, Equatable {
    public var upstreamID: String
    public var eventID: String
    public var time: Date
    public var eventType: String
    public var severity: String
    public var action: String
    public var outcome: String
    /// The event in the native encoding (`NativeEncoding.encode`).
    public var payload: Data

    public init(
        upstreamID: String, eventID: String, time: Date, eventType: String, severity: String, action: String, outcome: String,
        payload: Data
    ) {
        self.upstreamID = upstreamID
        self.eventID = eventID
        self.time = time
        self.eventType = eventType
        self.severity = severity
        self.action = action
        self.outcome = outcome
        self.payload = payload
    }

    /// A normalized entry, encoded.
    public init(_ entry: NormalizedEntry) throws {
        let event = entry.event
        self.init(
            upstreamID: entry.upstreamID, eventID: event.id, time: event.time, eventType: event.eventType.rawValue,
            severity: event.severity.rawValue, action: event.action, outcome: event.outcome.rawValue,
            payload: try NativeEncoding.encode(event, rawText: entry.rawText))
    }
}
