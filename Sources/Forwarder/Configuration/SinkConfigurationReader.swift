import Connectors
import Foundation

/// Reads one `sinks[i]` entry: the common keys (batching, retry, filters, redact), then the keys of its type.
enum SinkConfigurationReader {
    /// `max_in_flight` of HTTP sinks: enough to fill a remote SIEM's round trips (8 batches of
    /// 500 per 50 ms is 80,000 events/s), few enough that a crash resends little.
    static let defaultMaxInFlight = 8
    static let maxInFlightCeiling = 64
    static var supportedTypes: [String] { ConnectorRegistry.sinks.map(\.type) }

    static func read(_ reader: ConfigReader) -> SinkConfiguration? {
        defer { reader.rejectUnknownKeys() }
        let name = reader.requiredString("name") ?? ""
        if !name.isEmpty, !ConfigurationLoader.validName(name) {
            reader.fail("name", "use letters, digits, '_', '-' or '.' (at most 64)")
        }
        guard let type = reader.requiredString("type") else { return nil }
        guard let kind = ConnectorRegistry.sink(type) else {
            reader.fail("type", "unsupported sink type \"\(type)\" (supported: \(supportedTypes.joined(separator: ", ")))")
            reader.acceptRemainingKeys()
            return nil
        }
        let defaults = kind.defaults
        let batchSize = reader.int("batch_size", default: defaults.batchSize, range: 1...defaults.batchSizeCeiling)
        let maxBatchBytes = reader.int("max_batch_bytes", default: defaults.maxBatchBytes, range: 1024...defaults.maxBatchBytesCeiling)
        let flushInterval = reader.duration("flush_interval", default: .seconds(1))
        let encoding = reader.choice("encoding", default: defaults.encoding)
        let compression = reader.choice("compression", default: SinkConfiguration.Compression.none)
        if compression == .gzip, defaults.local {
            reader.fail("compression", "gzip is for HTTP sinks; the \(type) sink writes plain NDJSON")
        }
        let timeout = reader.duration("timeout", default: .seconds(30), minimum: .milliseconds(100))
        let retry = readRetry(reader.mapping("retry"))
        let filters = readFilters(reader.mapping("filters"))
        let redact = reader.stringList("redact") ?? []
        for (index, path) in redact.enumerated() where path.isEmpty || path.hasPrefix(".") || path.hasSuffix(".") {
            reader.fail("redact[\(index)]", "must be a dotted field path like actor.ip")
        }
        let tls = TLSOptionsReader.read(reader.mapping("tls"), allowClientCertificate: true)
        let maxInFlight = reader.int("max_in_flight", default: defaults.maxInFlight, range: 1...maxInFlightCeiling)
        if maxInFlight > 1, defaults.maxInFlight == 1 {
            reader.fail("max_in_flight", "the \(type) sink appends its batches in order, one at a time")
        }

        let read = kind.read(reader, name, batchSize)
        let acknowledgement = read?.acknowledgement
        let integrity = reader.mapping("integrity").flatMap { readIntegrity($0, acknowledgement: acknowledgement) }
        let proxy = defaults.local ? nil : reader.proxy(for: read?.target.origin)
        guard let target = read?.target, !name.isEmpty else { return nil }
        var sink = SinkConfiguration(
            name: name, type: type, batchSize: batchSize, maxBatchBytes: maxBatchBytes, flushInterval: flushInterval,
            encoding: encoding, compression: compression, timeout: timeout, retry: retry, filters: filters, redact: redact, tls: tls,
            acknowledgement: acknowledgement, target: target, proxy: proxy, integrity: integrity)
        sink.maxInFlight = maxInFlight
        return sink
    }

    /// `integrity: { signing_key: "${AUDIT_FORWARDER_SIGNING_KEY}" }` (or `signing_key_file`): the
    /// base64 Ed25519 key `audit-forwarder keygen` prints.
    private static func readIntegrity(_ reader: ConfigReader, acknowledgement: SinkConfiguration.Acknowledgement?) -> IntegritySigner? {
        defer { reader.rejectUnknownKeys() }
        guard let key = reader.requiredSecret("signing_key") else { return nil }
        // An admin command that could not read the key here does not need it.
        guard key != ConfigReader.unavailableSecret else { return IntegritySigner(base64: Data(count: 32).base64EncodedString()) }
        guard let signer = IntegritySigner(base64: key) else {
            reader.fail("signing_key", "must be a base64 Ed25519 signing key (32 bytes), as audit-forwarder keygen prints")
            return nil
        }
        if let acknowledgement, acknowledgement.maxInFlight > 1 {
            reader.fail(nil, "integrity needs ack_max_in_flight: 1 (each batch is chained onto the one before it once that is committed)")
        }
        return signer
    }

    private static func readRetry(_ reader: ConfigReader?) -> RetryPolicy {
        guard let reader else { return RetryPolicy() }
        defer { reader.rejectUnknownKeys() }
        var policy = RetryPolicy()
        policy.maxAttempts = reader.optionalInt("max_attempts", range: 1...1_000_000)
        policy.backoff = reader.choice("backoff", default: RetryPolicy.Backoff.exponential)
        policy.initialBackoff = reader.duration("initial_backoff", default: policy.initialBackoff, minimum: .milliseconds(1))
        policy.maxBackoff = reader.duration("max_backoff", default: policy.maxBackoff, minimum: .milliseconds(1))
        if policy.maxBackoff < policy.initialBackoff {
            reader.fail("max_backoff", "must not be shorter than initial_backoff")
        }
        return policy
    }

    private static func readFilters(_ reader: ConfigReader?) -> EventFilter {
        guard let reader else { return EventFilter() }
        defer { reader.rejectUnknownKeys() }
        var filter = EventFilter()
        filter.sources = reader.stringList("sources").map(Set.init)
        filter.eventTypes = checked(reader, "event_types", AuditEvent.EventType.allCases.map(\.rawValue))
        filter.actions = reader.stringList("actions")
        filter.outcomes = checked(reader, "outcomes", AuditEvent.Outcome.allCases.map(\.rawValue))
        filter.severities = checked(reader, "severity", AuditEvent.Severity.allCases.map(\.rawValue))
        return filter
    }

    private static func checked(_ reader: ConfigReader, _ key: String, _ allowed: [String]) -> Set<String>? {
        guard let values = reader.stringList(key) else { return nil }
        for (index, value) in values.enumerated() where !allowed.contains(value) {
            reader.fail("\(key)[\(index)]", "\"\(value)\" is not one of \(allowed.joined(separator: ", "))")
        }
        return Set(values)
    }
}
