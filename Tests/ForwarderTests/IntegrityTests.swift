import Checkpoint
import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// Tamper-evident delivery (`sinks[].integrity`): what reaches a sink carries a signed hash chain
/// per source, and `verify` proves the delivered events complete and unaltered, or names what is
/// not. Real HTTP against the emulators, a real state file.
@Suite(.awaitedTeardown) struct IntegrityTests {
    let keys = IntegritySigner.generate()

    func verify(_ lines: [String], keys extra: [String] = [], fromSeq: Int64? = nil) -> VerifyMode.Report {
        let verifierKeys = ([keys.publicKey] + extra).compactMap(IntegrityVerifierKey.init(base64:))
        return VerifyMode(keys: verifierKeys, fromSeq: fromSeq).verify(lines: lines.enumerated().map { ($0.offset + 1, Substring($0.element)) })
    }

    func fileLines(_ harness: Harness) throws -> [String] {
        try String(contentsOfFile: harness.filePath, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// 60 events through a file sink (batches of 25) and a webhook filtered to low severity and up.
    func deliver(_ harness: Harness, encoding: String = "native") async throws -> Engine {
        await harness.seed(60)
        let integrity = "    integrity: { signing_key: \"\(keys.signingKey)\" }"
        let engine = try harness.engine(
            try harness.configuration(
                webhook: "    filters: { severity: [low, medium, high, critical] }\n    encoding: \(encoding)\n" + integrity,
                file: "    batch_size: 25\n    encoding: \(encoding)\n" + integrity))
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        return engine
    }

    @Test(arguments: ["native", "ecs", "ocsf"])
    func deliveredEventsVerifyInEveryEncoding(encoding: String) async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let engine = try await deliver(harness, encoding: encoding)
        Teardown.add { await engine.shutdown() }
        let lines = try fileLines(harness)
        let report = verify(lines)
        #expect(report.ok, "\(VerifyMode.text(report))")
        let chain = try #require(report.chains.first)
        #expect(chain.verified == 60 && chain.firstSeq == 1 && chain.lastSeq == 60)
        #expect(chain.signatures == 3, "one signature per batch of 25")
        // Where the chain sits: top level, or unmapped for OCSF (whose schema allows nothing else).
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let link = encoding == "ocsf" ? (first["unmapped"] as? [String: Any])?["integrity"] : first["integrity"]
        #expect((link as? [String: Any])?["seq"] as? Int == 1)
        // The state keeps the head with the offset.
        #expect(try engine.store.chainHeads(sink: "archive")["deploys"]?.seq == 60)
    }

    @Test func aFilteredSinksChainHasNoGapsAndTheWebhookSendsTheHeadAsAHeader() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let engine = try await deliver(harness)
        Teardown.add { await engine.shutdown() }
        let deliveries = await harness.receiver.deliveries()
        #expect(!deliveries.isEmpty && deliveries.count < 60)
        let report = verify(deliveries.map { String(decoding: $0.body, as: UTF8.self) })
        #expect(report.ok, "\(VerifyMode.text(report))")
        #expect(report.chains.first?.lastSeq == Int64(deliveries.count))
        let headers = await harness.receiver.requests().compactMap { $0.header("audit-forwarder-integrity") }
        #expect(headers.count == deliveries.count)
        #expect(headers.last?.contains("seq=\(deliveries.count); hash=") == true && headers.last?.contains("sig=") == true, "\(headers.last ?? "")")
    }

    @Test func aDeletedEditedSwappedOrForgedLineIsNamedAndDuplicatesAreHarmless() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        let engine = try await deliver(harness)
        Teardown.add { await engine.shutdown() }
        let lines = try fileLines(harness)

        var deleted = lines
        deleted.remove(at: 10)
        let gap = verify(deleted)
        #expect(!gap.ok && gap.firstProblem?.contains("gap: seq 11…11 missing") == true, "\(gap.firstProblem ?? "")")

        var edited = lines
        edited[20] = edited[20].replacingOccurrences(of: "\"severity\":\"", with: "\"severity\":\"x")
        let altered = verify(edited)
        #expect(altered.firstProblem?.contains("line 21: event seq 21 was altered") == true, "\(altered.firstProblem ?? "")")

        // Two events' contents swapped, their chain values left where they were.
        func split(_ line: String) -> (event: String, link: String) {
            let range = line.range(of: ",\"integrity\":")!
            return (String(line[..<range.lowerBound]), String(line[range.lowerBound...]))
        }
        var swapped = lines
        let (a, b) = (split(lines[5]), split(lines[6]))
        swapped[5] = b.event + a.link
        swapped[6] = a.event + b.link
        #expect(verify(swapped).firstProblem?.contains("was altered") == true)

        // A signature made with another key, under this key's id.
        let other = IntegritySigner(base64: IntegritySigner.generate().signingKey)!
        var forged = lines
        let last = try #require(IntegrityChain.Link(json: try JSONValue.parse(Data(lines[24].utf8))["integrity"]!))
        let fake = other.sign(IntegrityChain.signedMessage(sink: last.sink, source: last.source, seq: last.seq, hash: last.hash))
        forged[24] = lines[24].replacingOccurrences(of: last.signature!, with: fake)
        #expect(verify(forged).firstProblem?.contains("bad signature at seq 25") == true, "\(verify(forged).firstProblem ?? "")")

        // Resent lines (a retry, a crash) and any order: still verified, the duplicates counted.
        let resent = (lines + lines[30..<40]).shuffled()
        let report = verify(resent)
        #expect(report.ok, "\(VerifyMode.text(report))")
        #expect(report.chains.first?.duplicates == 10)

        // The tail after the last signature is not proved: cut the file one event after a signed one.
        let signed = try #require(lines.firstIndex { $0.contains("\"sig\":") })
        #expect(
            verify(Array(lines.prefix(signed + 2))).firstProblem?.contains("seq \(signed + 2)…\(signed + 2) come after the last signature") == true)
        // An unknown key, and an export that starts mid-chain.
        let unknown = VerifyMode(keys: [IntegrityVerifierKey(base64: IntegritySigner.generate().publicKey)!]).verify(
            lines: lines.enumerated().map { ($0.offset + 1, Substring($0.element)) })
        #expect(unknown.firstProblem?.contains("which is not among the --public-key given") == true)
        #expect(!verify(Array(lines.dropFirst(10))).ok)
        #expect(verify(Array(lines.dropFirst(10)), fromSeq: 11).ok)
    }

    /// A resent batch carries exactly the values of the first send: the receiver sees the same
    /// chain position and hash twice.
    @Test func aRetriedBatchCarriesTheSameChainValues() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(8)
        await harness.receiver.faults.enqueue(.status(503), times: 2)
        let integrity = "    integrity: { signing_key: \"\(keys.signingKey)\" }"
        // ECS: the array's events are taken apart and written again below, which ECS survives
        // (its bytes are canonical JSON); a native event is verified from its text as sent.
        let engine = try harness.engine(
            try harness.configuration(webhook: "    batch_size: 4\n    encoding: ecs\n" + integrity), clock: VirtualClock())
        Teardown.add { await engine.shutdown() }
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        let bodies = await harness.receiver.requests().map { String(decoding: $0.body, as: UTF8.self) }
        #expect(bodies.count == 4, "two refused sends of the first batch, then both batches")
        #expect(bodies[0] == bodies[1] && bodies[1] == bodies[2], "a resend is byte for byte the first send")
        let events = bodies.dropFirst(2).flatMap { body in
            ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [[String: Any]] ?? []).map {
                String(decoding: try! JSONSerialization.data(withJSONObject: $0), as: UTF8.self)
            }
        }
        let report = verify(events)
        #expect(report.ok, "\(VerifyMode.text(report))")
    }

    /// Elasticsearch keeps `_source` as sent: an export of hits verifies.
    @Test func elasticsearchHitsVerifyAfterTheRoundTrip() async throws {
        let harness = try await Harness.start()
        let elastic = ElasticsearchEmulator(apiKey: nil)
        let url = try await elastic.start()
        Teardown.add {
            await harness.stop(); await elastic.stop()
        }
        await harness.seed(30)
        let sinks = """
              - { name: es, type: elastic, endpoint: "\(url.absoluteString)", index: audit, integrity: { signing_key: "\(keys.signingKey)" } }
            """
        let engine = try harness.engine(try harness.configuration(file: sinks))
        Teardown.add { await engine.shutdown() }
        #expect(await OnceMode.run(engine: engine, deadline: .seconds(60)) == .complete)
        // As a search export gives them: one hit per line, the document under `_source`.
        let hits = await elastic.documents(index: "audit").map { id, source in #"{"_index":"audit","_id":"\#(id)","_source":\#(source)}"# }
        #expect(hits.count == 30)
        let report = verify(hits)
        #expect(report.ok, "\(VerifyMode.text(report))")
    }

    @Test func keygenAndVerifyThroughTheBinary() async throws {
        let harness = try await Harness.start()
        Teardown.add { await harness.stop() }
        await harness.seed(20)
        let keygen = try await ChildProcess.run(["keygen"], directory: harness.directory)
        let printed = keygen.stdout.split(separator: "\n")
        #expect(printed.count == 2 && printed[0].hasPrefix("signing_key ") && printed[1].hasPrefix("public_key "))
        let signingKey = String(printed[0].dropFirst("signing_key ".count))
        let publicKey = String(printed[1].dropFirst("public_key ".count))
        let config = try harness.writeConfig(file: "    integrity: { signing_key: \"${INTEGRITY_KEY}\" }")
        let env = harness.environment.merging(["INTEGRITY_KEY": signingKey]) { $1 }
        #expect(try await ChildProcess.run(["once", "-c", config], environment: env, directory: harness.directory).status == 0)
        let good = try await ChildProcess.run(["verify", "--public-key", publicKey, harness.filePath], directory: harness.directory)
        #expect(good.status == 0, "\(good.stdout)")
        #expect(good.stdout.contains("OK  sink archive, source deploys: 20 event(s) verified (seq 1…20)"), "\(good.stdout)")
        var lines = try String(contentsOfFile: harness.filePath, encoding: .utf8).split(separator: "\n").map(String.init)
        lines.remove(at: 3)
        try lines.joined(separator: "\n").write(toFile: harness.filePath, atomically: true, encoding: .utf8)
        let bad = try await ChildProcess.run(["verify", "--public-key", publicKey, harness.filePath], directory: harness.directory)
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("NOT verified: archive/deploys: gap: seq 4…4 missing"), "\(bad.stdout)")
        #expect(!(good.stdout + bad.stdout).contains(signingKey))
        // A key that is not base64 Ed25519 is a configuration error naming the key.
        let broken = try await ChildProcess.run(
            ["check", "-c", config], environment: harness.environment.merging(["INTEGRITY_KEY": "nope"]) { $1 }, directory: harness.directory)
        #expect(broken.status == 78 && broken.stderr.contains("sinks[1].integrity.signing_key"), "\(broken.stderr)")
    }
}

@Suite(.awaitedTeardown) struct IntegrityLinkTests {
    /// The hand-written link is exactly what the general JSON writer gives: a verifier that
    /// re-serializes and one that cuts the appended text off agree.
    @Test func theAppendedLinkIsCanonicalJSON() throws {
        for link in [
            IntegrityChain.Link(
                sink: "s-1.a_b", source: "deploys", seq: 42, previous: IntegrityChain.genesis, hash: String(repeating: "ab", count: 32)),
            IntegrityChain.Link(
                sink: "hook", source: "okta", seq: 1, previous: String(repeating: "0f", count: 32), hash: String(repeating: "9c", count: 32),
                signature: "MEUCIQD+/x==", keyID: "a3f09c1d2e4b5a67"),
        ] {
            let parsed = try JSONValue.parse(link.jsonBytes)
            #expect(String(decoding: link.jsonBytes, as: UTF8.self) == String(decoding: try IntegrityChain.canonical(parsed).bytes, as: UTF8.self))
            #expect(IntegrityChain.Link(json: parsed) == link)
        }
    }
}
