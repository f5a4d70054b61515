import Connectors
import Foundation
import NIOSSL

/// Reads one `sources[i]` entry: the common keys, then the keys of its type.
enum SourceConfigurationReader {
    static var supportedTypes: [String] { ConnectorRegistry.sources.map(\.type) }

    static func read(_ reader: ConfigReader) -> SourceConfiguration? {
        defer { reader.rejectUnknownKeys() }
        let name = reader.requiredString("name") ?? ""
        if !name.isEmpty, !ConfigurationLoader.validName(name) {
            reader.fail("name", "use letters, digits, '_', '-' or '.' (at most 64)")
        }
        guard let type = reader.requiredString("type") else { return nil }
        let pollInterval = reader.duration("poll_interval", default: .seconds(300), minimum: .seconds(1))
        let lookback = reader.duration("lookback", default: .seconds(86400))
        let overlap = reader.duration("overlap", default: .seconds(120))
        let settleDelay = reader.duration("settle_delay", default: .zero)
        let timeout = reader.duration("timeout", default: .seconds(30), minimum: .milliseconds(100))
        let concurrency = reader.int("concurrency", default: 2, range: 1...8)
        let maxPageItems = reader.int("max_page_items", default: SourceConfiguration.defaultMaxPageItems, range: 1...1_000_000)
        let maxPageBytes = reader.int("max_page_bytes", default: SourceConfiguration.defaultMaxPageBytes, range: 1024...(256 << 20))
        let tls = TLSOptionsReader.read(reader.mapping("tls"), allowClientCertificate: false)
        var rateLimit: RateLimiter.Limit?
        if let limit = reader.mapping("rate_limit") {
            rateLimit = RateLimiter.Limit(
                requests: limit.int("requests", default: 60, range: 1...100_000),
                per: limit.duration("per", default: .seconds(60), minimum: .milliseconds(1)))
            limit.rejectUnknownKeys()
        }

        let connector: (any SourceConnector)?
        if let read = ConnectorRegistry.source(type) {
            connector = read(reader, name)
        } else {
            reader.fail("type", "unsupported source type \"\(type)\" (supported: \(supportedTypes.joined(separator: ", ")))")
            reader.acceptRemainingKeys()
            connector = nil
        }
        let proxy = reader.proxy(for: connector?.origin)
        guard let connector, !name.isEmpty else { return nil }
        return SourceConfiguration(
            name: name, type: type, pollInterval: pollInterval, lookback: lookback, overlap: overlap,
            settleDelay: settleDelay, timeout: timeout, tls: tls, rateLimit: rateLimit, concurrency: concurrency, maxPageItems: maxPageItems,
            maxPageBytes: maxPageBytes, connector: connector, proxy: proxy)
    }
}

enum TLSOptionsReader {
    static func read(_ reader: ConfigReader?, allowClientCertificate: Bool) -> TLSOptions {
        guard let reader else { return .standard }
        defer { reader.rejectUnknownKeys() }
        var options = TLSOptions()
        options.caFile = reader.string("ca_file")
        if allowClientCertificate {
            options.certFile = reader.string("cert_file")
            options.keyFile = reader.string("key_file")
            if (options.certFile == nil) != (options.keyFile == nil) {
                reader.fail("cert_file", "cert_file and key_file go together")
            }
        }
        options.insecureSkipVerify = reader.bool("insecure_skip_verify", default: false)
        options.verifyHostname = reader.bool("verify_hostname", default: true)
        options.minimumVersion = reader.choice("min_version", default: TLSOptions.MinimumVersion.tls12)
        // Read the PEM files now, so a bad one is a configuration error naming its key, not a
        // failure at the first connection.
        let checks: [(key: String, file: String?, load: (String) throws -> Void)] = [
            ("ca_file", options.caFile, { _ = try NIOSSLCertificate.fromPEMFile($0) }),
            ("cert_file", options.certFile, { _ = try NIOSSLCertificate.fromPEMFile($0) }),
            ("key_file", options.keyFile, { _ = try NIOSSLPrivateKey(file: $0, format: .pem) }),
        ]
        for check in checks {
            guard let file = check.file else { continue }
            guard FileManager.default.isReadableFile(atPath: file) else {
                reader.fail(check.key, "cannot read \(file)")
                continue
            }
            do {
                try check.load(file)
            } catch {
                reader.fail(check.key, "not a usable PEM file (\(file)): \(error)")
            }
        }
        return options
    }
}
