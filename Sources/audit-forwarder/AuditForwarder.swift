import ArgumentParser
import Forwarder
import Foundation

@main
struct AuditForwarder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-forwarder",
        abstract: "Pulls SaaS audit logs, keeps a checkpoint per source, and delivers them to SIEMs without loss.",
        version: BuildInfo.versionLine,
        subcommands: [
            RunCommand.self, OnceCommand.self, BackfillCommand.self, DryRunCommand.self, CheckCommand.self, StatusCommand.self,
            CheckpointsCommand.self, DeadLettersCommand.self, StateCommand.self, DemoCommand.self, KeygenCommand.self, VerifyCommand.self,
        ])

    static func main() async {
        MemoryTuning.apply()
        // Everything the forwarder creates (state, lock, file-sink output, directories) is the
        // owner's alone, whatever umask the shell or cron gave it; the file sink's `mode` opens
        // its files on purpose.
        umask(0o077)
        // A closed stdout (`once | head -1`) must fail a write, not kill the process mid-delivery.
        signal(SIGPIPE, SIG_IGN)
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                var synchronous = command
                try synchronous.run()
            }
        } catch let error as ValidationError {
            // A misuse found once the command ran (an unknown source, a time in the future): the
            // usage shown is the subcommand's, not the whole tool's.
            printError(
                "Error: \(error.message)\nUsage: \(usageString(for: type(of: command)))\n  See 'audit-forwarder \(commandPath(of: type(of: command))) --help'."
            )
            Foundation.exit(ExitStatus.usage)
        } catch {
            exit(withError: error)
        }
    }

    /// `checkpoints set` for CheckpointsCommand.Set: the subcommand names from the root down.
    static func commandPath(of command: any ParsableCommand.Type) -> String {
        func path(in parent: any ParsableCommand.Type) -> [String]? {
            for child in parent.configuration.subcommands {
                let name = child.configuration.commandName ?? String(describing: child).lowercased()
                if ObjectIdentifier(child) == ObjectIdentifier(command) { return [name] }
                if let rest = path(in: child) { return [name] + rest }
            }
            return nil
        }
        return path(in: Self.self)?.joined(separator: " ") ?? ""
    }
}

/// `-c FILE`, defaulting to $AUDIT_FORWARDER_CONFIG, then /etc/audit-forwarder/config.yaml.
struct ConfigOption: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("config")], help: "Configuration file (YAML or JSON).")
    var config: String?

    var path: String {
        config ?? ProcessInfo.processInfo.environment["AUDIT_FORWARDER_CONFIG"] ?? "/etc/audit-forwarder/config.yaml"
    }
}
