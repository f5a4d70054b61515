import Foundation

extension WebhookSink {
    /// Only 2xx is success; 410 means the endpoint is gone; 413 splits a batch; 408/429/5xx are
    /// retried; other statuses (including redirects, which are never followed) are refused for good.
    public func classify(_ response: WireResponse, batch: [EncodedEvent]) -> SinkOutcome {
        if response.status == 410 {
            return .gone(status: 410, reason: "webhook endpoint answered 410 Gone")
        }
        if response.status == 413 {
            return .tooLarge(reason: "webhook answered 413 Payload Too Large")
        }
        if (300..<400).contains(response.status) {
            let location = response.header("Location").map { " to \($0)" } ?? ""
            return .rejected(status: response.status, reason: "HTTP \(response.status) redirect\(location) (redirects are not followed)")
        }
        return classifyByStatus(response)
    }
}
