import Foundation

extension SplunkHECSink {
    /// Codes that name the one bad event (`invalid-event-number`); the events before it were indexed.
    static let eventCodes: Set<Int> = [6, 12, 13, 15]

    /// 200 delivered; 408/429/500/503 retried (Retry-After honoured); a 400 naming one bad event
    /// rejects that event and retries the ones after it; other 400/401/403 reject the batch.
    public func classify(_ response: WireResponse, batch: [EncodedEvent]) -> SinkOutcome {
        let reply = SplunkHECReply(response.body)
        let reason = reply?.summary ?? "HTTP \(response.status)" + RetryAfter.bodyHint(response.body)
        switch response.status {
        case 200..<300 where reply == nil && !response.body.isEmpty:
            // HEC always answers JSON: an HTML 200 is a proxy or Splunk Web (a wrong port), and
            // the events are not known to have arrived. Sent again (at least once), never counted.
            return .retry(after: nil, reason: "HTTP \(response.status) that is not a HEC answer" + RetryAfter.bodyHint(response.body))
        case 200..<300:
            return .delivered
        case 408, 429, 500, 503:
            return .retry(after: RetryAfter.parse(response.header("Retry-After")), reason: reason)
        case 400:
            if let reply, let code = reply.code, Self.eventCodes.contains(code), let bad = reply.invalidEventNumber,
                batch.indices.contains(bad)
            {
                return .partial(
                    retry: Array((bad + 1)..<batch.count),
                    rejected: [.init(index: bad, status: 400, reason: reason + " (event \(bad) of the batch)")],
                    retryAfter: nil)
            }
            return .rejected(status: 400, reason: reason)
        case 401, 403:
            return .rejected(status: response.status, reason: reason + " (check hec_token)")
        case 413:
            // Over max_content_length (1 MB on older Splunk): the halves go on their own.
            return .tooLarge(reason: reason)
        default:
            return classifyByStatus(response)
        }
    }

    /// The `ackId` of a successful answer when the token has acknowledgement on.
    public func ackID(in response: WireResponse) -> Int? {
        guard (200..<300).contains(response.status) else { return nil }
        return SplunkHECReply(response.body)?.ackID
    }

    /// `{"acks":{"0":true,"1":false}}` → `[0: true, 1: false]`; nil for anything else. A `true`
    /// is reported once only: the caller must remember it.
    public func indexedAcks(in response: WireResponse) -> [Int: Bool]? {
        Self.parseAcks(response)
    }

    public static func parseAcks(_ response: WireResponse) -> [Int: Bool]? {
        guard (200..<300).contains(response.status), let acks = (try? JSONValue.parse(response.body))?["acks"]?.objectValue
        else { return nil }
        var result: [Int: Bool] = [:]
        for (key, value) in acks {
            guard let id = Int(key), case .bool(let indexed) = value else { return nil }
            result[id] = indexed
        }
        return result
    }
}
