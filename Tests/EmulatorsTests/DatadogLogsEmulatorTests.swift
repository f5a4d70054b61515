import Emulators
import Foundation
import Testing

private let headers = [("DD-API-KEY", "dd-test-key"), ("Content-Type", "application/json")]

private func isoAgo(hours: Double) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: Date(timeIntervalSinceNow: -hours * 3600))
}

private func body(_ entries: [[String: Any]]) throws -> Data {
    try JSONSerialization.data(withJSONObject: entries)
}

@Suite struct DatadogLogsEmulatorTests {
    @Test func acceptsAnArrayAndAnObjectWith202() async throws {
        try await withRunning(DatadogLogsEmulator()) { (dd, url) async throws in
            let entries: [[String: Any]] = [
                ["ddsource": "audit", "ddtags": "env:test,team:sec", "hostname": "h", "message": "one", "service": "fwd"],
                ["message": "two", "timestamp": isoAgo(hours: 1)],
            ]
            let reply = try await send(url, "/api/v2/logs", try body(entries), headers: headers)
            #expect(reply.status == 202)
            #expect(reply.text == "{}")
            let single = try await send(url, "/api/v2/logs", #"{"message":"three"}"#, headers: headers)
            #expect(single.status == 202)
            let logs = await dd.acceptedLogs()
            #expect(logs.map { $0["message"] as? String } == ["one", "two", "three"])
            #expect(logs.first?["ddtags"] as? String == "env:test,team:sec")
        }
    }

    @Test func apiKeyAndContentTypeAreChecked() async throws {
        try await withRunning(DatadogLogsEmulator()) { (dd, url) async throws in
            for key in [nil, "wrong"] as [String?] {
                var sent = [("Content-Type", "application/json")]
                if let key { sent.append(("DD-API-KEY", key)) }
                let reply = try await send(url, "/api/v2/logs", #"[{"message":"x"}]"#, headers: sent)
                #expect(reply.status == 403)
                let error = (reply.json?["errors"] as? [[String: Any]])?.first
                #expect(error?["status"] as? String == "403")
                #expect(error?["title"] as? String == "Forbidden")
                #expect(error?["detail"] as? String == "API key is invalid")
            }
            let plain = try await send(
                url, "/api/v2/logs", #"[{"message":"x"}]"#, headers: [("DD-API-KEY", "dd-test-key"), ("Content-Type", "text/plain")])
            #expect(plain.status == 400)
            let charset = try await send(
                url, "/api/v2/logs", #"[{"message":"x"}]"#,
                headers: [("DD-API-KEY", "dd-test-key"), ("Content-Type", "application/json; charset=utf-8")])
            #expect(charset.status == 202)
            #expect(await dd.acceptedLogs().count == 1)
        }
    }

    @Test func payloadAndCountLimits() async throws {
        try await withRunning(DatadogLogsEmulator()) { (dd, url) async throws in
            // 5 MB + a little, uncompressed: 413 even when it travels gzipped and small.
            let big = Data((#"[{"message":""# + String(repeating: "a", count: 5_000_001) + #""}]"#).utf8)
            #expect(try await send(url, "/api/v2/logs", big, headers: headers).status == 413)
            let zipped = Zlib.compress(big)
            #expect(zipped.count < 100_000)
            #expect(try await send(url, "/api/v2/logs", zipped, headers: headers + [("Content-Encoding", "gzip")]).status == 413)

            let tooMany = try await send(url, "/api/v2/logs", try body(Array(repeating: ["message": "x"], count: 1001)), headers: headers)
            #expect(tooMany.status == 400)
            #expect((tooMany.json?["errors"] as? [[String: Any]])?.first?["detail"] != nil)
            let justRight = try await send(url, "/api/v2/logs", try body(Array(repeating: ["message": "x"], count: 1000)), headers: headers)
            #expect(justRight.status == 202)
            #expect(await dd.acceptedLogs().count == 1000)
        }
    }

    @Test func oversizedEntryIsTruncatedNotRefused() async throws {
        try await withRunning(DatadogLogsEmulator()) { (dd, url) async throws in
            let entry: [String: Any] = ["message": String(repeating: "é\"", count: 700_000), "id": "big"]
            let reply = try await send(url, "/api/v2/logs", try body([entry, ["message": "small"]]), headers: headers)
            #expect(reply.status == 202)
            #expect(await dd.truncatedCount() == 1)
            let logs = await dd.acceptedLogs()
            #expect(logs.count == 2)
            let kept = try #require(logs.first?["message"] as? String)
            #expect(kept.count < 700_000 * 2)
            let size = try JSONSerialization.data(withJSONObject: logs[0]).count
            #expect(size <= DatadogLogsEmulator.maxEntryBytes)
        }
    }

    @Test func staleReservedDatesAreAcceptedThenDropped() async throws {
        try await withRunning(DatadogLogsEmulator()) { (dd, url) async throws in
            let oldMillis = (Date().timeIntervalSince1970 - 19 * 3600) * 1000
            let freshSeconds = Date().timeIntervalSince1970  // epoch seconds read as milliseconds: 1970
            let entries: [[String: Any]] = [
                ["message": "fresh", "timestamp": isoAgo(hours: 17)],
                ["message": "old iso", "@timestamp": isoAgo(hours: 19)],
                ["message": "old ms", "date": oldMillis],
                ["message": "seconds", "timestamp": freshSeconds],
                ["message": #"{"eventTime":"\#(isoAgo(hours: 30))","x":1}"#],
                ["message": "backfill kept", "original_time": isoAgo(hours: 24 * 30)],
                ["message": "old Timestamp", "Timestamp": isoAgo(hours: 20), "timestamp": isoAgo(hours: 1)],
                ["message": "old published", "published_date": isoAgo(hours: 48)],
                ["message": "old _timestamp", "_timestamp": isoAgo(hours: 48)],
            ]
            let reply = try await send(url, "/api/v2/logs", try body(entries), headers: headers)
            #expect(reply.status == 202)
            #expect(await dd.acceptedLogs().map { $0["message"] as? String } == ["fresh", "backfill kept"])
            #expect(await dd.droppedStale().count == 7)
        }
    }

    @Test func gzipAndDeflateBodies() async throws {
        try await withRunning(DatadogLogsEmulator()) { (dd, url) async throws in
            let data = try body([["message": "zipped"]])
            for (format, coding) in [(Zlib.Format.gzip, "gzip"), (.zlib, "deflate"), (.rawDeflate, "deflate")] {
                let reply = try await send(
                    url, "/api/v2/logs", Zlib.compress(data, format: format), headers: headers + [("Content-Encoding", coding)])
                #expect(reply.status == 202, "\(coding)")
            }
            let corrupt = try await send(url, "/api/v2/logs", data, headers: headers + [("Content-Encoding", "gzip")])
            #expect(corrupt.status == 400)
            let brotli = try await send(url, "/api/v2/logs", data, headers: headers + [("Content-Encoding", "br")])
            #expect(brotli.status == 415)
            #expect(await dd.acceptedLogs().count == 3)
        }
    }
}
