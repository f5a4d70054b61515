import Foundation

/// The keys of a `type: file` sink entry (see docs/configuration.md), read into its connector.
extension FileSink {
    /// The file sink's own keys: `path`, `rotate`, `mode`.
    public static func read(_ reader: any ConfigurationKeys, name: String) -> FileSink? {
        let rotation = reader.section("rotate").map(Self.readRotation)
        let mode = readFileMode(reader)
        return reader.requiredString("path").map { FileSink(name: name, path: $0, rotation: rotation, mode: mode) }
    }

    /// `rotate: { max_bytes, keep }`: a new file once the current one would pass max_bytes.
    private static func readRotation(_ reader: any ConfigurationKeys) -> Rotation {
        defer { reader.rejectUnknownKeys() }
        return Self.Rotation(
            maxBytes: reader.int("max_bytes", default: 100 << 20, range: 4096...(1 << 40)),
            keep: reader.int("keep", default: 5, range: 1...1000))
    }

    /// `mode: "0640"`: the permission bits of the files the sink creates. Owner read and write
    /// are required, execute bits and writing by others are refused. Default 0600.
    private static func readFileMode(_ reader: any ConfigurationKeys) -> mode_t {
        guard let text = reader.string("mode") else { return Self.defaultMode }
        guard (3...4).contains(text.count), let bits = UInt16(text, radix: 8), bits <= 0o777 else {
            reader.fail("mode", "must be octal permission bits like \"0600\" or \"0640\", got \"\(text)\"")
            return Self.defaultMode
        }
        guard bits & 0o600 == 0o600, bits & 0o133 == 0 else {
            reader.fail("mode", "must let the owner read and write, and give no one execute or others write (e.g. 0600, 0640, 0644)")
            return Self.defaultMode
        }
        return mode_t(bits)
    }
}
