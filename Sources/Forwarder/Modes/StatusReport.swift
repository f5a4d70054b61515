import Checkpoint
import Connectors
import Foundation

/// What `status` shows: per source the cursor and its lag, per sink the backlog and dead letters.
public struct StatusReport: Sendable {
    public struct Source: Sendable, Codable {
        public var name: String
        public var cursor: String?
        public var lagSeconds: Double?
        public var lastSuccess: String?
        public var lastError: String?
        public var lastErrorAt: String?
    }

    public struct Sink: Sendable, Codable {
        public var name: String
        public var pending: Int64
        public var oldestPendingAgeSeconds: Double?
        public var deadLetters: Int
        public var lastError: String?
    }

    public struct Backfill: Sendable, Codable {
        public var id: Int64
        public var source: String
        public var from: String
        public var to: String
        public var done: Double
        public var events: Int
        public var finished: Bool
    }

    public var sources: [Source]
    public var sinks: [Sink]
    public var backfills: [Backfill] = []

    public static func make(configuration: ForwarderConfiguration, store: StateStore, now: Date = Date()) throws -> StatusReport {
        let sourceStates = try store.sourceStates()
        let sinkStates = try store.sinkStates()
        let sources = configuration.sources.map { source -> Source in
            let state = sourceStates.first { $0.source == source.name }
            let cursor = state?.position.flatMap(RFC3339.parse)
            return Source(
                name: source.name, cursor: state?.position, lagSeconds: cursor.map { max(0, now.timeIntervalSince($0)) },
                lastSuccess: state?.lastSuccess.map(RFC3339.format), lastError: state?.lastError,
                lastErrorAt: state?.lastErrorAt.map(RFC3339.format))
        }
        let sinks = configuration.sinks.map { sink -> Sink in
            let state = sinkStates.first { $0.sink == sink.name }
            return Sink(
                name: sink.name, pending: state?.pending ?? 0,
                oldestPendingAgeSeconds: state?.oldestPendingSpooledAt.map { max(0, now.timeIntervalSince($0)) },
                deadLetters: state?.deadLetters ?? 0, lastError: state?.lastError)
        }
        let backfills = try store.backfillJobs().map { job in
            Backfill(
                id: job.id, source: job.source, from: RFC3339.format(job.rangeStart), to: RFC3339.format(job.rangeEnd),
                done: (job.progress * 1000).rounded() / 1000, events: job.events, finished: job.finishedAt != nil)
        }
        return StatusReport(sources: sources, sinks: sinks, backfills: backfills)
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        struct Document: Codable {
            var sources: [Source]
            var sinks: [Sink]
            var backfills: [Backfill]
        }
        return String(decoding: (try? encoder.encode(Document(sources: sources, sinks: sinks, backfills: backfills))) ?? Data(), as: UTF8.self)
    }

    public var text: String {
        var lines = ["SOURCE\tCURSOR\tLAG\tLAST SUCCESS\tLAST ERROR"]
        for s in sources {
            lines.append(
                "\(s.name)\t\(s.cursor ?? "-")\t\(s.lagSeconds.map(Self.age) ?? "-")\t\(s.lastSuccess ?? "-")\t\(s.lastError ?? "-")")
        }
        lines.append("")
        lines.append("SINK\tPENDING\tOLDEST PENDING\tDEAD LETTERS\tLAST ERROR")
        for s in sinks {
            lines.append("\(s.name)\t\(s.pending)\t\(s.oldestPendingAgeSeconds.map(Self.age) ?? "-")\t\(s.deadLetters)\t\(s.lastError ?? "-")")
        }
        if !backfills.isEmpty {
            lines.append("")
            lines.append("BACKFILL\tSOURCE\tRANGE\tDONE\tEVENTS\tSTATE")
            for b in backfills {
                lines.append("\(b.id)\t\(b.source)\t\(b.from) .. \(b.to)\t\(Int(b.done * 100))%\t\(b.events)\t\(b.finished ? "done" : "interrupted (--resume \(b.id))")")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func age(_ seconds: Double) -> String {
        switch seconds {
        case ..<120: "\(Int(seconds))s"
        case ..<7200: "\(Int(seconds / 60))m"
        case ..<172_800: "\(Int(seconds / 3600))h"
        default: "\(Int(seconds / 86400))d"
        }
    }
}
