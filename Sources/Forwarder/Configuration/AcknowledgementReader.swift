import Foundation

/// Splunk HEC's indexer-acknowledgement keys, read beside the sink's own (`SplunkHECSink.read`):
/// how the engine waits for acknowledgements is the engine's, not the connector's.
enum AcknowledgementReader {
    static func read(_ reader: ConfigReader, enabled: Bool) -> SinkConfiguration.Acknowledgement? {
        let interval = reader.duration("ack_query_interval", default: .seconds(10), minimum: .milliseconds(10))
        let timeout = reader.duration("ack_timeout", default: .seconds(300), minimum: .milliseconds(100))
        let inFlight = reader.int("ack_max_in_flight", default: 1, range: 1...AcknowledgementWindow.maxBatches)
        return enabled ? .init(queryInterval: interval, timeout: timeout, maxInFlight: inFlight) : nil
    }
}
