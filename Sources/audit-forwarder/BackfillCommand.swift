import ArgumentParser
import Checkpoint
import Connectors
import Forwarder
import Foundation

struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Bring in a historical range for one source without moving its live cursor (prints the job id).",
        discussion: """
            The range is read in windows of at most a day (and never longer than the API allows), up to \
            --concurrency of them at once; the source's rate_limit is shared by all of them. Interrupted jobs \
            continue with --resume ID (optionally with another --concurrency) and re-fetch only the windows \
            that had not finished; `status` lists them. Exit status as for `once`.

            Example: audit-forwarder backfill -c config.yaml --source logfire --from 2025-01-01 --to 2025-07-01 --sink archive --concurrency 3
            """)

    @OptionGroup var config: ConfigOption
    @Option(help: "Source name.") var source: String?
    @Option(help: "Range start: RFC 3339, a date, or an age like 200d.") var from: String?
    @Option(help: "Range end (default: now).") var to: String?
    @Option(help: "Deliver only to this sink (repeatable; default: every sink).") var sink: [String] = []
    @Option(help: "Windows fetched at once (1-16), all within the source's rate_limit.") var concurrency: Int = BackfillMode.defaultConcurrency
    @Option(help: "Continue an interrupted job.") var resume: Int64?
    @Option(parsing: .unconditional, help: "Stop after this long; what is fetched stays spooled (exit 75).") var deadline: String = "24h"
    @Option(parsing: .unconditional, help: "How long to wait for another runner's lock.") var lockWait: String = "0s"

    func validate() throws {
        guard BackfillMode.concurrencyRange.contains(concurrency) else {
            throw ValidationError(
                "--concurrency must be between \(BackfillMode.concurrencyRange.lowerBound) and \(BackfillMode.concurrencyRange.upperBound)")
        }
        if resume == nil {
            guard source != nil, let from else { throw ValidationError("give --source and --from (and --to), or --resume ID") }
            guard TimeText.parse(from) != nil else { throw ValidationError("--from: not a time: \(from)") }
            if let to, TimeText.parse(to) == nil { throw ValidationError("--to: not a time: \(to)") }
        } else if source != nil || from != nil || to != nil || !sink.isEmpty {
            throw ValidationError("--resume takes the job's own source, range and sinks; do not give --source, --from, --to or --sink")
        }
    }

    func run() async throws {
        let configuration = try loadConfiguration(config)
        let logger = bootstrapLogging(configuration, quiet: true)
        let limit = try parseDuration(deadline)
        let lock = try await acquireLock(configuration, wait: try parseDuration(lockWait))
        defer { lock?.release() }
        let engine = try openEngine(configuration, logger: logger)
        let job: BackfillJob
        do {
            job = try prepareJob(configuration: configuration, store: engine.store)
        } catch {
            // The HTTP clients must be shut down before they go, or their deinit traps.
            await engine.shutdown()
            throw error
        }
        print(
            "backfill job \(job.id): \(job.source) from \(RFC3339.format(job.position)) to \(RFC3339.format(job.rangeEnd)), sinks: \(job.onlySinks?.joined(separator: ", ") ?? "all"), \(concurrency) window(s) at once"
        )
        // The id must reach the operator even if the job is killed a moment later.
        fflush(nil)
        let display = ProgressDisplay(interactive: isatty(STDOUT_FILENO) == 1)
        let outcome = await BackfillMode.run(engine: engine, job: job, concurrency: concurrency, deadline: limit) { display.show($0) }
        display.finish()
        await engine.shutdown()
        let final = try engine.store.backfillJob(id: job.id)
        print(
            "backfill job \(job.id): \(final?.finishedAt == nil ? "interrupted" : "done"), \(final?.events ?? 0) events spooled\(final?.finishedAt == nil ? "; continue with --resume \(job.id)" : "")"
        )
        if configuration.state.isShared {
            // On a shared state this command spools; the source's owner delivers.
            print("backfill job \(job.id): the agents holding \(job.source) deliver its events (audit-forwarder status shows the owner)")
        }
        switch outcome {
        case .complete: return
        case .deadlineExceeded: printError("audit-forwarder: deadline passed; continue with --resume \(job.id)")
        case .failed(let problems): printError("audit-forwarder: " + problems.joined(separator: "\naudit-forwarder: "))
        }
        throw ExitCode(outcome.exitCode)
    }

    private func prepareJob(configuration: ForwarderConfiguration, store: any StateBackend) throws -> BackfillJob {
        if let resume {
            guard let job = try store.backfillJob(id: resume) else { throw ValidationError("no backfill job \(resume)") }
            guard configuration.sources.contains(where: { $0.name == job.source }) else {
                throw ValidationError("job \(resume) is for source \(job.source), which is not in the configuration")
            }
            return job
        }
        guard let source, configuration.sources.contains(where: { $0.name == source }) else {
            throw ValidationError("no source named \(source ?? "") in the configuration")
        }
        for name in sink where !configuration.sinks.contains(where: { $0.name == name }) {
            throw ValidationError("no sink named \(name) in the configuration")
        }
        let now = Date()
        let start = TimeText.parse(from ?? "", now: now)!
        let end = to.flatMap { TimeText.parse($0, now: now) } ?? now
        guard start < end else { throw ValidationError("--from must be before --to") }
        // Older than the API keeps: the windows would come back empty and the job would say done.
        if let retention = configuration.sources.first(where: { $0.name == source })?.connector.retention,
            start < now.addingTimeInterval(-retention)
        {
            throw ValidationError(
                "--from \(RFC3339.format(start)) is older than \(source) keeps its audit log (\(Int(retention / 86400)) days); start at \(Int(retention / 86400))d or later"
            )
        }
        return try store.createBackfillJob(source: source, from: start, to: end, onlySinks: sink.isEmpty ? nil : sink)
    }
}

/// A progress bar on a terminal; plain lines otherwise (logs, CI).
final class ProgressDisplay: @unchecked Sendable {
    let interactive: Bool
    private let lock = NSLock()
    private var lastLine = Date.distantPast

    init(interactive: Bool) { self.interactive = interactive }

    func show(_ progress: BackfillMode.Progress) {
        let percent = Int(progress.job.progress * 100)
        let eta = progress.eta.map { " ETA \(DurationText.format(.seconds(Int64($0.components.seconds))))" } ?? ""
        let text = "\(percent)% of the range, \(progress.job.events) events, \(Int(progress.eventsPerSecond)) events/s\(eta)"
        lock.withLock {
            if interactive {
                let width = 30
                let filled = Int(progress.job.progress * Double(width))
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                OutputWriter.write("\r[\(bar)] \(text)\u{1B}[K", to: STDOUT_FILENO)
            } else if Date().timeIntervalSince(lastLine) >= 2 || progress.job.progress >= 1 {
                lastLine = Date()
                print("backfill job \(progress.job.id): \(text)")
                fflush(nil)
            }
        }
    }

    func finish() {
        if interactive { print("") }
    }
}
