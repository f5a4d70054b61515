import Foundation
import Logging

/// A swift-log handler that keeps every line, so a test can assert that a fault was *reported*
/// (a warning or error naming the problem), not only survived.
final class LogRecorder: @unchecked Sendable {
    struct Line: CustomStringConvertible {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
        var description: String {
            "\(level) \(message) " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    private let lock = NSLock()
    private var kept: [Line] = []

    var lines: [Line] { lock.withLock { kept } }

    /// A logger at `trace` whose every line lands here.
    var logger: Logger {
        var logger = Logger(label: "recorded") { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: Line) { lock.withLock { kept.append(line) } }

    /// Warnings and worse whose text (message and metadata) contains `text`.
    func problems(containing text: String) -> [Line] {
        lines.filter { $0.level >= .warning && $0.description.contains(text) }
    }

    /// Everything logged, one line each (for failure messages).
    var text: String { lines.map(\.description).joined(separator: "\n") }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            if let explicit = event.metadata { merged.merge(explicit) { $1 } }
            recorder.append(Line(level: event.level, message: event.message.description, metadata: merged.mapValues { "\($0)" }))
        }
    }
}
