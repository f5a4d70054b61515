import Emulators
import Foundation

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
