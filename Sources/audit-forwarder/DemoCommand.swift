import ArgumentParser
import Emulators
import Forwarder
import Foundation
import Logging

/// `demo`: the local emulators plus the forwarder, end to end, in one command.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Start a deploys.app emulator and a webhook receiver on loopback, forward seeded events to them and to a file, and show what arrived where."
    )

    @Option(help: "How many audit events to seed.")
    var events: Int = 250

    @Option(help: "Directory for the demo's state file, config and NDJSON output (default: a new temporary directory).")
    var directory: String?

    func validate() throws {
        guard (1...1_000_000).contains(events) else { throw ValidationError("--events must be between 1 and 1000000") }
    }

    func run() async throws {
        let folder = directory ?? NSTemporaryDirectory() + "audit-forwarder-demo-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

        let deploysToken = "demo-deploys-" + UUID().uuidString
        let webhookToken = "demo-webhook-" + UUID().uuidString
        let signingSecret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let deploys = DeploysEmulator(token: deploysToken, project: "acme")
        let receiver = WebhookReceiver(signingSecret: signingSecret, bearerToken: webhookToken)
        let now = Date()
        await deploys.seed(
            DeploysEmulator.generate(count: events, firstID: 1, from: now.addingTimeInterval(-3 * 3600), to: now.addingTimeInterval(-60)))
        let deploysURL = try await deploys.start()
        let webhookURL = try await receiver.start()

        let outputPath = folder + "/events.ndjson"
        let configText = """
            state:
              path: \(folder)/state.sqlite
            log: { level: warning, format: text }
            sources:
              - name: deploys
                type: deploys
                base_url: \(deploysURL.absoluteString)
                project: acme
                token: ${DEMO_DEPLOYS_TOKEN}
                lookback: 6h
                page_size: 50
            sinks:
              - name: security_webhook
                type: webhook
                url: \(webhookURL.absoluteString)/hooks/audit
                auth: { type: bearer, token: "${DEMO_WEBHOOK_TOKEN}" }
                signing_secret: ${DEMO_SIGNING_SECRET}
                batch_size: 1
              - name: archive
                type: file
                path: \(outputPath)
            """
        try configText.write(toFile: folder + "/config.yaml", atomically: true, encoding: .utf8)
        let environment = [
            "DEMO_DEPLOYS_TOKEN": deploysToken, "DEMO_WEBHOOK_TOKEN": webhookToken, "DEMO_SIGNING_SECRET": signingSecret,
        ]
        let configuration = try ConfigurationLoader.parse(configText, environment: environment)
        let logger = bootstrapLogging(configuration)
        let engine = try Engine(configuration: configuration, logger: logger)

        print("audit-forwarder demo — everything runs on loopback, in \(folder)")
        print("  deploys.app emulator  \(deploysURL.absoluteString)  (\(events) audit entries seeded over the last 3 hours)")
        print("  webhook receiver      \(webhookURL.absoluteString)  (checks bearer token and Standard Webhooks signatures)")
        print("  file sink             \(outputPath)")
        print("")

        let first = await OnceMode.run(engine: engine, deadline: .seconds(120))
        let afterFirst = await summary(receiver: receiver, outputPath: outputPath)
        print("run 1 (once): \(first == .complete ? "complete" : "\(first)")")
        print(
            "  webhook: \(afterFirst.webhookEvents) events in \(afterFirst.deliveries) signed deliveries, \(afterFirst.distinctWebhookIDs) distinct ids, all signatures valid: \(afterFirst.signaturesValid)"
        )
        print("  file:    \(afterFirst.fileLines) NDJSON lines")

        // A late event behind the cursor (inside `overlap`) and a repeat run: only the new event moves.
        await deploys.insert(
            DeploysAuditItem(id: Int64(events) + 1, action: "role.grant", outcome: "forbidden", createdAt: Date().addingTimeInterval(-30)))
        let second = await OnceMode.run(engine: engine, deadline: .seconds(120))
        let afterSecond = await summary(receiver: receiver, outputPath: outputPath)
        print("run 2 (once, one late event added upstream): \(second == .complete ? "complete" : "\(second)")")
        print(
            "  webhook: +\(afterSecond.webhookEvents - afterFirst.webhookEvents) event(s); file: +\(afterSecond.fileLines - afterFirst.fileLines) line(s); re-fetched overlap skipped as duplicates"
        )
        if let sample = afterSecond.lastLine { print("\nlast event written to the file (native encoding):\n" + sample) }

        await engine.shutdown()
        await deploys.stop()
        await receiver.stop()

        let expected = events + 1
        let ok =
            first == .complete && second == .complete && afterSecond.distinctWebhookIDs == expected
            && afterSecond.fileLines == expected && afterSecond.signaturesValid
        print(
            "\n\(ok ? "OK" : "MISMATCH"): \(expected) events seeded, \(afterSecond.distinctWebhookIDs) arrived at the webhook, \(afterSecond.fileLines) in the file"
        )
        if !ok { throw ExitCode(ExitStatus.failure) }
    }

    struct Summary {
        var webhookEvents = 0
        var deliveries = 0
        var distinctWebhookIDs = 0
        var signaturesValid = true
        var fileLines = 0
        var lastLine: String?
    }

    private func summary(receiver: WebhookReceiver, outputPath: String) async -> Summary {
        let deliveries = await receiver.deliveries()
        let ids = await receiver.receivedEventIDs()
        let lines = ((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "").split(separator: "\n")
        return Summary(
            webhookEvents: ids.count, deliveries: deliveries.count, distinctWebhookIDs: Set(ids).count,
            signaturesValid: deliveries.allSatisfy { $0.signatureValid ?? false }, fileLines: lines.count,
            lastLine: lines.last.map(String.init))
    }
}
