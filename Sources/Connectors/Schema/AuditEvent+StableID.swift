import Crypto
import Foundation

extension AuditEvent {
    /// The stable event id: lowercase hex sha256 of `source name`, a NUL, and the upstream id.
    /// The same upstream entry fetched twice (overlap, restart, backfill) gets the same id,
    /// which sinks use for idempotency (`_id`, `webhook-id`).
    ///
    /// Hashed straight from the strings' bytes: joining them in a `Data` first, and building the
    /// hex digit by digit in an array, was a quarter of normalizing an event.
    public static func stableID(sourceName: String, upstreamID: String) -> String {
        var hasher = SHA256()
        var (name, id) = (sourceName, upstreamID)
        name.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
        id.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return hasher.finalize().withUnsafeBytes(hex(raw:))
    }

    /// Lowercase hex, without `String(format:)` (which went through CoreFoundation per byte).
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Array(bytes).withUnsafeBytes(hex(raw:))
    }

    private static func hex(raw bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { output in
            for (index, byte) in bytes.enumerated() {
                output[2 * index] = hexDigits[Int(byte >> 4)]
                output[2 * index + 1] = hexDigits[Int(byte & 0x0f)]
            }
            return bytes.count * 2
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
