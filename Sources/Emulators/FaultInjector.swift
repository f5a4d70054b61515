import Foundation

/// Scripted faults shared by every emulator.
///
/// Each queued fault is consumed by exactly one request, first in first out, so a test
/// can say "fail twice with 503 and `Retry-After: 2`, then succeed". The latency, when
/// set, is added to every request.
public actor FaultInjector {
    public enum Fault: Sendable {
        /// Answer this HTTP status, with a `Retry-After` header and a body when given.
        case status(Int, retryAfter: String? = nil, body: String? = nil)
        /// HTTP 200 whose body is not JSON (an HTML error page from a proxy).
        case garbage
        /// HTTP 200 whose JSON body stops in the middle (a connection cut short).
        case truncatedJSON
        /// An application error: deploys answers HTTP 200 `{"ok": false, "error": {"message": …}}`;
        /// the webhook receiver treats it as `.status(500)`; DeepIntShield, Logfire and the paged
        /// JSON API answer HTTP 500 with their own error shape.
        case errorEnvelope(String)
        /// Sleep this long, then answer normally.
        case delay(Duration)
        /// Send the status line, the headers (with the full `Content-Length`) and about half of
        /// the body, then close the connection: a reset in the middle of a response.
        case resetMidBody
        /// Send the head and half of the body, wait this long, then the rest: a response whose
        /// headers come at once and whose body stalls (a client's timeout must cover the body too).
        /// Upstream emulators only (deploys.app and those answering through `answer`); the sink
        /// emulators answer normally.
        case stallMidBody(Duration)
        /// Answer a redirect (301, 302, 307, 308) to `location`: a client must not follow it
        /// (a webhook redirect must not carry the signature and the events elsewhere).
        case redirect(Int, location: String)
    }

    private var queue: [Fault] = []
    private var latency: Duration?
    /// Requests waiting out the latency right now, and the most there ever were at once: how
    /// many requests a client had in flight together.
    private var waiting = 0
    public private(set) var peakConcurrentRequests = 0

    public init() {}

    /// Queues `fault` for the next `times` requests (after those already queued).
    public func enqueue(_ fault: Fault, times: Int = 1) {
        guard times > 0 else { return }
        queue.append(contentsOf: repeatElement(fault, count: times))
    }

    /// Adds `latency` to every request; `nil` removes it.
    public func setLatency(_ latency: Duration?) {
        self.latency = latency
    }

    /// Drops every queued fault and the latency.
    public func clear() {
        queue.removeAll()
        latency = nil
    }

    /// How many queued faults are still waiting for a request.
    public var pendingCount: Int { queue.count }

    private func take() -> (latency: Duration?, fault: Fault?) {
        if latency != nil {
            waiting += 1
            peakConcurrentRequests = max(peakConcurrentRequests, waiting)
        }
        return (latency, queue.isEmpty ? nil : queue.removeFirst())
    }

    private func leave() {
        waiting -= 1
    }

    /// Called once per request by an emulator: waits out the latency and any `.delay`,
    /// then returns the fault that should answer this request, if any.
    /// Sleeping happens outside the actor so concurrent requests are delayed independently.
    nonisolated func intercept() async -> Fault? {
        let (latency, fault) = await take()
        if let latency {
            try? await Task.sleep(for: latency)
            await leave()
        }
        if case .delay(let pause) = fault {
            try? await Task.sleep(for: pause)
            return nil
        }
        return fault
    }
}

extension FaultInjector.Fault {
    /// The bodies every emulator uses for the format faults.
    static let garbageBody = "<html><body><h1>502 Bad Gateway</h1>oops</body></html>"
    static let truncatedBody = #"{"ok": true, "result": {"items": [{"id": 42, "resource": {"type": "deploym"#
}
