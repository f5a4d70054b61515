extension FaultInjector {
    /// The fault handling of the emulators that answer errors in their own shape: waits out
    /// any latency or `.delay`, answers a status, format or envelope fault with `error`
    /// (status, message) where a body is needed, or else runs `normal` — cut short for
    /// `.resetMidBody`, so the partial body is a prefix of a real answer.
    nonisolated func answer(
        error: (Int, String) -> EmulatorResponse,
        normal: () async -> EmulatorResponse
    ) async -> EmulatorResponse {
        switch await intercept() {
        case nil:
            return await normal()
        case .resetMidBody:
            return await normal().cutMidBody()
        case .stallMidBody(let pause):
            return await normal().stalled(for: pause)
        case .errorEnvelope(let message):
            return error(500, message)
        case let fault?:
            if let response = EmulatorResponse.forFault(fault, statusBody: { error($0, Self.reason($0)) }) { return response }
            return await normal()
        }
    }

    /// A short message for a `.status` fault given without a body.
    static func reason(_ status: Int) -> String {
        switch status {
        case 429: "rate limit exceeded"
        case 500: "internal server error"
        case 502: "bad gateway"
        case 503: "service unavailable"
        case 504: "gateway timeout"
        default: "HTTP \(status)"
        }
    }
}
