import Checkpoint
import Connectors
import Foundation

/// What `status` shows: per source the cursor and its lag, per sink the backlog and dead letters.
public struct StatusReport: Sendable {
    public struct Source: Sendable, Codable {
        public var name: String
        public var cursor: String?
        public var lagSeconds: Double?
        /// How far the cursor is ahead of now (a mistaken `checkpoints set`): the source fetches
        /// nothing until the clock passes it. nil when it is not ahead.
        public var aheadSeconds: Double?
        public var lastSuccess: String?
        public var lastError: String?
        public var lastErrorAt: String?
        /// On a shared (PostgreSQL) state: the agent leasing the source, the lease's epoch and
        /// when it runs out unless renewed.
        public var owner: String?
        public var epoch: Int64?
        public var leaseExpiresAt: String?
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
    /// On a shared state: every agent with its last heartbeat.
    public var agents: [Agent]?

    public struct Agent: Sendable, Codable {
        public var name: String
        public var lastHeartbeat: String
    }

    public static func make(configuration: ForwarderConfiguration, store: any StateBackend, now: Date = Date()) throws -> StatusReport {
        let sourceStates = try store.sourceStates()
        let sinkStates = try store.sinkStates()
        let sources = configuration.sources.map { source -> Source in
            let state = sourceStates.first { $0.source == source.name }
            let cursor = state?.position.flatMap(RFC3339.parse)
            let ahead = cursor.map { $0.timeIntervalSince(now) }.flatMap { $0 > Self.aheadTolerance ? $0 : nil }
            return Source(
                name: source.name, cursor: state?.position, lagSeconds: cursor.map { max(0, now.timeIntervalSince($0)) }, aheadSeconds: ahead,
                lastSuccess: state?.lastSuccess.map(RFC3339.format), lastError: state?.lastError,
                lastErrorAt: state?.lastErrorAt.map(RFC3339.format))
        }
        let sinks = try configuration.sinks.map { sink -> Sink in
            let state = sinkStates.first { $0.sink == sink.name }
            var lastError = state?.lastError
            // Deliveries since clear the error; the dead letters still want explaining.
            if lastError == nil, let count = state?.deadLetters, count > 0, let newest = try store.newestDeadLetter(sink: sink.name) {
                lastError = "\(count) dead letter(s); the newest: \(newest.reason)"
            }
            return Sink(
                name: sink.name, pending: state?.pending ?? 0,
                oldestPendingAgeSeconds: state?.oldestPendingSpooledAt.map { max(0, now.timeIntervalSince($0)) },
                deadLetters: state?.deadLetters ?? 0, lastError: lastError)
        }
        let backfills = try store.backfillJobs().map { job in
            Backfill(
                id: job.id, source: job.source, from: RFC3339.format(job.rangeStart), to: RFC3339.format(job.rangeEnd),
                done: (job.progress * 1000).rounded() / 1000, events: job.events, finished: job.finishedAt != nil)
        }
        var report = StatusReport(sources: sources, sinks: sinks, backfills: backfills)
        if let shared = store as? PostgresStateStore {
            let leases = try shared.sourceLeases()
            for index in report.sources.indices {
                guard let lease = leases.first(where: { $0.source == report.sources[index].name }) else { continue }
                report.sources[index].owner = lease.expiresAt > now ? lease.owner : nil
                report.sources[index].epoch = lease.epoch
                report.sources[index].leaseExpiresAt = lease.expiresAt.timeIntervalSince1970.isFinite ? RFC3339.format(lease.expiresAt) : nil
            }
            report.agents = try shared.agents().map { Agent(name: $0.name, lastHeartbeat: RFC3339.format($0.heartbeatAt)) }
        }
        return report
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        struct Document: Codable {
            var sources: [Source]
            var sinks: [Sink]
            var backfills: [Backfill]
            var agents: [Agent]?
        }
        let document = Document(sources: sources, sinks: sinks, backfills: backfills, agents: agents)
        return String(decoding: (try? encoder.encode(document)) ?? Data(), as: UTF8.self)
    }

    /// A cursor up to this far ahead is clock skew between machines, not a mistake.
    static let aheadTolerance: TimeInterval = 60

    public var text: String {
        var sections = [
            Self.table(
                ["SOURCE", "CURSOR", "LAG", "LAST SUCCESS", "LAST ERROR"],
                sources.map { s in
                    let lag = s.aheadSeconds.map { "AHEAD \(Self.age($0)) (fetches nothing until then)" } ?? s.lagSeconds.map(Self.age) ?? "-"
                    return [s.name, s.cursor ?? "-", lag, s.lastSuccess ?? "-", s.lastError ?? "-"]
                }),
            Self.table(
                ["SINK", "PENDING", "OLDEST PENDING", "DEAD LETTERS", "LAST ERROR"],
                sinks.map { s in
                    [s.name, "\(s.pending)", s.oldestPendingAgeSeconds.map(Self.age) ?? "-", "\(s.deadLetters)", s.lastError ?? "-"]
                }),
        ]
        if let agents {
            sections.append(
                Self.table(
                    ["SOURCE", "OWNER", "EPOCH", "LEASE EXPIRES"],
                    sources.map { [$0.name, $0.owner ?? "(none)", $0.epoch.map(String.init) ?? "-", $0.leaseExpiresAt ?? "-"] }))
            sections.append(Self.table(["AGENT", "LAST HEARTBEAT"], agents.map { [$0.name, $0.lastHeartbeat] }))
        }
        if !backfills.isEmpty {
            sections.append(
                Self.table(
                    ["BACKFILL", "SOURCE", "RANGE", "DONE", "EVENTS", "STATE"],
                    backfills.map { b in
                        [
                            "\(b.id)", b.source, "\(b.from) .. \(b.to)", "\(Int(b.done * 100))%", "\(b.events)",
                            b.finished ? "done" : "interrupted (--resume \(b.id))",
                        ]
                    }))
        }
        return sections.joined(separator: "\n\n")
    }

    /// Columns padded to their widest cell, two spaces apart; the last column is not padded.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
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
