import Connectors
import Foundation

/// Sends one batch to a sink and says what happened. Transport errors are thrown (and retried).
protocol SinkDelivery: Sendable {
    func deliver(_ batch: [EncodedEvent]) async throws -> SinkOutcome
    /// Why this event must not be sent at all (e.g. a Datadog entry over 1 MB, which Datadog would
    /// truncate): it goes to the dead letters instead. nil: send it.
    func preflight(_ event: EncodedEvent) -> String?
    /// Set when the sink acknowledges asynchronously (Splunk with `acknowledgements: true`).
    var acknowledgingDelivery: (any AcknowledgingDelivery)? { get }
}

extension SinkDelivery {
    func preflight(_ event: EncodedEvent) -> String? { nil }
    var acknowledgingDelivery: (any AcknowledgingDelivery)? { nil }
}

/// A sink whose acceptance is not yet delivery (Splunk HEC with indexer acknowledgement): an
/// accepted batch comes back with an ackId, and counts as delivered only once a later query
/// says it is indexed. `SinkWorker` keeps several such batches in flight and asks for all of
/// their ackIds in one query.
protocol AcknowledgingDelivery: SinkDelivery {
    var acknowledgement: SinkConfiguration.Acknowledgement? { get }
    /// Sends without waiting for the indexer; `.delivered` comes with the ackId to ask about.
    func submit(_ batch: [EncodedEvent]) async throws -> (outcome: SinkOutcome, ackID: Int?)
    /// Which of `ackIDs` are indexed now. Each `true` is reported once.
    func indexed(_ ackIDs: [Int]) async throws -> Set<Int>
}

struct HTTPSinkDelivery: AcknowledgingDelivery {
    let connector: any HTTPSinkConnector
    let client: WireClient
    let timeout: Duration
    /// Splunk indexer acknowledgement, when the sink asks for it.
    var acknowledgement: SinkConfiguration.Acknowledgement?
    var compression: SinkConfiguration.Compression = .none
    /// Its calendar time stamps the requests (a webhook signature's time, a Datadog entry's).
    var clock: EngineClock = .system

    func deliver(_ batch: [EncodedEvent]) async throws -> SinkOutcome {
        let response = try await client.send(try request(for: batch), timeout: timeout)
        return connector.classify(response, batch: batch)
    }

    func submit(_ batch: [EncodedEvent]) async throws -> (outcome: SinkOutcome, ackID: Int?) {
        let response = try await client.send(try request(for: batch), timeout: timeout)
        let outcome = connector.classify(response, batch: batch)
        guard case .delivered = outcome, let acknowledging = connector.acknowledging else { return (outcome, nil) }
        // No ackId: the token has acknowledgement off (or a proxy drops it). Splunk accepted the
        // batch and will never report on it; sending it again would index it again, forever. It
        // counts as delivered, and the worker says why (`SinkWorker.noteMissingAck`).
        return (.delivered, acknowledging.ackID(in: response))
    }

    func indexed(_ ackIDs: [Int]) async throws -> Set<Int> {
        guard let acknowledging = connector.acknowledging else { return [] }
        let response = try await client.send(acknowledging.ackRequest(ackIDs: ackIDs), timeout: timeout)
        guard let acks = acknowledging.indexedAcks(in: response) else {
            throw AcknowledgementQueryError(status: response.status, excerpt: MalformedPayload.excerpt(of: response.body))
        }
        return Set(acks.filter(\.value).keys)
    }

    private func request(for batch: [EncodedEvent]) throws -> WireRequest {
        var request = try connector.makeRequest(batch: batch, now: clock.wallNow)
        if let foreign = ForeignOriginError(connector: connector.name, request: request.url, configured: connector.origin) { throw foreign }
        if compression == .gzip, let body = request.body {
            request.body = try Gzip.compress(body)
            request.headers.append(.init("Content-Encoding", "gzip"))
        }
        return request
    }

    func preflight(_ event: EncodedEvent) -> String? {
        connector.preflight(event)
    }

    var acknowledgingDelivery: (any AcknowledgingDelivery)? {
        acknowledgement != nil && connector.acknowledging != nil ? self : nil
    }
}

/// An ack query that got no usable answer; the ackIds are asked again at the next interval.
struct AcknowledgementQueryError: Error, CustomStringConvertible {
    var status: Int
    var excerpt: String
    var description: String { "Splunk ack query answered HTTP \(status): \(excerpt)" }
}

struct FileSinkDelivery: SinkDelivery {
    let sink: FileSink

    func deliver(_ batch: [EncodedEvent]) async throws -> SinkOutcome {
        try sink.write(batch)
        return .delivered
    }
}
