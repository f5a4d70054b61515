import Foundation

/// Posts batches to the Datadog Logs intake: a JSON array of entries whose `message` is the
/// encoded event as a JSON string, our event id beside it as the attribute `id`.
public struct DatadogSink: HTTPSinkConnector {
    public static let type = "datadog"
    public static let logsPath = "/api/v2/logs"
    /// Intake limits: entries per array, uncompressed bytes per request, bytes per entry (a
    /// larger entry is truncated, so the engine dead-letters it instead: see `oversizedReason`).
    public static let maxEntries = 1000
    public static let maxPayloadBytes = 5_000_000
    public static let maxEntryBytes = 1_000_000

    public let configuration: DatadogConfiguration
    public let intakeURL: URL
    public var name: String { configuration.name }
    public var origin: URL { intakeURL }

    /// Throws when `site` is not a Datadog site and no `endpoint` is set.
    public init(configuration: DatadogConfiguration) throws {
        guard let url = configuration.intakeURL else { throw DatadogSinkError.unknownSite(configuration.site ?? "") }
        self.configuration = configuration
        self.intakeURL = url
    }

    /// Severity → Datadog `status` (its syslog-like levels).
    static let statuses: [String: String] = [
        "info": "info", "low": "notice", "medium": "warning", "high": "error", "critical": "critical",
    ]

    public func makeRequest(batch: [EncodedEvent], now: Date) throws -> WireRequest {
        let body = JSONWriter.write(.array(batch.map { entry($0, now: now) }))
        return WireRequest(
            method: "POST", url: intakeURL,
            headers: [HTTPAuth.header(name: "DD-API-KEY", value: configuration.apiKey).header, .init("Content-Type", "application/json")],
            body: body)
    }

    /// An empty array: the intake checks the API key first, and there is nothing to index.
    public func probeRequest() -> WireRequest? {
        WireRequest(
            method: "POST", url: intakeURL,
            headers: [HTTPAuth.header(name: "DD-API-KEY", value: configuration.apiKey).header, .init("Content-Type", "application/json")],
            body: Data("[]".utf8))
    }

    /// A 400 for the empty array, in the intake's own error shape, still means the key was
    /// accepted; 401/403 mean it was not. A 400 in any other shape is not the intake speaking
    /// (a proxy, a wrong endpoint) and proves nothing.
    public func classifyProbe(_ response: WireResponse) -> SinkOutcome? {
        guard response.status == 400,
            let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            object["errors"] is [Any]
        else { return nil }
        return .delivered
    }

    /// One log entry. `event_time` carries the event's time under a name Datadog does not read
    /// as the log date; `timestamp` (epoch ms) is added only while the event is fresh enough to
    /// be dated by it (see DatadogReservedDates).
    func entry(_ event: EncodedEvent, now: Date) -> JSONValue {
        var fields: [String: JSONValue] = [
            "ddsource": .string(configuration.source),
            "message": .string(String(decoding: DatadogReservedDates.withoutStaleDates(event.body, now: now), as: UTF8.self)),
            "id": .string(event.id),
            "event_time": .string(RFC3339.format(event.time)),
            "status": .string(event.severity.flatMap { Self.statuses[$0] } ?? "info"),
        ]
        if !configuration.tags.isEmpty { fields["ddtags"] = .string(configuration.tags.joined(separator: ",")) }
        fields["hostname"] = configuration.hostname.map(JSONValue.string)
        fields["service"] = configuration.service.map(JSONValue.string)
        if DatadogReservedDates.isFresh(event.time, now: now) {
            fields["timestamp"] = .integer(EncodingSupport.epochMilliseconds(event.time))
        }
        return .object(fields)
    }

    /// Why `event` cannot go to Datadog whole (its entry would be over 1 MB and truncated), or
    /// nil. Measured without building the entry: the body as an escaped JSON string plus the
    /// entry's other attributes.
    public func preflight(_ event: EncodedEvent) -> String? { oversizedReason(event) }

    public func oversizedReason(_ event: EncodedEvent) -> String? {
        let size = Self.escapedLength(event.body) + attributesAllowance
        guard size > Self.maxEntryBytes else { return nil }
        return "Datadog entry would be about \(size) bytes; the intake truncates entries over \(Self.maxEntryBytes) bytes"
    }

    /// Everything in an entry but the message: the configured strings plus room for the id,
    /// times, status and punctuation.
    private var attributesAllowance: Int {
        configuration.source.utf8.count + configuration.tags.reduce(0) { $0 + $1.utf8.count + 1 }
            + (configuration.hostname?.utf8.count ?? 0) + (configuration.service?.utf8.count ?? 0) + 512
    }

    /// The length of `bytes` written as a JSON string by JSONWriter.
    static func escapedLength(_ bytes: Data) -> Int {
        var length = 2
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x09, 0x0A, 0x0C, 0x0D: length += 2
            case 0..<0x20: length += 6
            default: length += 1
            }
        }
        return length
    }
}

public enum DatadogSinkError: Error, CustomStringConvertible {
    case unknownSite(String)

    public var description: String {
        switch self {
        case .unknownSite(let site):
            "site: \"\(site)\" is not a Datadog site (one of \(DatadogConfiguration.sites.joined(separator: ", "))); or set endpoint"
        }
    }
}
