import Foundation

/// deploys.app answers expected errors with HTTP 200 too: `{"ok": false, "error": {"message"}}`.
enum DeploysEnvelope {
    /// An item of a page and its own JSON text (nil if it is not valid UTF-8).
    struct Item {
        var json: JSONValue
        var text: Data?
    }

    /// The items of a successful `auditLog.list` answer; throws with the upstream message otherwise.
    static func items(of body: Data) throws -> [Item] {
        let json: JSONValue
        let elements: [JSONParser.Element]
        (json, elements) = try UpstreamPage.parse(body, what: "deploys.app page", elementsAt: ["result", "items"])
        guard case .object(let object) = json else {
            throw SourceError(.malformed, "deploys.app page is a JSON \(json.typeName), not an object: \(MalformedPayload.excerpt(of: body))")
        }
        guard object["ok"] == .bool(true) else {
            let message = errorMessage(json) ?? "unknown error"
            throw SourceError(.upstream, "deploys.app refused the request: \(message)")
        }
        let items = object["result"]?["items"]
        if items?.isNull == true { return [] }
        let array = try UpstreamPage.array(items, at: "result.items", body: body, what: "deploys.app page")
        return zip(array, elements.texts(in: body, count: array.count)).map { Item(json: $0, text: $1) }
    }

    /// `error.message` (plus validation `items`), or a top-level `message`.
    static func errorMessage(_ json: JSONValue) -> String? {
        let error = json["error"]
        guard let message = error?["message"]?.stringValue ?? json["message"]?.stringValue else { return nil }
        let details =
            (error?["items"] ?? json["items"])?.arrayValue?.compactMap { item -> String? in
                item.stringValue ?? (try? String(decoding: JSONEncoder().encode(item), as: UTF8.self))
            } ?? []
        return details.isEmpty ? message : message + " (" + details.joined(separator: "; ") + ")"
    }
}
