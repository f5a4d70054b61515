import CoreMetrics
import Prometheus

/// swift-prometheus's factory for swift-metrics writes no `# HELP` lines; this one registers each
/// series through the registry with its help text from `MetricHelp`, and leaves the rest (buckets,
/// destroying) to that factory.
struct MetricsFactoryWithHelp: MetricsFactory {
    let inner: PrometheusMetricsFactory
    var registry: PrometheusCollectorRegistry { inner.registry }

    init(registry: PrometheusCollectorRegistry) {
        inner = PrometheusMetricsFactory(registry: registry)
    }

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricHelp.text[label] ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        let buckets = inner.valueHistogramBuckets[label] ?? inner.defaultValueHistogramBuckets
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets = inner.durationHistogramBuckets[label] ?? inner.defaultDurationHistogramBuckets
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { inner.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { inner.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { inner.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { inner.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { inner.destroyTimer(handler) }
}

/// The `# HELP` text of every series, by name; docs/metrics.md says the same at more length.
enum MetricHelp {
    static let text: [String: String] = [
        "audit_forwarder_events_fetched_total": "Entries read from the source's pages.",
        "audit_forwarder_events_spooled_total": "New events the source committed to the spool (duplicates excluded).",
        "audit_forwarder_duplicates_skipped_total": "Entries skipped because the dedupe index had already seen them.",
        "audit_forwarder_poll_errors_total": "Polls of the source that failed (the cursor stayed where the last good page left it).",
        "audit_forwarder_poll_duration_seconds": "How long one poll of the source took.",
        "audit_forwarder_source_lag_seconds": "How far the source's cursor is behind now.",
        "audit_forwarder_events_delivered_total": "Events the sink accepted.",
        "audit_forwarder_events_dead_lettered_total": "Events the sink refused for good, kept as dead letters.",
        "audit_forwarder_delivery_retries_total": "Batches sent again after a transient failure.",
        "audit_forwarder_events_filtered_total": "Events the sink's filters passed over.",
        "audit_forwarder_spool_depth": "Events in the spool that some sink has not passed yet.",
        "audit_forwarder_spool_file_bytes": "Disk space of the spool's segment files (SQLite state).",
        "audit_forwarder_sink_pending_events": "Events waiting for this sink.",
        "audit_forwarder_sink_last_success_timestamp_seconds": "When this sink last accepted a batch (Unix time; 0: not since start).",
        "audit_forwarder_sink_dead_letters": "Dead letters held for this sink now (replay or purge them).",
        "audit_forwarder_sink_in_flight_limit":
            "Batches this sink is sent at once now, adapted to its latency and back-pressure within max_in_flight.",
        "audit_forwarder_leases_held": "Sources this agent leases now (PostgreSQL state).",
        "audit_forwarder_lease_takeovers_total": "Leases this agent took from another agent after theirs ran out (PostgreSQL state).",
        "audit_forwarder_stale_epoch_rejections_total": "Changes refused because another agent had taken the source over (PostgreSQL state).",
    ]
}
