import Emulators
import Foundation

/// A parsed reply from an emulator.
struct Reply {
    var status: Int
    var headers: [(String, String)]
    var body: Data

    /// The body as a JSON object, or nil.
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var ok: Bool? { json?["ok"] as? Bool }

    var errorMessage: String? { (json?["error"] as? [String: Any])?["message"] as? String }

    var errorItems: [String]? { (json?["error"] as? [String: Any])?["items"] as? [String] }

    var items: [[String: Any]] {
        ((json?["result"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []
    }

    /// The `id` of each returned item, in order.
    var ids: [Int64] { items.compactMap { ($0["id"] as? NSNumber)?.int64Value } }
}

/// Sends `POST {base}/auditLog.list` with a JSON body, as a deploys client would.
func postJSON(
    _ base: URL,
    _ body: [String: Any],
    token: String? = "deploys-test-token",
    headers: [(String, String)] = []
) async throws -> Reply {
    try await postJSON(base, "/auditLog.list", body, token: token, headers: headers)
}

/// Sends `POST {base}{path}` with a JSON body.
func postJSON(
    _ base: URL,
    _ path: String,
    _ body: [String: Any],
    token: String? = "deploys-test-token",
    headers: [(String, String)] = []
) async throws -> Reply {
    let data = try JSONSerialization.data(withJSONObject: body)
    return try await post(base, path, data, token: token, headers: headers)
}

func post(
    _ base: URL,
    _ path: String,
    _ body: Data,
    token: String? = nil,
    headers: [(String, String)] = [],
    method: String = "POST"
) async throws -> Reply {
    var all = headers + [("Content-Type", "application/json")]
    if let token { all.append(("Authorization", "Bearer \(token)")) }
    let url = URL(string: base.absoluteString + path)!
    let (status, replyHeaders, replyBody) = try await EmulatorHTTPClient.send(method: method, url: url, headers: all, body: body)
    return Reply(status: status, headers: replyHeaders, body: replyBody)
}

/// 2026-05-01T10:00:00Z plus `seconds`.
func at(_ seconds: Double) -> Date {
    Date(timeIntervalSince1970: 1_777_629_600 + seconds)
}

/// Every emulator starts on a free port and stops; the tests treat them alike.
protocol RunnableEmulator: Sendable {
    func start() async throws -> URL
    func stop() async
}

extension DeploysEmulator: RunnableEmulator {}
extension WebhookReceiver: RunnableEmulator {}
extension DeepIntShieldEmulator: RunnableEmulator {}
extension LogfireEmulator: RunnableEmulator {}
extension PagedJSONEmulator: RunnableEmulator {}
extension SplunkHECEmulator: RunnableEmulator {}
extension DatadogLogsEmulator: RunnableEmulator {}
extension ElasticsearchEmulator: RunnableEmulator {}

/// Runs `body` against a started emulator and always stops it.
func withRunning<E: RunnableEmulator>(_ emulator: E, _ body: (E, URL) async throws -> Void) async throws {
    let url = try await emulator.start()
    do {
        try await body(emulator, url)
        await emulator.stop()
    } catch {
        await emulator.stop()
        throw error
    }
}

func withDeploys(
    _ emulator: DeploysEmulator = DeploysEmulator(),
    _ body: (DeploysEmulator, URL) async throws -> Void
) async throws {
    try await withRunning(emulator, body)
}

func withWebhook(
    _ receiver: WebhookReceiver = WebhookReceiver(),
    _ body: (WebhookReceiver, URL) async throws -> Void
) async throws {
    try await withRunning(receiver, body)
}
