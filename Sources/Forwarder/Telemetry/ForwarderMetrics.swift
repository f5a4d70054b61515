import Metrics

/// Every metric the forwarder reports, named per Prometheus conventions (`audit_forwarder_`,
/// `_total` counters, `_seconds` durations) with bounded labels only: source, sink, outcome.
/// With no metrics backend bootstrapped (tests, `once` without telemetry) these are no-ops.
struct SourceMetrics: Sendable {
    let fetched: Counter
    let spooled: Counter
    let duplicates: Counter
    let pollErrors: Counter
    let pollDuration: Metrics.Timer
    let lag: Gauge

    init(source: String) {
        let labels = [("source", source)]
        fetched = Counter(label: "audit_forwarder_events_fetched_total", dimensions: labels)
        spooled = Counter(label: "audit_forwarder_events_spooled_total", dimensions: labels)
        duplicates = Counter(label: "audit_forwarder_duplicates_skipped_total", dimensions: labels)
        pollErrors = Counter(label: "audit_forwarder_poll_errors_total", dimensions: labels)
        pollDuration = Metrics.Timer(label: "audit_forwarder_poll_duration_seconds", dimensions: labels, preferredDisplayUnit: .seconds)
        lag = Gauge(label: "audit_forwarder_source_lag_seconds", dimensions: labels)
    }
}

struct SinkMetrics: Sendable {
    let delivered: Counter
    let deadLettered: Counter
    let retries: Counter
    let filtered: Counter
    /// Gauges to alert on: set by the worker (last success) and by the engine's housekeeping.
    let lastSuccess: Gauge
    let pending: Gauge
    let deadLetters: Gauge
    /// Batches the worker sends at once now (adapted within `max_in_flight`).
    let inFlightLimit: Gauge

    init(sink: String) {
        let labels = [("sink", sink)]
        lastSuccess = Gauge(label: "audit_forwarder_sink_last_success_timestamp_seconds", dimensions: labels)
        pending = Gauge(label: "audit_forwarder_sink_pending_events", dimensions: labels)
        deadLetters = Gauge(label: "audit_forwarder_sink_dead_letters", dimensions: labels)
        inFlightLimit = Gauge(label: "audit_forwarder_sink_in_flight_limit", dimensions: labels)
        delivered = Counter(label: "audit_forwarder_events_delivered_total", dimensions: labels)
        deadLettered = Counter(label: "audit_forwarder_events_dead_lettered_total", dimensions: labels)
        retries = Counter(label: "audit_forwarder_delivery_retries_total", dimensions: labels)
        filtered = Counter(label: "audit_forwarder_events_filtered_total", dimensions: labels)
    }
}

enum SpoolMetrics {
    static let depth = Gauge(label: "audit_forwarder_spool_depth")
    static let fileBytes = Gauge(label: "audit_forwarder_spool_file_bytes")
}

/// On a shared (PostgreSQL) state: this agent's leases (`SourceLeasing`).
enum LeaseMetrics {
    static let held = Gauge(label: "audit_forwarder_leases_held")
    static let takeovers = Counter(label: "audit_forwarder_lease_takeovers_total")
    static let staleEpochRejections = Counter(label: "audit_forwarder_stale_epoch_rejections_total")
}
