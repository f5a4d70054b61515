import Crypto
import Foundation

extension AuditEvent {
    /// The stable event id: lowercase hex sha256 of `source name`, a NUL, and the upstream id.
    /// The same upstream entry fetched twice (overlap, restart, backfill) gets the same id,
    /// which sinks use for idempotency (`_id`, `webhook-id`).
    public static func stableID(sourceName: String, upstreamID: String) -> String {
        var bytes = Data(sourceName.utf8)
        bytes.append(0)
        bytes.append(contentsOf: upstreamID.utf8)
        return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
