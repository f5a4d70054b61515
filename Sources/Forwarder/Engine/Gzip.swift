import CompressNIO
import Foundation
import NIOCore

/// gzip for request bodies (`compression: gzip`), through compress-nio (zlib).
enum Gzip {
    static func compress(_ data: Data) throws -> Data {
        var buffer = ByteBuffer(bytes: data)
        let compressed = try buffer.compress(with: .gzip())
        return Data(compressed.readableBytesView)
    }
}
