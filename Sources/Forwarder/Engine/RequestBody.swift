import AsyncHTTPClient
import Foundation
import NIOCore

/// A request body handed to AsyncHTTPClient in pieces. Given a whole `Data` under 4 MiB, the client
/// copies it into one buffer of its own: for a sink's batch that is a fresh allocation of about a
/// megabyte per request, above the allocator's mmap threshold, so every page of it faulted in anew
/// and was given back after. Pieces of 64 KiB come from memory the allocator keeps and reuses.
enum RequestBody {
    static let pieceBytes = 64 << 10
    /// At most this many pieces: a larger body takes larger ones, so the chain of writes below,
    /// which may complete one inside the other, stays shallow whatever `max_batch_bytes` allows.
    static let maxPieces = 64

    static func make(_ data: Data) -> HTTPClient.Body {
        guard data.count > pieceBytes else { return .bytes(data) }
        let size = max(pieceBytes, (data.count + maxPieces - 1) / maxPieces)
        return .stream(contentLength: Int64(data.count)) { writer in
            // One piece after the other: written all at once, every piece would wait in memory together.
            @Sendable func write(from start: Data.Index) -> EventLoopFuture<Void> {
                let end = min(start + size, data.endIndex)
                let written = writer.write(.byteBuffer(ByteBuffer(bytes: data[start..<end])))
                guard end < data.endIndex else { return written }
                return written.flatMap { write(from: end) }
            }
            return write(from: data.startIndex)
        }
    }
}
