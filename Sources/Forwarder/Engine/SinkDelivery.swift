import Connectors
import Foundation

/// Sends one batch to a sink and says what happened. Transport errors are thrown (and retried).
protocol SinkDelivery: Sendable {
    func deliver(_ batch: [EncodedEvent]) async throws -> SinkOutcome
    /// Why this event must not be sent at all (e.g. a Datadog entry over 1 MB, which Datadog would
    /// truncate): it goes to the dead letters instead. nil: send it.
    func preflight(_ event: EncodedEvent) -> String?
}

extension SinkDelivery {
    func preflight(_ event: EncodedEvent) -> String? { nil }
}

struct HTTPSinkDelivery: SinkDelivery {
    let connector: any HTTPSinkConnector
    let client: WireClient
    let timeout: Duration
    /// Splunk indexer acknowledgement, when the sink asks for it.
    var acknowledgement: SinkConfiguration.Acknowledgement?
    var compression: SinkConfiguration.Compression = .none
    var sleeper: any Sleeper = ShutdownAwareSleeper()

    func deliver(_ batch: [EncodedEvent]) async throws -> SinkOutcome {
        var request = try connector.makeRequest(batch: batch, now: Date())
        if compression == .gzip, let body = request.body {
            request.body = try Gzip.compress(body)
            request.headers.append(.init("Content-Encoding", "gzip"))
        }
        let response = try await client.send(request, timeout: timeout)
        let outcome = connector.classify(response, batch: batch)
        if case .delivered = outcome, let acknowledgement, let splunk = connector as? SplunkHECSink {
            guard let ackID = splunk.ackID(in: response) else {
                return .retry(after: nil, reason: "Splunk accepted the batch without an ackId; is acknowledgement enabled on the token?")
            }
            return try await awaitAcknowledgement(ackID, splunk: splunk, settings: acknowledgement)
        }
        return outcome
    }

    /// The batch counts as delivered only once Splunk says it is indexed; an ackId still false
    /// after `ack_timeout` means the batch is sent again (Splunk may have lost it).
    private func awaitAcknowledgement(_ ackID: Int, splunk: SplunkHECSink, settings: SinkConfiguration.Acknowledgement) async throws -> SinkOutcome {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: settings.timeout)
        while clock.now < deadline {
            try await sleeper.sleep(for: settings.queryInterval)
            let response = try await client.send(splunk.ackRequest(ackIDs: [ackID]), timeout: timeout)
            if let acks = SplunkHECSink.parseAcks(response), acks[ackID] == true { return .delivered }
        }
        return .retry(after: nil, reason: "Splunk ackId \(ackID) not acknowledged within ack_timeout \(DurationText.format(settings.timeout)); sending the batch again")
    }

    func preflight(_ event: EncodedEvent) -> String? {
        (connector as? DatadogSink)?.oversizedReason(event)
    }
}

struct FileSinkDelivery: SinkDelivery {
    let sink: FileSink

    func deliver(_ batch: [EncodedEvent]) async throws -> SinkOutcome {
        try sink.write(batch)
        return .delivered
    }
}
