import ArgumentParser
import Forwarder
import Foundation
import Logging

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run as a daemon until SIGTERM or SIGINT.")

    @OptionGroup var config: ConfigOption
    @Option(parsing: .unconditional, help: "How long to wait for another runner's lock before giving up.")
    var lockWait: String = "0s"
    @Option(parsing: .unconditional, help: "How long in-flight batches may take to finish after SIGTERM.")
    var gracePeriod: String = "20s"

    func run() async throws {
        var configuration = try loadConfiguration(config)
        let problems = RuntimeChecks.problems(configuration)
        if !problems.isEmpty {
            printError("invalid configuration \(config.path):\n" + problems.map { "  " + $0 }.joined(separator: "\n"))
            throw ExitCode(ExitStatus.config)
        }
        let logger = bootstrapLogging(configuration)
        TelemetryServer.bootstrapMetrics()
        let lock = try await acquireLock(configuration, wait: try parseDuration(lockWait))
        defer { lock?.release() }
        let grace = try parseDuration(gracePeriod)
        while true {
            let engine = try openEngine(configuration, logger: logger)
            let ending: DaemonMode.Ending
            do {
                ending = try await DaemonMode.run(engine: engine, gracePeriod: grace)
            } catch {
                logger.critical("forwarder failed", metadata: ["error": "\(error)"])
                await engine.shutdown()
                throw ExitCode(ExitStatus.failure)
            }
            await engine.shutdown()
            guard ending == .reloadRequested else { return }
            configuration = reloaded(configuration, logger: logger)
        }
    }

    /// SIGHUP: the new configuration if it is valid and keeps the same state file; else the old one,
    /// with the problems logged. Spooled events stay in the state either way.
    private func reloaded(_ current: ForwarderConfiguration, logger: Logger) -> ForwarderConfiguration {
        do {
            let next = try ConfigurationLoader.load(path: config.path)
            guard next.state.displayName == current.state.displayName else {
                logger.error("configuration reload refused: state.path and state.url cannot change while running; restart instead")
                return current
            }
            logger.notice("configuration reloaded", metadata: ["sources": "\(next.sources.map(\.name))", "sinks": "\(next.sinks.map(\.name))"])
            return next
        } catch {
            logger.error("configuration reload refused; still running the previous one", metadata: ["error": "\(error)"])
            return current
        }
    }
}

struct OnceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "once",
        abstract: "Poll every source up to now, deliver everything, and exit.",
        discussion: "Exit status: 0 all delivered; 75 deadline passed, the rest is spooled for next time; 1 failure; 78 invalid configuration.")

    @OptionGroup var config: ConfigOption
    @Option(parsing: .unconditional, help: "Stop after this long; what is not delivered stays spooled (exit 75).")
    var deadline: String = "10m"
    @Option(parsing: .unconditional, help: "How long to wait for another runner's lock before giving up (exit 75).")
    var lockWait: String = "0s"

    func run() async throws {
        let configuration = try loadConfiguration(config)
        let logger = bootstrapLogging(configuration)
        let limit = try parseDuration(deadline)
        let lock = try await acquireLock(configuration, wait: try parseDuration(lockWait))
        defer { lock?.release() }
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
        // Without --connect nothing is sent: the service's secrets need not be readable here.
        let configuration = try loadConfiguration(config, needsSecrets: connect)
        let problems = RuntimeChecks.problems(configuration)
        if !problems.isEmpty {
            printError("invalid configuration \(config.path):\n" + problems.map { "  " + $0 }.joined(separator: "\n"))
            throw ExitCode(ExitStatus.config)
        }
        print(
            "configuration OK: \(configuration.sources.count) source(s), \(configuration.sinks.count) sink(s), state \(configuration.state.displayName)"
        )
        for warning in configuration.securityWarnings { print("warning: \(warning)") }
        for unavailable in configuration.unavailableSecretKeys {
            print("note: \(unavailable) — not needed to check, but run, once and check --connect will need it")
        }
        guard connect else { return }
        let logger = bootstrapLogging(configuration, quiet: true)
        let rows = await ConnectivityCheck.run(configuration: configuration, sendTestEvent: sendTestEvent, logger: logger)
        let width = rows.map(\.name.count).max() ?? 4
        for row in rows {
            let name = row.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let verdict = !row.contacted ? "SKIP" : row.ok ? "OK  " : "FAIL"
            print("\(row.kind == "source" ? "source" : "sink  ")  \(name)  \(verdict)  \(row.detail)")
        }
        if rows.contains(where: { !$0.ok }) { throw ExitCode(ExitStatus.failure) }
    }
}
