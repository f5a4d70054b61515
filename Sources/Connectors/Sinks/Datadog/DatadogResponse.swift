import Foundation

extension DatadogSink {
    /// 2xx delivered; 413 (or a 400 for more entries than an array may hold) split the batch;
    /// 408/429/5xx retried with Retry-After; other answers (400/401/403) reject the batch.
    public func classify(_ response: WireResponse, batch: [EncodedEvent]) -> SinkOutcome {
        let detail = Self.errorDetail(response.body).map { ": " + $0 } ?? RetryAfter.bodyHint(response.body)
        let reason = "Datadog HTTP \(response.status)" + detail
        switch response.status {
        case 200..<300 where !response.body.isEmpty && (try? JSONValue.parse(response.body)) == nil:
            // The intake answers `{}`: an HTML 200 comes from something else (a proxy, a wrong
            // endpoint), and the entries are not known to have arrived. Sent again, never counted.
            return .retry(after: nil, reason: "Datadog HTTP \(response.status) that is not an intake answer" + RetryAfter.bodyHint(response.body))
        case 200..<300:
            return .delivered
        case 413:
            return .tooLarge(reason: reason)
        case 400 where batch.count > Self.maxEntries:
            return .tooLarge(reason: reason + " (\(batch.count) entries; at most \(Self.maxEntries) per request)")
        case 408, 429, 500...599:
            return .retry(after: RetryAfter.parse(response.header("Retry-After")), reason: reason)
        case 401, 403:
            return .rejected(status: response.status, reason: reason + " (check api_key)")
        default:
            return .rejected(status: response.status, reason: reason)
        }
    }

    /// The `detail` (else `title`) of `{"errors":[{"detail","status","title"}]}`; older answers
    /// list plain strings. Nil when the body has neither.
    static func errorDetail(_ body: Data) -> String? {
        guard let errors = (try? JSONValue.parse(body))?["errors"]?.arrayValue else { return nil }
        let texts = errors.compactMap { $0.stringValue ?? $0["detail"]?.stringValue ?? $0["title"]?.stringValue }
        return texts.isEmpty ? nil : texts.joined(separator: "; ")
    }
}
