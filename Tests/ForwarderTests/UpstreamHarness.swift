import Checkpoint
import Connectors
import Emulators
import Foundation
import Logging
import Testing

@testable import Forwarder

/// For the end-to-end tests of the DeepIntShield, Logfire and http_json sources: a temporary
/// directory with the state file and a file sink's NDJSON, the configuration as YAML text (so the
/// configuration readers are exercised), and cleanup of every emulator and engine started.
final class UpstreamHarness: @unchecked Sendable {
    let directory: String
    let shieldToken = "shield-token-\(UUID().uuidString)"
    let logfireToken = "logfire-token-\(UUID().uuidString)"
    let pagedKey = "paged-key-\(UUID().uuidString)"
    private let lock = NSLock()
    private var cleanups: [@Sendable () async -> Void] = []

    var statePath: String { directory + "/state.sqlite" }
    var filePath: String { directory + "/events.ndjson" }
    var environment: [String: String] {
        ["SHIELD_TOKEN": shieldToken, "LOGFIRE_TOKEN": logfireToken, "PAGED_KEY": pagedKey]
    }

    init() {
        directory = NSTemporaryDirectory() + "af-upstream-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Shuts every engine down, stops every emulator and removes the directory (in the background,
    /// like `Harness`: call it from a `defer`).
    func finish() {
        let work = lock.withLock { cleanups }
        let directory = directory
        Task {
            for cleanup in work.reversed() { await cleanup() }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    func onFinish(_ cleanup: @escaping @Sendable () async -> Void) {
        lock.withLock { cleanups.append(cleanup) }
    }

    // MARK: Emulators

    func shield(nextPagePrefix: String = "/api/audit-logs") async throws -> (DeepIntShieldEmulator, URL) {
        let emulator = DeepIntShieldEmulator(token: shieldToken, nextPagePrefix: nextPagePrefix)
        let url = try await emulator.start()
        onFinish { await emulator.stop() }
        return (emulator, url)
    }

    func logfire() async throws -> (LogfireEmulator, URL) {
        let emulator = LogfireEmulator(token: logfireToken)
        let url = try await emulator.start()
        onFinish { await emulator.stop() }
        return (emulator, url)
    }

    func paged() async throws -> (PagedJSONEmulator, URL) {
        let emulator = PagedJSONEmulator(apiKey: pagedKey)
        let url = try await emulator.start()
        onFinish { await emulator.stop() }
        return (emulator, url)
    }

    func front(_ front: RateLimitHeaderFront) {
        onFinish { await front.stop() }
    }

    // MARK: Configuration

    /// `sources:` entries: `extra` lines are indented four spaces, like the keys above them.
    /// `timeout`: per request. 30 s by default: these tests count requests or expect `.complete`
    /// from one `once`, and on a loaded CI machine a 5 s timeout retried a slow answer (an extra
    /// request, and a poll that did not finish).
    static func shieldSource(_ url: URL, _ extra: String = "", timeout: String = "30s") -> String {
        """
          - name: shield
            type: deepintshield
            base_url: \(url.absoluteString)
            token: ${SHIELD_TOKEN}
            lookback: 30d
            timeout: \(timeout)
        \(extra)
        """
    }

    /// `url` is the emulator's root; the source's base URL is `<url>/api`. The Logfire tests count
    /// the windows asked, so a loaded machine's slow answer must not be retried as a timeout
    /// (with 5 s, one was: a third window).
    static func logfireSource(_ url: URL, _ extra: String = "") -> String {
        """
          - name: logfire
            type: logfire
            base_url: \(url.absoluteString)/api
            token: ${LOGFIRE_TOKEN}
            timeout: 30s
        \(extra)
        """
    }

    func configText(sources: String) -> String {
        """
        state:
          path: \(statePath)
        log: { level: warning, format: text }
        sources:
        \(sources)
        sinks:
          - name: archive
            type: file
            path: \(filePath)
        """
    }

    /// Parses the YAML text and builds an engine; it is shut down by `finish()`.
    func engine(
        sources: String, clock: VirtualClock = VirtualClock(), environment overrides: [String: String] = [:], logger: Logger? = nil
    ) throws -> Engine {
        let configuration = try ConfigurationLoader.parse(
            configText(sources: sources), environment: environment.merging(overrides) { $1 })
        var silent = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        silent.logLevel = .critical
        let engine = try Engine(configuration: configuration, logger: logger ?? silent, clock: clock.engineClock)
        onFinish { await engine.shutdown() }
        return engine
    }

    /// A deadline far past any poll here: under the whole suite on a slow CI machine a
    /// thousand-entry poll once took longer than 30 s and came back partial.
    func once(_ engine: Engine) async -> OnceMode.Outcome {
        await OnceMode.run(engine: engine, deadline: .seconds(120))
    }

    // MARK: What arrived

    /// The events in the NDJSON file, in order.
    func fileEvents() throws -> [[String: Any]] {
        guard FileManager.default.fileExists(atPath: filePath) else { return [] }
        return try String(contentsOfFile: filePath, encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    func fileEventIDs() throws -> [String] {
        try fileEvents().map { try #require($0["id"] as? String) }
    }

    /// Event times in the file, in order.
    func fileEventTimes() throws -> [Date] {
        try fileEvents().map { try #require(($0["time"] as? String).flatMap(RFC3339.parse)) }
    }

    func cursor(_ engine: Engine, source: String) throws -> Date? {
        try engine.store.cursor(source: source).flatMap(RFC3339.parse)
    }

    static func ids(_ upstreamIDs: some Sequence<String>, source: String) -> Set<String> {
        Set(upstreamIDs.map { AuditEvent.stableID(sourceName: source, upstreamID: $0) })
    }
}

extension OnceMode.Outcome {
    /// The problems of a failed run, joined; nil for any other outcome.
    var failureText: String? {
        if case .failed(let problems) = self { return problems.joined(separator: "\n") }
        return nil
    }
}

/// A JSON object from request or response bytes.
func jsonObject(_ data: Data) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// The query parameters of a request target (`/path?a=1&b=2`), percent-decoded.
func queryParameters(_ target: String) -> [String: String] {
    let items = URLComponents(string: "http://host" + target)?.queryItems ?? []
    return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
}
