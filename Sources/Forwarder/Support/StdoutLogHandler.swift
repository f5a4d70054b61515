import Foundation
import Logging

/// One line per log event on stdout: a JSON object (`time`, `level`, `message`, metadata keys),
/// journald- and jq-friendly; or plain text for people.
public struct StdoutLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String
    let json: Bool
    /// Commands whose stdout is their result (dry-run, status) log to stderr instead.
    let toStandardError: Bool

    public init(label: String, level: Logger.Level, json: Bool, toStandardError: Bool = false) {
        self.label = label
        self.logLevel = level
        self.json = json
        self.toStandardError = toStandardError
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        var merged = metadata
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if let error = event.error, merged["error"] == nil { merged["error"] = "\(error)" }
        let time = Self.timestamp()
        let line: String
        if json {
            var object: [String: Any] = ["time": time, "level": level.rawValue, "message": message.description]
            for (key, value) in merged where object[key] == nil {
                let plain = Self.plain(value)
                if LogKey.numeric.contains(key), let text = plain as? String, let number = Int64(text) {
                    object[key] = NSNumber(value: number)
                } else {
                    object[key] = plain
                }
            }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            let extras = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = "\(time) \(level.rawValue.uppercased()) \(message)" + (extras.isEmpty ? "" : " " + extras)
        }
        Self.write(line + "\n", to: toStandardError ? .standardError : .standardOutput)
    }

    private static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let a): return a.map(plain)
        case .dictionary(let d): return d.mapValues(plain)
        }
    }

    private static let lock = NSLock()

    private static func write(_ text: String, to handle: FileHandle) {
        lock.withLock { OutputWriter.write(text, to: handle.fileDescriptor) }
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
