import Connectors
import Foundation

/// Sends one batch to a sink and says what happened. Transport errors are thrown (and retried).
protocol SinkDelivery: Sendable {
    func deliver(_ batch: [EncodedEvent]) async throws -> SinkOutcome
}

struct HTTPSinkDelivery: SinkDelivery {
    let connector: any HTTPSinkConnector
    let client: WireClient
    let timeout: Duration

    func deliver(_ batch: [EncodedEvent]) async throws -> SinkOutcome {
        let request = try connector.makeRequest(batch: batch, now: Date())
        let response = try await client.send(request, timeout: timeout)
        return connector.classify(response, batch: batch)
    }
}

struct FileSinkDelivery: SinkDelivery {
    let sink: FileSink

    func deliver(_ batch: [EncodedEvent]) async throws -> SinkOutcome {
        try sink.write(batch)
        return .delivered
    }
}
