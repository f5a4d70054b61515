import Emulators
import Foundation
import Testing

@testable import Forwarder

/// Secrets never appear in logs, errors or dry-run output (DESIGN.md §4). Every command an operator
/// runs, with every kind of secret configured and most of them wrong, scanned for every secret.
@Suite(.awaitedTeardown) struct SecretLeakTests {
    @Test func noCommandPrintsAConfiguredSecret() async throws {
        let harness = try await Harness.start()
        let splunk = SplunkHECEmulator(token: "the-right-hec-token", indexes: ["main"], acknowledgements: false)
        let datadog = DatadogLogsEmulator(apiKey: "the-right-dd-key")
        let elastic = ElasticsearchEmulator(apiKey: nil, basic: ("elastic", "the-right-password"))
        let paged = PagedJSONEmulator(apiKey: "the-right-api-key")
        let urls = (try await splunk.start(), try await datadog.start(), try await elastic.start(), try await paged.start())
        Teardown.add {
            await harness.stop(); await splunk.stop(); await datadog.stop(); await elastic.stop(); await paged.stop()
        }
        await harness.seed(12)

        // Wrong values for the SIEMs (their errors are where a secret would slip out); right ones
        // for deploys.app and the webhook, so events flow and dry-run has something to show.
        let secrets = [
            "HEC_TOKEN": "hec-\(UUID().uuidString)", "DD_KEY": "ddkey\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))",
            "ES_PASSWORD": "pw-\(UUID().uuidString)", "PAGED_PASSWORD": "basic-\(UUID().uuidString)",
        ]
        let environment = harness.environment.merging(secrets) { $1 }
        let sinks = """
              - { name: splunk, type: splunk, hec_endpoint: \(urls.0.absoluteString)/services/collector, hec_token: "${HEC_TOKEN}", retry: { max_attempts: 2, initial_backoff: 10ms } }
              - { name: datadog, type: datadog, endpoint: \(urls.1.absoluteString)/api/v2/logs, api_key: "${DD_KEY}", retry: { max_attempts: 2, initial_backoff: 10ms } }
              - { name: elastic, type: elastic, endpoint: \(urls.2.absoluteString), username: elastic, password: "${ES_PASSWORD}", index: audit, retry: { max_attempts: 2, initial_backoff: 10ms } }
            """
        let source = """
              - { name: paged, type: http_json, url: "\(urls.3.absoluteString)/cursor", auth: { type: basic, username: u, password: "${PAGED_PASSWORD}" }, items: items, id_field: id, time_field: ts, timeout: 1s }
            """
        let text = harness.configText(file: sinks).replacingOccurrences(of: "sinks:\n", with: source + "\nsinks:\n")
        let config = harness.directory + "/secrets.yaml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        _ = try ConfigurationLoader.parse(text, environment: environment)

        // The same secrets in a configuration that is wrong in several places at once.
        let broken = harness.directory + "/broken.yaml"
        try text.replacingOccurrences(of: "signing_secret: ${SIGNING_SECRET}", with: "signing_secret: \"not-whsec-${SIGNING_SECRET}\"")
            .replacingOccurrences(of: "index: audit,", with: "index: audit, batch_size: 0, tokn: \"${ES_PASSWORD}\",")
            .write(toFile: broken, atomically: true, encoding: .utf8)

        let commands: [[String]] = [
            ["check", "-c", config], ["check", "--connect", "-c", config], ["dry-run", "-c", config, "--limit", "5"],
            ["once", "-c", config, "--deadline", "60s"], ["status", "-c", config], ["status", "--json", "-c", config],
            ["deadletters", "list", "-c", config], ["checkpoints", "list", "-c", config], ["check", "-c", broken], ["once", "-c", broken],
        ]
        let values = Array(secrets.values) + [harness.deploysToken, harness.webhookToken, harness.signingSecret]
        var scanned = 0
        for command in commands {
            let result = try await ChildProcess.run(command, environment: environment, directory: harness.directory)
            let output = result.stdout + result.stderr
            #expect(!output.isEmpty, "\(command) printed nothing")
            for secret in values {
                // The secret whole, and its base64 (a Basic header) — neither may appear.
                for form in [secret, Data(secret.utf8).base64EncodedString()] {
                    #expect(!output.contains(form), "\(command.joined(separator: " ")) printed a secret:\n\(output)")
                }
            }
            scanned += output.utf8.count
        }
        // The runs really hit the failures the scan is about.
        let once = try await ChildProcess.run(["deadletters", "list", "-c", config], environment: environment, directory: harness.directory)
        #expect(once.stdout.contains("splunk") && once.stdout.contains("datadog") && once.stdout.contains("elastic"), "\(once.stdout)")
        #expect(scanned > 2000)
    }
}
