/// How many batches a sink worker sends at once, adapted to the sink (additive increase,
/// multiplicative decrease, as TCP and Vector's adaptive request concurrency do).
///
/// It starts at one. After a round that used the whole limit and met no back-pressure, it rises
/// by one while the round's latency stays near the sink's usual latency; a round whose latency
/// doubled lowers it by one (the sink is queueing our requests); any retryable answer (429, 503,
/// other 5xx, a timeout, a refused connection) halves it. It never passes `ceiling`
/// (`max_in_flight`).
struct ConcurrencyLimit: Sendable {
    let ceiling: Int
    private(set) var current = 1
    /// A slow-moving average of round latency while the sink is healthy, in seconds.
    private(set) var usualLatency: Double?

    init(ceiling: Int) {
        self.ceiling = max(1, ceiling)
    }

    /// Records a round of `batches` sends that took `latency` (the slowest send's first attempt,
    /// in seconds); `backPressure` when any send was answered with a retryable failure.
    mutating func record(batches: Int, latency: Double, backPressure: Bool) {
        if backPressure {
            current = max(1, current / 2)
            return
        }
        guard let usual = usualLatency else {
            usualLatency = latency
            if batches >= current { current = min(ceiling, current + 1) }
            return
        }
        // A few milliseconds of slack: on loopback, latency is noise around almost nothing.
        if latency > 2 * usual + 0.005 {
            current = max(1, current - 1)
        } else if batches >= current, latency <= 1.5 * usual + 0.005 {
            current = min(ceiling, current + 1)
        }
        usualLatency = usual * 0.9 + latency * 0.1
    }
}
