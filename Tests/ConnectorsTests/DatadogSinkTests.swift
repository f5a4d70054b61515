import Foundation
import Testing

@testable import Connectors

@Suite struct DatadogSinkTests {
    let configuration = DatadogConfiguration(
        name: "datadog", apiKey: Secret("dd-key-123"), service: "deepintshield", tags: ["env:production", "team:security"],
        hostname: "fwd-1")
    let now = Date(timeIntervalSince1970: 1_777_700_000)

    func sink(_ configuration: DatadogConfiguration? = nil) throws -> DatadogSink {
        try DatadogSink(configuration: configuration ?? self.configuration)
    }

    func entries(_ request: WireRequest) throws -> [[String: JSONValue]] {
        try #require(try JSONValue.parse(request.body!).arrayValue).map { try #require($0.objectValue) }
    }

    @Test(arguments: [
        ("datadoghq.com", "http-intake.logs.datadoghq.com"), ("us3.datadoghq.com", "http-intake.logs.us3.datadoghq.com"),
        ("us5.datadoghq.com", "http-intake.logs.us5.datadoghq.com"), ("datadoghq.eu", "http-intake.logs.datadoghq.eu"),
        ("ap1.datadoghq.com", "http-intake.logs.ap1.datadoghq.com"), ("ap2.datadoghq.com", "http-intake.logs.ap2.datadoghq.com"),
        ("ddog-gov.com", "http-intake.logs.ddog-gov.com"), ("us2.ddog-gov.com", "http-intake.logs.us2.ddog-gov.com"),
        ("uk1.datadoghq.com", "http-intake.logs.uk1.datadoghq.com"),
    ])
    func everySiteHasItsIntake(site: String, host: String) {
        #expect(DatadogConfiguration.intakeURL(site: site)?.absoluteString == "https://\(host)/api/v2/logs")
        #expect(DatadogConfiguration.sites.contains(site))
    }

    @Test func siteSpellingsDefaultsAndOverrides() throws {
        #expect(DatadogConfiguration.intakeURL(site: "https://app.datadoghq.eu/")?.host == "http-intake.logs.datadoghq.eu")
        #expect(DatadogConfiguration.intakeURL(site: " US3.datadoghq.com ")?.host == "http-intake.logs.us3.datadoghq.com")
        #expect(DatadogConfiguration.intakeURL(site: "datadoghq.co") == nil)
        #expect(try sink().intakeURL.absoluteString == "https://http-intake.logs.datadoghq.com/api/v2/logs")
        let local = DatadogConfiguration(name: "d", endpoint: URL(string: "http://127.0.0.1:8282")!, apiKey: Secret("k"))
        #expect(try sink(local).intakeURL.absoluteString == "http://127.0.0.1:8282/api/v2/logs")
        let full = DatadogConfiguration(name: "d", endpoint: URL(string: "http://127.0.0.1:8282/api/v2/logs")!, apiKey: Secret("k"))
        #expect(try sink(full).intakeURL.absoluteString == "http://127.0.0.1:8282/api/v2/logs")
        #expect(throws: DatadogSinkError.self) { try DatadogSink(configuration: .init(name: "d", site: "datadog.com", apiKey: Secret("k"))) }
    }

    @Test func postsAnArrayOfEntriesWithTheEventAsAJSONString() throws {
        let event = EncodedEvent(
            id: "id-1", time: now.addingTimeInterval(-60), body: Data(#"{"action":"login","note":"a \"quote\""}"#.utf8),
            source: "shield", eventType: "authentication", severity: "high")
        let request = try sink().makeRequest(batch: [event, event], now: now)
        #expect(request.method == "POST")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("DD-API-KEY") == "dd-key-123")
        #expect(request.headers.first { $0.name == "DD-API-KEY" }?.isSecret == true)
        let entries = try entries(request)
        #expect(entries.count == 2)
        #expect(
            entries[0] == [
                "ddsource": .string("audit-forwarder"), "ddtags": .string("env:production,team:security"), "hostname": .string("fwd-1"),
                "service": .string("deepintshield"), "status": .string("error"), "message": .string(String(decoding: event.body, as: UTF8.self)),
                "id": .string("id-1"), "event_time": .string(RFC3339.format(event.time)),
                "timestamp": .integer(Int64((event.time.timeIntervalSince1970 * 1000).rounded())),
            ])
    }

    @Test(arguments: [("info", "info"), ("low", "notice"), ("medium", "warning"), ("high", "error"), ("critical", "critical"), (nil, "info")])
    func severityBecomesStatus(severity: String?, status: String) throws {
        let event = EncodedEvent(id: "a", time: now, body: Data("{}".utf8), severity: severity)
        #expect(try entries(sink().makeRequest(batch: [event], now: now))[0]["status"] == .string(status))
    }

    @Test func optionalAttributesAreLeftOut() throws {
        let bare = try sink(.init(name: "d", apiKey: Secret("k")))
        let entry = try entries(bare.makeRequest(batch: [EncodedEvent(id: "a", time: now, body: Data("{}".utf8))], now: now))[0]
        #expect(Set(entry.keys) == ["ddsource", "message", "id", "event_time", "status", "timestamp"])
    }

    /// What Datadog would date an entry by: every reserved attribute at the top level and at the
    /// top level of a JSON message, read its way (numbers are epoch ms).
    func reservedDates(_ entry: [String: JSONValue]) -> [Date] {
        var objects = [entry]
        if let message = entry["message"]?.stringValue, let inner = (try? JSONValue.parse(Data(message.utf8)))?.objectValue {
            objects.append(inner)
        }
        return objects.flatMap { object in DatadogReservedDates.attributes.compactMap { object[$0].flatMap(DatadogReservedDates.date) } }
    }

    @Test func aBackfilledECSEventCarriesNoReservedDateOlderThan18Hours() throws {
        let old = AuditEventSamples.event(time: now.addingTimeInterval(-3 * 86400))
        let event = EncodedEvent(id: old.id, time: old.time, body: ECSEncoding.encode(old), severity: "info")
        let entry = try entries(sink().makeRequest(batch: [event], now: now))[0]
        #expect(reservedDates(entry).allSatisfy { now.timeIntervalSince($0) < 18 * 3600 })
        #expect(entry["timestamp"] == nil)
        #expect(entry["event_time"] == .string(RFC3339.format(old.time)))
        let message = try JSONValue.parse(Data(try #require(entry["message"]?.stringValue).utf8))
        #expect(message["@timestamp"] == nil)
        #expect(message["event_time"] == .string(RFC3339.format(old.time)))
        #expect(message["event"]?["id"] == .string(old.id))
    }

    @Test func aFreshECSEventKeepsItsTimestamp() throws {
        let fresh = AuditEventSamples.event(time: now.addingTimeInterval(-3600))
        let event = EncodedEvent(id: fresh.id, time: fresh.time, body: ECSEncoding.encode(fresh))
        let entry = try entries(sink().makeRequest(batch: [event], now: now))[0]
        #expect(entry["message"] == .string(String(decoding: event.body, as: UTF8.self)))
        #expect(entry["timestamp"] == .integer(Int64(fresh.time.timeIntervalSince1970 * 1000)))
    }

    @Test func everyStaleReservedNameIsRenamedInEveryForm() throws {
        let old = now.addingTimeInterval(-19 * 3600)
        let millis = Int64(old.timeIntervalSince1970 * 1000)
        let values: [JSONValue] = [.integer(millis), .string(String(millis)), .string(RFC3339.format(old)), .double(Double(millis))]
        for name in DatadogReservedDates.attributes {
            for value in values {
                let body = JSONWriter.write(.object([name: value, "keep": .string("x"), "recent": .string(RFC3339.format(now))]))
                let event = EncodedEvent(id: "a", time: old, body: body)
                let entry = try entries(sink().makeRequest(batch: [event], now: now))[0]
                #expect(reservedDates(entry).isEmpty, "\(name) \(value)")
                let message = try JSONValue.parse(Data(entry["message"]!.stringValue!.utf8))
                #expect(message["event_time"] == value && message["keep"] == .string("x"))
            }
        }
        // Two stale dates, and a fresh one that stays.
        let body = JSONWriter.write(
            .object([
                "@timestamp": .string(RFC3339.format(old)), "date": .integer(millis), "timestamp": .string(RFC3339.format(now)),
            ]))
        let entry = try entries(sink().makeRequest(batch: [EncodedEvent(id: "a", time: now, body: body)], now: now))[0]
        let message = try JSONValue.parse(Data(entry["message"]!.stringValue!.utf8))
        #expect(Set(message.objectValue!.keys) == ["timestamp", "event_time", "event_date"])
        #expect(message["event_time"] == .string(RFC3339.format(old)))
    }

    @Test func aBodyWithoutReservedNamesIsSentAsIs() throws {
        let body = Data(#"{"time":"2020-01-01T00:00:00Z", "b":1}"#.utf8)
        #expect(DatadogReservedDates.withoutStaleDates(body, now: now) == body)
    }

    @Test func oversizedEntriesAreReportedNotSent() throws {
        let sink = try sink()
        #expect(sink.oversizedReason(EncodedEvent(id: "a", time: now, body: Data(#"{"a":1}"#.utf8))) == nil)
        // 600 kB of quotes doubles when escaped into the message string.
        let quotes = Data((#"{"a":""# + String(repeating: #"\""#, count: 300_000) + #""}"#).utf8)
        let reason = try #require(sink.oversizedReason(EncodedEvent(id: "a", time: now, body: quotes)))
        #expect(reason.contains("1000000"))
        let justUnder = Data(repeating: UInt8(ascii: "a"), count: 990_000)
        #expect(sink.oversizedReason(EncodedEvent(id: "a", time: now, body: justUnder)) == nil)
        #expect(DatadogSink.escapedLength(Data("a\"\n\u{1}".utf8)) == 2 + 1 + 2 + 2 + 6)
        #expect(DatadogSink.maxEntries == 1000 && DatadogSink.maxPayloadBytes == 5_000_000 && DatadogSink.maxEntryBytes == 1_000_000)
    }

    func error(_ status: Int, _ detail: String) -> WireResponse {
        WireResponse(
            status: status, headers: [("Retry-After", "4")],
            body: Data(#"{"errors":[{"status":"\#(status)","title":"T","detail":"\#(detail)"}]}"#.utf8))
    }

    @Test(arguments: [
        (202, "delivered"), (200, "delivered"), (408, "retry"), (429, "retry"), (500, "retry"), (502, "retry"), (503, "retry"),
        (413, "tooLarge"), (400, "rejected"), (401, "rejected"), (403, "rejected"),
    ])
    func classifiesEveryStatus(status: Int, expected: String) throws {
        let batch = [EncodedEvent(id: "a", time: now, body: Data("{}".utf8))]
        let response = status < 300 ? WireResponse(status: status, body: Data("{}".utf8)) : error(status, "detail \(status)")
        switch try sink().classify(response, batch: batch) {
        case .delivered: #expect(expected == "delivered")
        case .retry(let after, let reason):
            #expect(expected == "retry" && after == .seconds(4) && reason == "Datadog HTTP \(status): detail \(status)")
        case .tooLarge(let reason): #expect(expected == "tooLarge" && reason.contains("detail 413"))
        case .rejected(let code, let reason):
            #expect(expected == "rejected" && code == status && reason.hasPrefix("Datadog HTTP \(status): detail \(status)"))
            #expect(!reason.contains("dd-key-123"))
        case let other: Issue.record("unexpected \(other)")
        }
    }

    @Test func tooManyEntriesSplitsAndPlainErrorsAreRead() throws {
        let many = Array(repeating: EncodedEvent(id: "a", time: now, body: Data("{}".utf8)), count: 1001)
        guard case .tooLarge = try sink().classify(error(400, "too many"), batch: many) else {
            Issue.record("expected tooLarge")
            return
        }
        let plain = WireResponse(status: 403, body: Data(#"{"errors":["Forbidden"]}"#.utf8))
        #expect(try sink().classify(plain, batch: []) == .rejected(status: 403, reason: "Datadog HTTP 403: Forbidden (check api_key)"))
        let probe = try #require(try sink().probeRequest())
        #expect(probe.body == Data("[]".utf8) && probe.headers.contains { $0.name == "DD-API-KEY" && $0.isSecret })
        let intake400 = WireResponse(status: 400, body: Data(#"{"errors":[{"status":"400","title":"Bad Request","detail":"empty"}]}"#.utf8))
        #expect(try sink().classifyProbe(intake400) == .delivered)
        #expect(try sink().classifyProbe(WireResponse(status: 400, body: Data("<html>Bad Request</html>".utf8))) == nil)
        #expect(try sink().classifyProbe(plain) == nil)
    }
}
