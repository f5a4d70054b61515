import Foundation

// The emulators have no knob for `X-RateLimit-*` headers (PROTOCOLS.md names none for these
// upstreams), so this front answers through an emulator's own responder, unchanged, and only adds
// the headers. Internal emulator API, hence the testable import, kept to this file (the Emulators
// module's internal `RFC3339` would clash with the Connectors one elsewhere).
@testable import Emulators

/// A loopback server that answers every request through a (not started) emulator's responder and
/// adds `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`: a budget of `budget`
/// requests, so every `budget`-th answer says it is spent (`Remaining: 0`).
final class RateLimitHeaderFront: Sendable {
    private let server = EmulatorServer(name: "rate-limit-front")
    private let budget: Int
    /// The `X-RateLimit-Reset` value, worked out at each answer.
    private let reset: @Sendable () -> String
    private let counter = Counter()

    init(budget: Int, reset: @escaping @Sendable () -> String) {
        self.budget = budget
        self.reset = reset
    }

    func start(_ shield: DeepIntShieldEmulator) async throws -> URL {
        try await start { await shield.respond(to: $0) }
    }

    func start(_ logfire: LogfireEmulator) async throws -> URL {
        try await start { await logfire.respond(to: $0) }
    }

    func start(_ paged: PagedJSONEmulator) async throws -> URL {
        try await start { await paged.respond(to: $0) }
    }

    private func start(_ inner: @escaping @Sendable (RecordedRequest) async -> EmulatorResponse) async throws -> URL {
        let (counter, budget, reset) = (counter, budget, reset)
        return try await server.start { request in
            var response = await inner(request)
            let answered = counter.next()
            response.headers.append(("X-RateLimit-Limit", String(budget)))
            response.headers.append(("X-RateLimit-Remaining", String(budget - 1 - (answered - 1) % budget)))
            response.headers.append(("X-RateLimit-Reset", reset()))
            return response
        }
    }

    func stop() async {
        await server.stop()
    }

    func requests() -> [RecordedRequest] {
        server.requests()
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0

        /// 1 for the first call, 2 for the second…
        func next() -> Int {
            lock.withLock {
                value += 1
                return value
            }
        }
    }
}
