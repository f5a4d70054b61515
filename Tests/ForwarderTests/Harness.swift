import Checkpoint
import Connectors
import Emulators
import Foundation
import Logging
import Testing

@testable import Forwarder

/// A deploys.app emulator, a webhook receiver, a temporary directory with the state file and the
/// file sink's output: one per test, all on loopback.
final class Harness: @unchecked Sendable {
    let deploys: DeploysEmulator
    let receiver: WebhookReceiver
    let directory: String
    let deploysToken = "deploys-token-\(UUID().uuidString)"
    let webhookToken = "webhook-token-\(UUID().uuidString)"
    let signingSecret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    private(set) var deploysURL: URL!
    private(set) var webhookURL: URL!

    var statePath: String { directory + "/state.sqlite" }
    var filePath: String { directory + "/events.ndjson" }
    var environment: [String: String] {
        ["DEPLOYS_TOKEN": deploysToken, "WEBHOOK_TOKEN": webhookToken, "SIGNING_SECRET": signingSecret]
    }

    init() {
        deploys = DeploysEmulator(token: deploysToken, project: "acme")
        receiver = WebhookReceiver(signingSecret: signingSecret, bearerToken: webhookToken)
        directory = NSTemporaryDirectory() + "af-test-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    static func start() async throws -> Harness {
        let harness = Harness()
        harness.deploysURL = try await harness.deploys.start()
        harness.webhookURL = try await harness.receiver.start()
        return harness
    }

    func stop() async {
        await deploys.stop()
        await receiver.stop()
    }

    /// Seeds `count` events over the last `span` seconds (ending a minute ago); returns them.
    @discardableResult
    func seed(_ count: Int, firstID: Int64 = 1, span: TimeInterval = 3 * 3600) async -> [DeploysAuditItem] {
        let now = Date()
        let items = DeploysEmulator.generate(
            count: count, firstID: firstID, from: now.addingTimeInterval(-span - 60), to: now.addingTimeInterval(-60))
        await deploys.seed(items)
        return items
    }

    func configText(
        source: String = "", webhook: String = "", file: String = "", state: String = "",
        webhookRetry: String = "{ initial_backoff: 10ms, max_backoff: 50ms }"
    ) -> String {
        """
        state:
          path: \(statePath)
        \(state)
        log: { level: warning, format: text }
        sources:
          - name: deploys
            type: deploys
            base_url: \(deploysURL.absoluteString)
            project: acme
            token: ${DEPLOYS_TOKEN}
            lookback: 30d
            timeout: 5s
        \(source)
        sinks:
          - name: hook
            type: webhook
            url: \(webhookURL.absoluteString)/audit
            auth: { type: bearer, token: "${WEBHOOK_TOKEN}" }
            signing_secret: ${SIGNING_SECRET}
            retry: \(webhookRetry)
        \(webhook)
          - name: archive
            type: file
            path: \(filePath)
        \(file)
        """
    }

    func configuration(
        source: String = "", webhook: String = "", file: String = "", state: String = "",
        webhookRetry: String = "{ initial_backoff: 10ms, max_backoff: 50ms }"
    ) throws -> ForwarderConfiguration {
        try ConfigurationLoader.parse(
            configText(source: source, webhook: webhook, file: file, state: state, webhookRetry: webhookRetry), environment: environment)
    }

    func writeConfig(source: String = "", webhook: String = "", file: String = "", state: String = "") throws -> String {
        let path = directory + "/config.yaml"
        try configText(source: source, webhook: webhook, file: file, state: state).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `logger`: a `LogRecorder`'s, when the test asserts what was reported; silent otherwise.
    /// `clock`: virtual time, so no test waits out a retry or a backoff.
    func engine(_ configuration: ForwarderConfiguration, clock: VirtualClock = VirtualClock(), logger: Logger? = nil) throws -> Engine {
        var silent = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        silent.logLevel = .critical
        return try Engine(configuration: configuration, logger: logger ?? silent, clock: clock.engineClock)
    }

    /// Event ids in the NDJSON file, in order.
    func fileEventIDs() throws -> [String] {
        guard FileManager.default.fileExists(atPath: filePath) else { return [] }
        return try String(contentsOfFile: filePath, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return object["id"] as! String
        }
    }

    func expectedIDs(_ items: [DeploysAuditItem], source: String = "deploys") -> Set<String> {
        Set(items.map { AuditEvent.stableID(sourceName: source, upstreamID: String($0.id)) })
    }
}

extension OnceMode.Outcome {
    /// The run failed only because `sink` dead-lettered events (exit 1 since a dead letter is a
    /// failure of the run; everything else was delivered).
    func onlyDeadLettered(by sink: String) -> Bool {
        guard case .failed(let problems) = self else { return false }
        return !problems.isEmpty && problems.allSatisfy { $0.hasPrefix("sink \(sink) dead-lettered") }
    }
}
