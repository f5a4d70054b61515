import CNIOExtrasZlib
import Foundation

/// gzip / zlib / raw deflate over the zlib that swift-nio-extras vendors (its symbols are
/// prefixed `cnioextras_z_`), so request bodies can be inflated without Foundation support
/// on Linux. Public so tests can build compressed bodies and read compressed recordings.
public enum Zlib {
    public enum Format: Sendable {
        /// RFC 1952, `Content-Encoding: gzip`.
        case gzip
        /// RFC 1950, what HTTP `Content-Encoding: deflate` means.
        case zlib
        /// RFC 1951 without a wrapper, what many clients send as "deflate" anyway.
        case rawDeflate

        fileprivate var windowBits: Int32 {
            switch self {
            case .gzip: 15 + 16
            case .zlib: 15
            case .rawDeflate: -15
            }
        }
    }

    public enum Failure: Error, Equatable, Sendable {
        /// Not valid data of the format, or cut short.
        case corrupt
        /// Inflating would exceed the limit: the caller answers 413 rather than buffering a bomb.
        case tooLarge
    }

    /// Inflates one whole stream; bytes after its end are `corrupt`.
    public static func decompress(_ data: Data, format: Format, limit: Int = .max) throws(Failure) -> Data {
        // zlib keeps a pointer back to its stream: the stream must not move, hence the allocation.
        let stream = UnsafeMutablePointer<cnioextras_z_stream>.allocate(capacity: 1)
        stream.initialize(to: cnioextras_z_stream())
        defer { stream.deallocate() }
        guard CNIOExtrasZlib_inflateInit2(stream, format.windowBits) == CNIOEXTRAS_Z_OK else { throw .corrupt }
        defer { cnioextras_z_inflateEnd(stream) }

        var input = [UInt8](data)
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        let rc: Int32 = input.withUnsafeMutableBufferPointer { inBuffer in
            stream.pointee.next_in = inBuffer.baseAddress
            stream.pointee.avail_in = UInt32(inBuffer.count)
            while true {
                let code: Int32 = chunk.withUnsafeMutableBufferPointer { outBuffer in
                    stream.pointee.next_out = outBuffer.baseAddress
                    stream.pointee.avail_out = UInt32(outBuffer.count)
                    return cnioextras_z_inflate(stream, CNIOEXTRAS_Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.pointee.avail_out)
                if output.count + produced > limit { return CNIOEXTRAS_Z_MEM_ERROR }
                output.append(contentsOf: chunk[0..<produced])
                // Stop at the end, on an error, or when input ran out without filling the chunk (cut short).
                if code != CNIOEXTRAS_Z_OK || (stream.pointee.avail_in == 0 && produced < chunk.count) { return code }
            }
        }
        if rc == CNIOEXTRAS_Z_MEM_ERROR { throw .tooLarge }
        guard rc == CNIOEXTRAS_Z_STREAM_END, stream.pointee.avail_in == 0 else { throw .corrupt }
        return output
    }

    /// Deflates `data` in one go at the default level.
    public static func compress(_ data: Data, format: Format = .gzip) -> Data {
        let stream = UnsafeMutablePointer<cnioextras_z_stream>.allocate(capacity: 1)
        stream.initialize(to: cnioextras_z_stream())
        defer { stream.deallocate() }
        let rc = CNIOExtrasZlib_deflateInit2(
            stream, CNIOEXTRAS_Z_DEFAULT_COMPRESSION, CNIOEXTRAS_Z_DEFLATED, format.windowBits, 8, CNIOEXTRAS_Z_DEFAULT_STRATEGY)
        precondition(rc == CNIOEXTRAS_Z_OK, "deflateInit2 failed: \(rc)")
        defer { cnioextras_z_deflateEnd(stream) }

        var input = [UInt8](data)
        var output = [UInt8](repeating: 0, count: Int(cnioextras_z_deflateBound(stream, .init(input.count))) + 64)
        let written: Int = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.pointee.next_in = inBuffer.baseAddress
                stream.pointee.avail_in = UInt32(inBuffer.count)
                stream.pointee.next_out = outBuffer.baseAddress
                stream.pointee.avail_out = UInt32(outBuffer.count)
                let code = cnioextras_z_deflate(stream, CNIOEXTRAS_Z_FINISH)
                precondition(code == CNIOEXTRAS_Z_STREAM_END, "deflate did not finish: \(code)")
                return outBuffer.count - Int(stream.pointee.avail_out)
            }
        }
        return Data(output[0..<written])
    }
}
