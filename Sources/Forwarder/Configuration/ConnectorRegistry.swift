import Connectors
import Foundation

/// Every connector type a configuration can name, each with the reader of its own keys and, for
/// sinks, its defaults. The configuration readers find connectors here and nowhere else: adding
/// one is its folder under `Sources/Connectors` (with its `<Connector>ConfigurationReader.swift`)
/// plus one line below.
enum ConnectorRegistry {
    typealias SourceReader = @Sendable (any ConfigurationKeys, _ name: String) -> (any SourceConnector)?

    static let sources: [(type: String, read: SourceReader)] = [
        (DeploysSource.type, DeploysSource.read),
        (DeepIntShieldSource.type, DeepIntShieldSource.read),
        (LogfireSource.type, LogfireSource.read),
        (OktaSource.type, OktaSource.read),
        (OnePasswordSource.type, OnePasswordSource.read),
        (GitHubSource.type, GitHubSource.read),
        (SlackSource.type, SlackSource.read),
        (HTTPJSONSource.type, HTTPJSONSource.read),
    ]

    static let sinks: [SinkType] = [
        SinkType(type: SplunkHECSink.type) { reader, name, _ in
            guard let sink = SplunkHECSink.read(reader, name: name) else { return nil }
            let acknowledgement = AcknowledgementReader.read(reader, enabled: sink.configuration.acknowledgements)
            return (HTTPSinkTarget(connector: sink), acknowledgement)
        },
        // Datadog takes at most 1,000 entries and 5 MB (uncompressed) per request.
        SinkType(
            type: DatadogSink.type,
            defaults: .init(maxBatchBytes: 4_500_000, batchSizeCeiling: DatadogSink.maxEntries, maxBatchBytesCeiling: DatadogSink.maxPayloadBytes)
        ) { reader, name, _ in DatadogSink.read(reader, name: name).map { (HTTPSinkTarget(connector: $0), nil) } },
        SinkType(type: ElasticsearchSink.type, defaults: .init(encoding: .ecs)) { reader, name, _ in
            ElasticsearchSink.read(reader, name: name).map { (HTTPSinkTarget(connector: $0), nil) }
        },
        SinkType(type: WebhookSink.type, defaults: .init(batchSize: 1, maxBatchBytes: 1 << 20)) { reader, name, batchSize in
            WebhookSink.read(reader, name: name, batchSize: batchSize).map { (HTTPSinkTarget(connector: $0), nil) }
        },
        SinkType(type: FileSink.type, defaults: .init(maxInFlight: 1, local: true)) { reader, name, _ in
            FileSink.read(reader, name: name).map { (FileSinkTarget(file: $0), nil) }
        },
    ]

    static func source(_ type: String) -> SourceReader? { sources.first { $0.type == type }?.read }
    static func sink(_ type: String) -> SinkType? { sinks.first { $0.type == type } }

    /// A kind of sink: its defaults, and the reader of its own keys.
    struct SinkType: Sendable {
        typealias Reader =
            @Sendable (ConfigReader, _ name: String, _ batchSize: Int) -> (
                target: any SinkTarget, acknowledgement: SinkConfiguration.Acknowledgement?
            )?

        let type: String
        var defaults = Defaults()
        let read: Reader

        init(type: String, defaults: Defaults = Defaults(), read: @escaping Reader) {
            self.type = type
            self.defaults = defaults
            self.read = read
        }

        struct Defaults: Sendable {
            var batchSize = 500
            var maxBatchBytes = 5 << 20
            var encoding = SinkConfiguration.Encoding.native
            var batchSizeCeiling = 10000
            var maxBatchBytesCeiling = 512 << 20
            /// `max_in_flight` when the key is absent; 1 also means the sink takes no more.
            var maxInFlight = SinkConfigurationReader.defaultMaxInFlight
            /// Writes on this machine: no proxy, no compression, no credentials.
            var local = false
        }
    }
}
