import Checkpoint
import Connectors
import Foundation
import Logging

/// `dry-run`: fetch from the current cursor (or `--from`), normalize, encode for each sink, and
/// show the exact requests the sinks would receive. Nothing is sent to a sink; nothing is written
/// to the state. Credentials in headers show as `<redacted>`.
public enum DryRunMode {
    public struct Options: Sendable {
        public var sources: [String] = []
        public var sinks: [String] = []
        /// Events per source. Default: 20.
        public var limit = 20
        public var from: Date?
        public var json = false

        public init() {}
    }

    public static func run(configuration: ForwarderConfiguration, options: Options, logger: Logger, print emit: (String) -> Void) async throws {
        let sources = try select(configuration.sources, named: options.sources, kind: "source", name: \.name)
        let sinks = try select(configuration.sinks, named: options.sinks, kind: "sink", name: \.name)
        let cursors =
            if let database = configuration.state.database {
                try PostgresStateStore.peekCursors(location: database)
            } else {
                try StateStore.peekCursors(path: configuration.state.path)
            }
        var events: [NormalizedEntry] = []
        for source in sources {
            let client = try WireClient(tls: source.tls, proxy: source.proxy)
            defer { Task { await client.shutdown() } }
            let walker = PageWalker(
                configuration: source, client: client, clock: .system,
                rateLimiter: RateLimiter(limit: source.rateLimit), logger: logger)
            let now = EngineClock.system.wallNow
            let window =
                options.from.map { PollWindow(start: $0, end: now.addingTimeInterval(-source.settleDelay.seconds)) }
                ?? walker.window(cursor: cursors[source.name].flatMap(RFC3339.parse), now: now)
            // Entries, not just events: each keeps the upstream's own text, written as `raw` as the spool would.
            var collected: [NormalizedEntry] = []
            try await walker.walk(window) { entries, _ in
                collected += entries.prefix(options.limit - collected.count)
                return collected.count < options.limit
            }
            if !options.json {
                emit("# source \(source.name): \(collected.count) event(s) from \(RFC3339.format(window.start)) to \(RFC3339.format(window.end))")
                for entry in collected { emit(String(decoding: try SourcePoller.spoolEntry(entry).payload, as: UTF8.self)) }
            }
            events += collected
        }
        for sink in sinks {
            for request in try requests(for: sink, events: events) {
                emit(options.json ? request.json : request.text)
            }
        }
    }

    private static func select<T>(_ all: [T], named: [String], kind: String, name: KeyPath<T, String>) throws -> [T] {
        guard !named.isEmpty else { return all }
        for wanted in named where !all.contains(where: { $0[keyPath: name] == wanted }) {
            throw ConfigurationError(path: "", "no \(kind) named \"\(wanted)\" in the configuration")
        }
        return all.filter { named.contains($0[keyPath: name]) }
    }

    /// What a sink would be sent, shown either way.
    struct Preview {
        var sink: String
        var method: String
        var target: String
        var headers: [(String, String)]
        var body: Data

        var text: String {
            var lines = ["# sink \(sink)", "\(method) \(target)"]
            lines += headers.map { "\($0.0): \($0.1)" }
            lines.append("")
            lines.append(String(decoding: body, as: UTF8.self))
            return lines.joined(separator: "\n")
        }

        var json: String {
            let object: [String: Any] = [
                "sink": sink, "method": method, "url": target,
                "headers": Dictionary(headers.map { ($0.0, $0.1) }, uniquingKeysWith: { $1 }),
                "body": String(decoding: body, as: UTF8.self),
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// The requests the sink would get for `events`: cut into batches as the spool cuts them
    /// (`BatchCut` over the spooled payloads), then filtered and encoded as the sink worker does,
    /// events its preflight refuses left out (they would be dead-lettered).
    static func requests(for sink: SinkConfiguration, events: [NormalizedEntry]) throws -> [Preview] {
        let encoder = EventEncoder(encoding: sink.encoding, redact: sink.redact)
        let records = try events.map { normalized -> SpoolRecord in
            let entry = try SourcePoller.spoolEntry(normalized)
            return SpoolRecord(
                seq: 0, source: normalized.event.source.name, eventID: entry.eventID, eventTime: entry.eventTime, eventType: entry.eventType,
                severity: entry.severity, action: entry.action, outcome: entry.outcome, payload: entry.payload, spooledAt: Date())
        }
        var previews: [Preview] = []
        var index = 0
        while index < records.count {
            var cut = BatchCut(limit: sink.batchSize, maxBytes: sink.maxBatchBytes)
            var end = index
            while end < records.count, cut.admits(bytes: records[end].payload.count) { end += 1 }
            let batch = try records[index..<end].filter(sink.filters.matches).map(encoder.encode).filter { sink.target.preflight($0) == nil }
            index = end
            if !batch.isEmpty { previews.append(try sink.target.preview(batch, sink: sink)) }
        }
        return previews
    }
}
