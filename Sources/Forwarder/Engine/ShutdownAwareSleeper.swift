import ServiceLifecycle

/// Sleeps that end early on graceful shutdown (SIGTERM), so a retry wait never holds up a stop.
/// Outside a ServiceGroup it is a plain sleep.
public struct ShutdownAwareSleeper: Sleeper {
    public init() {}

    public func sleep(for duration: Duration) async throws {
        try await cancelWhenGracefulShutdown {
            try await Task.sleep(for: duration)
        }
        if Task.isShuttingDownGracefully { throw CancellationError() }
    }
}
