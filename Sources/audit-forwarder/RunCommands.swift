import ArgumentParser
import Forwarder
import Foundation

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run as a daemon until SIGTERM or SIGINT.")

    @OptionGroup var config: ConfigOption
    @Option(help: "How long to wait for another runner's lock before giving up.")
    var lockWait: String = "0s"
    @Option(help: "How long in-flight batches may take to finish after SIGTERM.")
    var gracePeriod: String = "20s"

    func run() async throws {
        let configuration = try loadConfiguration(config)
        let logger = bootstrapLogging(configuration)
        let lock = try await acquireLock(configuration, wait: try parseDuration(lockWait))
        defer { lock.release() }
        let engine = try openEngine(configuration, logger: logger)
        do {
            try await DaemonMode.run(engine: engine, gracePeriod: try parseDuration(gracePeriod))
        } catch {
            logger.critical("forwarder failed", metadata: ["error": "\(error)"])
            await engine.shutdown()
            throw ExitCode(ExitStatus.failure)
        }
        await engine.shutdown()
    }
}

struct OnceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "once",
        abstract: "Poll every source up to now, deliver everything, and exit.",
        discussion: "Exit status: 0 all delivered; 75 deadline passed, the rest is spooled for next time; 1 failure; 78 invalid configuration.")

    @OptionGroup var config: ConfigOption
    @Option(help: "Stop after this long; what is not delivered stays spooled (exit 75).")
    var deadline: String = "10m"
    @Option(help: "How long to wait for another runner's lock before giving up (exit 75).")
    var lockWait: String = "0s"

    func run() async throws {
        let configuration = try loadConfiguration(config)
        let logger = bootstrapLogging(configuration)
        let limit = try parseDuration(deadline)
        let lock = try await acquireLock(configuration, wait: try parseDuration(lockWait))
        defer { lock.release() }
        let engine = try openEngine(configuration, logger: logger)
        let outcome = await OnceMode.run(engine: engine, deadline: limit)
        await engine.shutdown()
        switch outcome {
        case .complete:
            return
        case .deadlineExceeded(let pending):
            printError("audit-forwarder: deadline passed; still pending for \(pending.joined(separator: ", ")) (safely spooled)")
        case .failed(let problems):
            printError("audit-forwarder: " + problems.joined(separator: "\naudit-forwarder: "))
        }
        throw ExitCode(outcome.exitCode)
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration (exit 78 naming every bad key); with --connect, reach every source and sink.")

    @OptionGroup var config: ConfigOption
    @Flag(help: "Authenticate to every source (one tiny window) and reach every sink.") var connect = false
    @Flag(help: "With --connect: post one test event to webhook sinks.") var sendTestEvent = false

    func run() async throws {
        let configuration = try loadConfiguration(config)
        print("configuration OK: \(configuration.sources.count) source(s), \(configuration.sinks.count) sink(s), state \(configuration.state.path)")
        guard connect else { return }
        let logger = bootstrapLogging(configuration, quiet: true)
        let rows = await ConnectivityCheck.run(configuration: configuration, sendTestEvent: sendTestEvent, logger: logger)
        let width = rows.map(\.name.count).max() ?? 4
        for row in rows {
            let name = row.name.padding(toLength: width, withPad: " ", startingAt: 0)
            print("\(row.kind == "source" ? "source" : "sink  ")  \(name)  \(row.ok ? "OK  " : "FAIL")  \(row.detail)")
        }
        if rows.contains(where: { !$0.ok }) { throw ExitCode(ExitStatus.failure) }
    }
}
