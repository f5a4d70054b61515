import Connectors
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
            // Our own writer, not JSONSerialization: its sorted keys compare through the locale,
            // which loaded ICU's data into every agent.
            var object: [String: JSONValue] = ["time": .string(time), "level": .string(level.rawValue), "message": .string(message.description)]
            for (key, value) in merged where object[key] == nil {
                let plain = Self.plain(value)
                if LogKey.numeric.contains(key), case .string(let text) = plain, let number = Int64(text) {
                    object[key] = .integer(number)
                } else {
                    object[key] = plain
                }
            }
            line = String(decoding: JSONValue.object(object).compactText, as: UTF8.self)
        } else {
            let extras = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = "\(time) \(level.rawValue.uppercased()) \(message)" + (extras.isEmpty ? "" : " " + extras)
        }
        Self.write(line + "\n", to: toStandardError ? .standardError : .standardOutput)
    }

    private static func plain(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map(plain))
        case .dictionary(let d): return .object(d.mapValues(plain))
        }
    }

    private static let lock = NSLock()

    private static func write(_ text: String, to handle: FileHandle) {
        lock.withLock { OutputWriter.write(text, to: handle.fileDescriptor) }
    }

    /// UTC with milliseconds, written byte by byte: an `ISO8601DateFormatter` per line loaded
    /// ICU's calendar and time-zone data into every agent (resident memory) and was a large
    /// share of a line's cost.
    private static func timestamp() -> String {
        RFC3339.format(Date())
    }
}
