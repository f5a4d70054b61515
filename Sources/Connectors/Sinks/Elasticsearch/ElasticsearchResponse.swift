import Foundation

extension ElasticsearchSink {
    /// A non-2xx answer concerns the whole batch: 413 splits it, anything else retries it
    /// (PROTOCOLS.md: "a non-200 response retries the whole batch" — an expired api_key must not
    /// dead-letter everything read until it is fixed; dead letters come from items only). A 2xx answer is read item by item, in request order: < 300 and
    /// 409 (the `create` found it already there) delivered, 429/5xx retried, other 4xx rejected.
    /// An answer that cannot be matched to the batch retries it all (`create` makes that safe).
    public func classify(_ response: WireResponse, batch: [EncodedEvent]) -> SinkOutcome {
        let retryAfter = RetryAfter.parse(response.header("Retry-After"))
        guard (200..<300).contains(response.status) else {
            let detail = Self.errorText(response.body).map { ": " + $0 } ?? RetryAfter.bodyHint(response.body)
            let reason = "Elasticsearch HTTP \(response.status)" + detail
            switch response.status {
            case 413: return .tooLarge(reason: reason)
            case 401, 403: return .retry(after: retryAfter, reason: reason + " (check api_key or username/password)")
            default: return .retry(after: retryAfter, reason: reason)
            }
        }
        // `errors` first, the items stepped over: building one object per event only to learn
        // that all went in was most of reading the answer.
        guard case .bool(let errors)? = try? JSONParser.member("errors", of: response.body) else {
            return .retry(after: retryAfter, reason: "unreadable bulk response" + RetryAfter.bodyHint(response.body))
        }
        guard errors else { return .delivered }
        guard let answer = (try? JSONValue.parse(response.body))?.objectValue, let items = answer["items"]?.arrayValue, items.count == batch.count
        else {
            return .retry(after: retryAfter, reason: "bulk response items do not match the \(batch.count) events sent")
        }
        var retry: [Int] = []
        var rejected: [SinkOutcome.Rejection] = []
        for (index, item) in items.enumerated() {
            // `{"create": {"status": 201, …}}`: one key, the action.
            guard let result = item.objectValue?.values.first, let status = result["status"].flatMap(Self.integer) else {
                retry.append(index)
                continue
            }
            switch status {
            case 0..<300, 409: continue
            case 429, 500...599: retry.append(index)
            default: rejected.append(.init(index: index, status: status, reason: Self.errorText(item: result) ?? "HTTP \(status)"))
            }
        }
        if retry.isEmpty && rejected.isEmpty { return .delivered }
        return .partial(retry: retry, rejected: rejected, retryAfter: retry.isEmpty ? nil : retryAfter)
    }

    /// `type: reason` of an item's `error`.
    static func errorText(item: JSONValue) -> String? {
        guard let error = item["error"] else { return nil }
        let type = error["type"]?.stringValue
        let reason = error["reason"]?.stringValue ?? error.stringValue
        switch (type, reason) {
        case let (type?, reason?): return type + ": " + reason
        case let (type?, nil): return type
        case let (nil, reason?): return reason
        default: return nil
        }
    }

    /// `type: reason` of a whole-request error `{"error": {"type", "reason"}, "status"}`.
    static func errorText(_ body: Data) -> String? {
        (try? JSONValue.parse(body)).flatMap { errorText(item: $0) }
    }

    static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case .integer(let number): Int(exactly: number)
        case .double(let number): Int(exactly: number)
        default: nil
        }
    }
}
