import Foundation

/// One normalized event on its way into the spool.
///
/// The spool is schema-agnostic: it stores the encoded event (`payload`) plus the few
/// columns sink filters need, so a sink can select events without decoding them.
public struct SpoolEntry: Sendable, Equatable {
    /// The upstream's own identifier, the dedupe key within a source.
    public var upstreamID: String
    /// The stable event id (sha256 of source + upstream id).
    public var eventID: String
    public var eventTime: Date
    public var eventType: String
    public var severity: String
    public var action: String
    public var outcome: String
    /// The event in the native encoding.
    public var payload: Data

    public init(
        upstreamID: String, eventID: String, eventTime: Date, eventType: String,
        severity: String, action: String, outcome: String, payload: Data
    ) {
        self.upstreamID = upstreamID
        self.eventID = eventID
        self.eventTime = eventTime
        self.eventType = eventType
        self.severity = severity
        self.action = action
        self.outcome = outcome
        self.payload = payload
    }
}

/// An event as stored in the spool, with its sequence number.
public struct SpoolRecord: Sendable, Equatable {
    public var seq: Int64
    public var source: String
    public var eventID: String
    public var eventTime: Date
    public var eventType: String
    public var severity: String
    public var action: String
    public var outcome: String
    public var payload: Data
    public var spooledAt: Date

    public init(
        seq: Int64, source: String, eventID: String, eventTime: Date, eventType: String, severity: String,
        action: String, outcome: String, payload: Data, spooledAt: Date
    ) {
        self.seq = seq
        self.source = source
        self.eventID = eventID
        self.eventTime = eventTime
        self.eventType = eventType
        self.severity = severity
        self.action = action
        self.outcome = outcome
        self.payload = payload
        self.spooledAt = spooledAt
    }
}

/// What appending one page did.
public struct AppendResult: Sendable, Equatable {
    /// Events newly written to the spool.
    public var inserted: Int
    /// Events skipped because the dedupe index already held their upstream id.
    public var duplicates: Int
}

/// An event a sink rejected for good, ready to be written to the dead-letter table.
public struct DeadLetterEntry: Sendable, Equatable {
    public var record: SpoolRecord
    /// The HTTP status of the rejection, or 0 when there was none (e.g. retries exhausted on network errors).
    public var status: Int
    public var reason: String

    public init(record: SpoolRecord, status: Int, reason: String) {
        self.record = record
        self.status = status
        self.reason = reason
    }
}

/// A dead letter as stored.
public struct DeadLetter: Sendable, Equatable {
    public var id: Int64
    public var sink: String
    public var source: String
    public var eventID: String
    public var status: Int
    public var reason: String
    public var createdAt: Date
    public var payload: Data
}

/// A source's checkpoint and health, as `status` shows it.
public struct SourceState: Sendable, Equatable {
    public var source: String
    /// Opaque to the store; the engine writes the window end in RFC 3339.
    public var position: String?
    public var lastSuccess: Date?
    public var lastError: String?
    public var lastErrorAt: Date?
}

/// A sink's progress, as `status` shows it.
public struct SinkState: Sendable, Equatable {
    public var sink: String
    public var deliveredSeq: Int64
    public var pending: Int64
    public var oldestPendingSpooledAt: Date?
    public var deadLetters: Int
    public var lastError: String?
}

/// Where a sink's integrity chain for one source stands: its last sequence number and hash.
public struct ChainHead: Sendable, Equatable {
    public var source: String
    public var seq: Int64
    public var hash: String

    public init(source: String, seq: Int64, hash: String) {
        self.source = source
        self.seq = seq
        self.hash = hash
    }
}
