import ArgumentParser
import Checkpoint
import Forwarder
import Foundation

/// `state copy --to URL`: moves an SQLite state up to a new PostgreSQL database (see `StateCopy`).
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "Move a state between backends.", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Copy the configured SQLite state (state.path) into an empty PostgreSQL database: cursors, spool, offsets, dedupe, dead letters, jobs. Nothing is sent again."
        )
        @OptionGroup var config: ConfigOption
        @Option(
            help:
                "The PostgreSQL database: postgresql://user:password@host:5432/db?sslmode=… (or the name of an environment variable holding it, as env:NAME)."
        )
        var to: String
        @Option(help: "With sslmode=verify-ca or verify-full: the CA file of the database's certificate.") var caFile: String?

        func run() async throws {
            let configuration = try loadConfiguration(config, needsSecrets: false)
            guard !configuration.state.isShared else {
                throw ValidationError(
                    "the configuration's state is already PostgreSQL (state.url); point -c at the configuration with the SQLite state.path")
            }
            guard FileManager.default.fileExists(atPath: configuration.state.path) else {
                printError("audit-forwarder: no state file at \(configuration.state.path): nothing to copy")
                throw ExitCode(ExitStatus.failure)
            }
            var text = to
            if to.hasPrefix("env:") {
                guard let value = ProcessInfo.processInfo.environment[String(to.dropFirst(4))] else {
                    throw ValidationError("--to \(to): that variable is not set")
                }
                text = value
            }
            var location: PostgresLocation
            do {
                location = try PostgresLocation(url: text)
            } catch {
                throw ValidationError("--to: \(error)")
            }
            location.caFile = caFile
            // No agent may change the SQLite state while it is copied.
            let lock = try await acquireLock(configuration, wait: .zero)
            defer { lock?.release() }
            do {
                let source = try StateStore(path: configuration.state.path)
                let target = try PostgresStateStore(location: location)
                defer { target.close() }
                let summary = try StateCopy.copy(from: source, to: target)
                print("copied \(configuration.state.path) to \(location.redacted): \(summary)")
            } catch {
                printError("audit-forwarder: state copy failed, nothing was copied: \(error)")
                throw ExitCode(ExitStatus.failure)
            }
        }
    }
}
