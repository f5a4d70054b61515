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

    static func readDeepIntShield(_ reader: ConfigReader, name: String) -> DeepIntShieldSource? {
        let baseURL = reader.url("base_url", required: true)
        let pageSize = reader.int(
            "page_size", default: DeepIntShieldConfiguration.maximumPageSize, range: 1...DeepIntShieldConfiguration.maximumPageSize)
        let auth = readAuth(reader)
        var filters = DeepIntShieldConfiguration.Filters()
        if let f = reader.mapping("filters") {
            filters.eventTypes = f.stringList("event_types") ?? []
            filters.actions = f.stringList("actions") ?? []
            filters.resourceTypes = f.stringList("resource_types") ?? []
            filters.severity = f.stringList("severity") ?? []
            filters.status = f.stringList("status") ?? []
            filters.userIDs = f.stringList("user_ids") ?? []
            filters.emails = f.stringList("emails") ?? []
            filters.ipAddresses = f.stringList("ip_addresses") ?? []
            filters.query = f.string("query")
            f.rejectUnknownKeys()
        }
        guard let baseURL, let auth else { return nil }
        return DeepIntShieldSource(
            configuration: .init(name: name, baseURL: baseURL, auth: auth, pageSize: pageSize, filters: filters))
    }

    static func readLogfire(_ reader: ConfigReader, name: String) -> LogfireSource? {
        let baseURL = reader.baseURL(regions: ["us", "eu"], LogfireConfiguration.regionURL)
        let token = reader.requiredSecret("token")
        let fetchDetails = reader.bool("fetch_details", default: false)
        let action = reader.string("action")
        if let action, !["LOGIN", "LOGOUT", "INSERT", "UPDATE", "DELETE"].contains(action) {
            reader.fail("action", "must be one of LOGIN, LOGOUT, INSERT, UPDATE, DELETE")
        }
        guard let token else { return nil }
        return LogfireSource(
            configuration: .init(
                name: name, baseURL: baseURL ?? LogfireConfiguration.regionURL("us")!, token: Secret(token),
                fetchDetails: fetchDetails, action: action))
    }

    static func readDeploys(_ reader: ConfigReader, name: String) -> DeploysSource? {
        let baseURL = reader.url("base_url", required: false) ?? DeploysConfiguration.defaultBaseURL
        let project = reader.requiredString("project")
        let pageSize = reader.int("page_size", default: DeploysConfiguration.maximumPageSize, range: 1...DeploysConfiguration.maximumPageSize)
        let auth = readAuth(reader)
        let filters = reader.mapping("filters")
        let resourceType = filters?.string("resource_type")
        let actor = filters?.string("actor")
        let channel = filters?.string("channel")
        let outcome = filters?.string("outcome")
        filters?.rejectUnknownKeys()
        guard let project, let auth else { return nil }
        return DeploysSource(
            configuration: DeploysConfiguration(
                name: name, baseURL: baseURL, project: project, auth: auth, pageSize: pageSize,
                resourceType: resourceType, actor: actor, channel: channel, outcome: outcome))
    }

    /// `token` (Bearer), or `username` + `password` (Basic, e.g. a service account's email and key).
    private static func readAuth(_ reader: ConfigReader) -> HTTPAuth? {
        let token = reader.secret("token")
        let username = reader.string("username")
        let password = reader.secret("password")
        switch (token, username, password) {
        case (let token?, nil, nil) where !token.isEmpty:
            return .bearer(Secret(token))
        case (nil, let user?, let password?):
            return .basic(user: user, password: Secret(password))
        case (nil, nil, nil):
            // A present key whose ${VAR} is unset was already reported.
            if !reader.has("token") && !reader.has("token_file") && !reader.has("username") {
                reader.fail("token", "is required (or token_file, or username and password)")
            }
        default:
            reader.fail("token", "give either token, or username and password, not both; and not empty")
        }
        return nil
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
