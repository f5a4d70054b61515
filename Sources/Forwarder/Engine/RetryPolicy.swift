import Foundation

/// When to try again: exponential backoff with full jitter, `Retry-After` honoured.
public struct RetryPolicy: Sendable, Equatable {
    /// nil (default): retry until it works or the process stops.
    public var maxAttempts: Int?
    /// Default: exponential.
    public var backoff: Backoff = .exponential
    /// Default: 1s.
    public var initialBackoff: Duration = .seconds(1)
    /// Default: 5m.
    public var maxBackoff: Duration = .seconds(300)

    public enum Backoff: String, Sendable, CaseIterable {
        case exponential
        /// Always `initial_backoff`.
        case constant
    }

    public init(
        maxAttempts: Int? = nil, backoff: Backoff = .exponential, initialBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(300)
    ) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// Whether another attempt is allowed after `attempts` failed ones.
    public func allowsAnother(after attempts: Int) -> Bool {
        maxAttempts.map { attempts < $0 } ?? true
    }

    /// The wait before attempt number `attempts + 1`. A server's `Retry-After` wins (it knows its
    /// own load); otherwise full jitter: uniform in [0, min(max, initial × 2^(attempts-1))].
    public func delay(afterAttempts attempts: Int, retryAfter: Duration?, random: Double = Double.random(in: 0...1)) -> Duration {
        if let retryAfter { return retryAfter }
        let initial = initialBackoff.seconds
        let ceiling: Double
        switch backoff {
        case .constant:
            return initialBackoff
        case .exponential:
            ceiling = min(maxBackoff.seconds, initial * pow(2, Double(max(0, min(attempts - 1, 40)))))
        }
        return .milliseconds(Int64(ceiling * random * 1000))
    }
}
