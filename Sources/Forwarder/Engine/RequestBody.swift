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
        #if DEBUG
            // Debug builds of SwiftNIO trap on a promise freed unfulfilled, and AsyncHTTPClient
            // drops the one a paused write waits on when the request fails meanwhile (a timeout, a
            // reset): freed quietly in a release build, a crash in a debug test against a sink that
            // stops reading. Debug builds hand the body over whole, as before; `pieces(of:)` is
            // tested on its own, and the benchmark runs the release path.
            return .bytes(data)
        #else
            let pieces = pieces(of: data.count)
            guard pieces.count > 1 else { return .bytes(data) }
            return .stream(contentLength: Int64(data.count)) { writer in
                // One piece after the other: written all at once, every piece would wait in memory together.
                @Sendable func write(_ index: Int) -> EventLoopFuture<Void> {
                    let range = pieces[index]
                    let piece = data[(data.startIndex + range.lowerBound)..<(data.startIndex + range.upperBound)]
                    let written = writer.write(.byteBuffer(ByteBuffer(bytes: piece)))
                    guard index + 1 < pieces.count else { return written }
                    return written.flatMap { write(index + 1) }
                }
                return write(0)
            }
        #endif
    }

    /// Where a body of `count` bytes is cut: one piece up to `pieceBytes`, else pieces of
    /// `pieceBytes`, or larger ones so that there are at most `maxPieces`.
    static func pieces(of count: Int) -> [Range<Int>] {
        guard count > pieceBytes else { return [0..<count] }
        let size = max(pieceBytes, (count + maxPieces - 1) / maxPieces)
        return stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
    }
}
