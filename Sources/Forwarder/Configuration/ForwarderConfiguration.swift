import Checkpoint
import Connectors
import Foundation
import Logging

/// The whole configuration document (DESIGN.md §5). Defaults are stated on each field and in config/.
public struct ForwarderConfiguration: Sendable {
    public var state: State
    /// Omitted: no telemetry endpoint.
    public var telemetry: Telemetry?
    public var log: Log
    public var sources: [SourceConfiguration]
    public var sinks: [SinkConfiguration]
    /// Key paths of secrets written inline in the document (not from a variable or a file).
    public var inlineSecretKeys: [String] = []
    /// Secrets an admin command could not read (loaded with `secretsOptional`): key path and why.
    public var unavailableSecretKeys: [String] = []
    /// The file's permission bits for others (`o+r`), when loaded from a file.
    public var fileReadableByOthers = false

    public struct State: Sendable {
        /// Default: `$STATE_DIRECTORY/state.sqlite`, else `/var/lib/audit-forwarder/state.sqlite`
        /// when it exists, else `./audit-forwarder.sqlite`.
        public var path: String
        /// `state.url`: a PostgreSQL database instead of the SQLite file at `path`, shared by
        /// several agents (DESIGN.md §8). Holds the password: never print it, use `redacted`.
        public var database: PostgresLocation?
        /// `state.url` is set but this shell cannot read it (an admin command without the daemon's
        /// environment or credentials): opening the state says so.
        public var databaseUnreadable = false
        /// How long an agent's hold on a PostgreSQL state lasts unless renewed (3s…5m, default
        /// 15s): a dead agent's work is taken over within about this long.
        public var leaseTTL: Duration = .seconds(15)
        /// When the spool holds this many events, polling pauses. Default: 1,000,000.
        public var spoolMaxEvents: Int
        /// How long upstream ids are remembered for dedupe. Default: 7d.
        public var dedupeWindow: Duration
    }

    public struct Telemetry: Sendable {
        /// `host:port` for /metrics, /healthz, /readyz.
        public var listen: String
    }

    public struct Log: Sendable {
        /// Default: info.
        public var level: Logger.Level
        /// Default: json (one object per line); text for people.
        public var format: Format

        public enum Format: String, Sendable, CaseIterable { case json, text }
    }
}

/// Settings every source takes, whatever its type.
public struct SourceConfiguration: Sendable {
    public var name: String
    public var type: String
    /// Time between polls. Default: 5m.
    public var pollInterval: Duration
    /// How far the first poll reaches back. Default: 24h.
    public var lookback: Duration
    /// How far each poll re-reads behind the cursor, for late and boundary events. Default: 2m.
    public var overlap: Duration
    /// How far behind now each poll's window ends, for upstreams that index late. Default: 0s.
    public var settleDelay: Duration
    /// Per request. Default: 30s.
    public var timeout: Duration
    public var tls: TLSOptions
    /// Client-side request budget (`rate_limit: { requests: 60, per: 1m }`). Default: none.
    var rateLimit: RateLimiter.Limit?
    /// Requests in flight while a long window is read in slices (newest-first sources that can:
    /// deploys). Default: 2; 1 reads every window in one piece.
    public var concurrency = 2
    /// Items in any one array of a page (`max_page_items`). Default: 10,000.
    public var maxPageItems = SourceConfiguration.defaultMaxPageItems
    /// Bytes of one response (`max_page_bytes`), after decompression. Default: 16 MiB.
    public var maxPageBytes = SourceConfiguration.defaultMaxPageBytes
    /// Real audit APIs send at most a few thousand items per page; these bound what a hostile one
    /// can make a page cost (figures in docs/security.md).
    public static let defaultMaxPageItems = 10_000
    public static let defaultMaxPageBytes = 16 << 20
    public var connector: any SourceConnector
    /// From `proxy` or the environment (`HTTPS_PROXY`, `NO_PROXY`); nil: direct.
    public var proxy: ProxyServer?
}

/// Settings every sink takes, whatever its type.
public struct SinkConfiguration: Sendable {
    public var name: String
    public var type: String
    /// Events per request. Default: 1 for webhook, 500 otherwise; 1…10000.
    public var batchSize: Int
    /// Payload bytes per request. Default: 1 MiB for webhook, 5 MiB otherwise.
    public var maxBatchBytes: Int
    /// How long a partial batch may wait for more events. Default: 1s.
    public var flushInterval: Duration
    /// Default: native.
    public var encoding: Encoding
    /// Request body compression for HTTP sinks. Default: none.
    public var compression: Compression
    /// Per request. Default: 30s.
    public var timeout: Duration
    public var retry: RetryPolicy
    public var filters: EventFilter
    /// Dotted field paths removed before encoding (e.g. `actor.ip`, `raw.password`).
    public var redact: [String]
    public var tls: TLSOptions
    /// Splunk `acknowledgements`: how often pending ackIds are polled and when one is resent.
    public var acknowledgement: Acknowledgement?
    /// What the sink is (HTTP or file) for the engine, `dry-run` and `check --connect`.
    var target: any SinkTarget
    /// From `proxy` or the environment (`HTTPS_PROXY`, `NO_PROXY`); nil: direct.
    public var proxy: ProxyServer?
    /// `integrity.signing_key`: events carry a signed hash chain per source. Default: off.
    public var integrity: IntegritySigner?
    /// Batches sent at once, at most (`max_in_flight`); how many within that is adapted to the
    /// sink (`ConcurrencyLimit`). Default: 8 for HTTP sinks, 1 for the file sink. A crash resends
    /// at most this many batches. Splunk with acknowledgements uses `ack_max_in_flight` instead.
    public var maxInFlight: Int = 1
    /// A batch joins those sent at once only while they hold fewer spooled bytes than this (not a
    /// configuration key), so a round holds at most this plus one batch: each batch in flight holds
    /// its records, its encoded events and its request body, tens of MiB per sink for eight
    /// batches of events of a few KB (Okta's).
    public var maxBytesInFlight = 8 << 20

    public struct Acknowledgement: Sendable {
        /// Default: 10s.
        public var queryInterval: Duration
        /// Default: 5m.
        public var timeout: Duration
        /// Batches sent and not yet acknowledged, at most (`ack_max_in_flight`). Default: 1, so a
        /// crash resends at most one batch; more sends faster (each batch need not wait out an
        /// interval) at the price of resending up to that many batches after a crash.
        public var maxInFlight: Int = 1
    }

    public enum Compression: String, Sendable, CaseIterable {
        case none, gzip
    }

    public enum Encoding: String, Sendable, CaseIterable {
        case native, ecs, ocsf
    }
}

/// TLS settings of one endpoint. Defaults: the system's trust store, full verification.
public struct TLSOptions: Sendable, Equatable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// No verification at all: any certificate, any name.
    public var insecureSkipVerify: Bool = false
    /// False: the chain must still lead to a trusted CA, but the name in it is not checked
    /// (a server reached by IP address whose certificate names only its host name).
    public var verifyHostname: Bool = true
    /// The oldest TLS version accepted (`min_version`). Default: 1.2; TLS 1.0 and 1.1 are broken.
    public var minimumVersion: MinimumVersion = .tls12

    public enum MinimumVersion: String, Sendable, CaseIterable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    public static let standard = TLSOptions()
}
