import ArgumentParser
import Checkpoint
import Forwarder
import Foundation
import Logging

/// sysexits, as DESIGN.md §4 lists them.
enum ExitStatus {
    static let failure: Int32 = 1
    static let usage: Int32 = 64
    static let tempFail: Int32 = 75
    static let config: Int32 = 78
}

/// Prints to stderr.
func printError(_ text: String) {
    OutputWriter.write(text + "\n", to: STDERR_FILENO)
}

/// Loads the configuration, or exits 78 with every problem named by its key path.
/// `needsSecrets: false`: commands that only read the state (status, checkpoints, deadletters,
/// check without --connect) run without the service's secret variables and credential files.
func loadConfiguration(_ option: ConfigOption, needsSecrets: Bool = true) throws -> ForwarderConfiguration {
    do {
        return try ConfigurationLoader.load(path: option.path, secretsOptional: !needsSecrets)
    } catch let error as ConfigurationError {
        printError("invalid configuration \(option.path):\n" + error.problems.map { "  " + $0.description }.joined(separator: "\n"))
        throw ExitCode(ExitStatus.config)
    }
}

/// Logging is bootstrapped once per process, from the configuration.
/// `quiet`: for commands whose stdout is their result (dry-run): warnings and worse, on stderr.
func bootstrapLogging(_ configuration: ForwarderConfiguration, quiet: Bool = false) -> Logger {
    let level = quiet ? max(.warning, configuration.log.level) : configuration.log.level
    let json = configuration.log.format == .json
    LoggingSystem.bootstrap { label in StdoutLogHandler(label: label, level: level, json: json, toStandardError: quiet) }
    return Logger(label: "audit-forwarder")
}

/// Takes the run lock, or exits with a clear message: 75 when another runner holds it (try again
/// later), 1 when the lock file cannot be opened at all (a missing directory, permissions, a
/// read-only file system), which no retry of a timer would fix. A shared (PostgreSQL) state has
/// no run lock: its agents lease sources instead (nil).
func acquireLock(_ configuration: ForwarderConfiguration, wait: Duration) async throws -> RunLock? {
    if configuration.state.isShared { return nil }
    let lock = RunLock(statePath: configuration.state.path)
    do {
        try await lock.acquire(wait: wait)
    } catch let error as StateError {
        printError("audit-forwarder: \(error.message)")
        throw ExitCode(error.code == .locked ? ExitStatus.tempFail : ExitStatus.failure)
    }
    return lock
}

/// Opens the engine, or exits 1 with the state error (corrupt or foreign state file, …).
func openEngine(_ configuration: ForwarderConfiguration, logger: Logger) throws -> Engine {
    do {
        return try Engine(configuration: configuration, logger: logger)
    } catch {
        printError("audit-forwarder: cannot open state: \(error)")
        throw ExitCode(ExitStatus.failure)
    }
}

func parseDuration(_ text: String) throws -> Duration {
    guard let value = DurationText.parse(text) else {
        let sign = text.hasPrefix("-") ? "a duration cannot be negative: " : "not a duration: "
        throw ValidationError(sign + "\(text) (use 500ms, 10s, 5m, 2h, 7d)")
    }
    return value
}
