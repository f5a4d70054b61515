import Connectors
import Foundation

/// Reads the type-specific keys of the SIEM sinks (DESIGN.md §5: the names DeepIntShield's own SIEM integration uses).
enum SIEMSinkReaders {
    static func splunk(_ reader: ConfigReader, name: String) -> SplunkHECSink? {
        // Every key is read before any is judged: a missing endpoint or token is one error, not
        // also "unknown key" for each optional key after it.
        let endpoint = reader.url("hec_endpoint", required: true)
        let token = reader.requiredSecret("hec_token")
        let (sourceType, index, host) = (reader.string("source_type"), reader.string("index"), reader.string("host"))
        let (source, channel) = (reader.string("source") ?? "audit-forwarder", reader.string("channel"))
        let acknowledgements = reader.bool("acknowledgements", default: false)
        guard let endpoint, let token else { return nil }
        let configuration = SplunkHECConfiguration(
            name: name, endpoint: endpoint, token: Secret(token), sourceType: sourceType, index: index, host: host, source: source,
            acknowledgements: acknowledgements, channel: channel)
        do {
            return try SplunkHECSink(configuration: configuration)
        } catch {
            reader.fail(nil, "\(error)")
            return nil
        }
    }

    static func acknowledgement(_ reader: ConfigReader, enabled: Bool) -> SinkConfiguration.Acknowledgement? {
        let interval = reader.duration("ack_query_interval", default: .seconds(10), minimum: .milliseconds(10))
        let timeout = reader.duration("ack_timeout", default: .seconds(300), minimum: .milliseconds(100))
        let inFlight = reader.int("ack_max_in_flight", default: 1, range: 1...AcknowledgementWindow.maxBatches)
        return enabled ? .init(queryInterval: interval, timeout: timeout, maxInFlight: inFlight) : nil
    }

    static func datadog(_ reader: ConfigReader, name: String) -> DatadogSink? {
        let apiKey = reader.requiredSecret("api_key")
        let site = reader.string("site")
        let endpoint = reader.url("endpoint", required: false)
        if site != nil, endpoint != nil { reader.fail("endpoint", "give site or endpoint, not both") }
        if let site, DatadogConfiguration.intakeURL(site: site) == nil {
            reader.fail("site", "unknown Datadog site \"\(site)\" (known: \(DatadogConfiguration.sites.joined(separator: ", ")))")
        }
        let (service, source, hostname) = (reader.string("service"), reader.string("source") ?? "audit-forwarder", reader.string("hostname"))
        let tags = reader.stringList("tags") ?? []
        guard let apiKey else { return nil }
        let configuration = DatadogConfiguration(
            name: name, site: site, endpoint: endpoint, apiKey: Secret(apiKey), service: service, source: source, tags: tags,
            hostname: hostname)
        return try? DatadogSink(configuration: configuration)
    }

    static func elastic(_ reader: ConfigReader, name: String) -> ElasticsearchSink? {
        let endpoint = reader.url("endpoint", required: true)
        let index = reader.requiredString("index")
        var auth: ElasticsearchConfiguration.Auth?
        let apiKey = reader.secret("api_key")
        let username = reader.string("username")
        let password = reader.secret("password")
        switch (apiKey, username, password) {
        case (let key?, nil, nil): auth = .apiKey(Secret(key))
        case (nil, let user?, let password?): auth = .basic(user: user, password: Secret(password))
        case (nil, nil, nil): auth = nil
        default: reader.fail("api_key", "give api_key, or username and password, not both")
        }
        let pipeline = reader.string("pipeline")
        guard let endpoint, let index else { return nil }
        do {
            return try ElasticsearchSink(
                configuration: .init(name: name, endpoint: endpoint, auth: auth, index: index, pipeline: pipeline))
        } catch {
            reader.fail("index", "\(error)")
            return nil
        }
    }
}
