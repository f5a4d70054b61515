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
        return hex(SHA256.hash(data: bytes))
    }

    /// Lowercase hex, without `String(format:)` (which went through CoreFoundation per byte).
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var characters: [UInt8] = []
        characters.reserveCapacity(64)
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
