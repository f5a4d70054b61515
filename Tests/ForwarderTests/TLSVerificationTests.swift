import Checkpoint
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// A webhook sink against an HTTPS receiver on loopback whose certificate names only `localhost`:
/// every TLS setting is decided by a real handshake. One attempt each, so a refusal lands in the
/// dead letters with the reason the operator would read.
@Suite(.awaitedTeardown, .serialized) struct TLSVerificationTests {
    enum Expected: Sendable, Equatable { case delivered, refused(mentioning: String) }

    struct Case: Sendable, CustomTestStringConvertible {
        var host: String
        var tls: String
        var expected: Expected
        var testDescription: String { "\(host) with tls { \(tls) }" }
    }

    static let cases: [Case] = [
        Case(host: "localhost", tls: "ca_file: {CA}", expected: .delivered),
        Case(host: "localhost", tls: "ca_file: {OTHER}", expected: .refused(mentioning: "certificate is not trusted")),
        Case(host: "localhost", tls: "insecure_skip_verify: false", expected: .refused(mentioning: "certificate is not trusted")),
        Case(host: "127.0.0.1", tls: "ca_file: {CA}", expected: .refused(mentioning: "does not name 127.0.0.1")),
        Case(host: "127.0.0.1", tls: "ca_file: {CA}, verify_hostname: false", expected: .delivered),
        Case(host: "127.0.0.1", tls: "ca_file: {OTHER}, verify_hostname: false", expected: .refused(mentioning: "certificate is not trusted")),
        Case(host: "127.0.0.1", tls: "ca_file: {OTHER}, insecure_skip_verify: true", expected: .delivered),
    ]

    @Test(arguments: cases)
    func aRealHandshakeDecides(_ check: Case) async throws {
        let harness = try await Harness.start()
        let files = try TLSFixtures.write(to: harness.directory)
        let secure = WebhookReceiver()
        let url = try await secure.start(tls: EmulatorTLS(certificateChainFile: files.certificate, privateKeyFile: files.key))
        Teardown.add {
            await harness.stop(); await secure.stop()
        }
        let items = await harness.seed(20)
        let port = try #require(url.port)
        let tls = check.tls.replacingOccurrences(of: "{OTHER}", with: files.otherCA).replacingOccurrences(of: "{CA}", with: files.ca)
        // AsyncHTTPClient retries a failed handshake until the request's deadline, so a refusal is
        // given 1 s; a handshake that should pass gets room for a loaded machine (the whole suite
        // runs in parallel), where 1 s once timed out a good one.
        let timeout = check.expected == .delivered ? "15s" : "1s"
        let engine = try harness.engine(
            try harness.configuration(
                file: """
                      - name: secure
                        type: webhook
                        url: https://\(check.host):\(port)/audit
                        batch_size: 20
                        retry: { max_attempts: 1 }
                        timeout: \(timeout)
                        tls: { \(tls) }
                    """))
        _ = await OnceMode.run(engine: engine, deadline: .seconds(30))
        let letters = try engine.store.deadLetters(sink: "secure")
        switch check.expected {
        case .delivered:
            #expect(Set(await secure.receivedEventIDs()) == harness.expectedIDs(items))
            #expect(letters.isEmpty, "\(letters.first?.reason ?? "")")
        case .refused(let phrase):
            #expect(await secure.receivedEventIDs().isEmpty)
            #expect(letters.count == 20)
            #expect(letters.first?.reason.contains(phrase) == true, "\(letters.first?.reason ?? "")")
        }
        // The other sinks were not held back by the refused one.
        #expect(Set(try harness.fileEventIDs()) == harness.expectedIDs(items))
        await engine.shutdown()
    }
}
