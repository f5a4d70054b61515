import Checkpoint
import Connectors
import Foundation

/// How a backfill's range is cut into windows, and which of them a (resumed) job still needs.
enum BackfillPlan {
    /// One window is at most a day (a killed job re-reads little), and never longer than the API
    /// allows (Logfire: 90 days).
    static let dayLength: TimeInterval = 86400

    static func windowLength(for connector: any SourceConnector) -> TimeInterval {
        min(dayLength, connector.maximumWindow ?? dayLength)
    }

    /// The windows still to fetch, oldest first. The grid always starts at the range start, so a
    /// resumed job cuts the same windows as the run that was killed: windows recorded as finished
    /// are skipped, and the one holding the job's position starts there.
    static func pendingWindows(of job: BackfillJob, length: TimeInterval) -> [PollWindow] {
        guard length > 0 else { return [] }
        let slack = 0.001
        var windows: [PollWindow] = []
        var index = 0.0
        while true {
            let start = job.rangeStart.addingTimeInterval(index * length)
            guard start < job.rangeEnd else { break }
            index += 1
            let end = min(job.rangeEnd, job.rangeStart.addingTimeInterval(index * length))
            if end.timeIntervalSince(job.position) <= slack { continue }
            let finished = job.finishedAhead.contains {
                $0.lowerBound.timeIntervalSince(start) <= slack && end.timeIntervalSince($0.upperBound) <= slack
            }
            if finished { continue }
            windows.append(PollWindow(start: max(start, job.position), end: end))
        }
        return windows
    }
}
