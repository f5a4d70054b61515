import Foundation

/// Writes text to stdout or stderr without ever stopping the process: a closed pipe
/// (`once | head -1`), a full disk under a redirected log or a hung-up terminal lose the text,
/// not the forwarder (Foundation's `FileHandle.write` traps on EPIPE). The state is what matters.
public enum OutputWriter {
    public static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, base + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0, errno == EINTR {
                    continue
                } else {
                    return  // EPIPE, ENOSPC, EIO: the text is lost, the forwarder goes on.
                }
            }
        }
    }
}
