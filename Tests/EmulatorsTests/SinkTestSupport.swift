import Emulators
import Foundation

/// The sink emulators share a lifecycle; this lets one helper start and always stop them.
protocol StartStopEmulator: Sendable {
    func start() async throws -> URL
    func stop() async
}

extension SplunkHECEmulator: StartStopEmulator {}
extension DatadogLogsEmulator: StartStopEmulator {}
extension ElasticsearchEmulator: StartStopEmulator {}

func withSink<E: StartStopEmulator>(_ emulator: E, _ body: (E, URL) async throws -> Void) async throws {
    let url = try await emulator.start()
    do {
        try await body(emulator, url)
        await emulator.stop()
    } catch {
        await emulator.stop()
        throw error
    }
}

/// Sends exactly the given headers (no implied Content-Type or auth).
func send(
    _ base: URL,
    _ path: String,
    _ body: String = "",
    method: String = "POST",
    headers: [(String, String)] = []
) async throws -> Reply {
    try await send(base, path, Data(body.utf8), method: method, headers: headers)
}

func send(
    _ base: URL,
    _ path: String,
    _ body: Data,
    method: String = "POST",
    headers: [(String, String)] = []
) async throws -> Reply {
    let url = URL(string: base.absoluteString + path)!
    let (status, replyHeaders, replyBody) = try await EmulatorHTTPClient.send(method: method, url: url, headers: headers, body: body)
    return Reply(status: status, headers: replyHeaders, body: replyBody)
}

extension Reply {
    /// HEC's `code`.
    var hecCode: Int? { json?["code"] as? Int }
    // `text` (the body as UTF-8) is in UpstreamTestSupport.swift.
}
