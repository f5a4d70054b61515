import ArgumentParser
import Forwarder
import Foundation

@main
struct AuditForwarder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-forwarder",
        abstract: "Pulls SaaS audit logs, keeps a checkpoint per source, and delivers them to SIEMs without loss.",
        subcommands: [
            RunCommand.self, OnceCommand.self, BackfillCommand.self, DryRunCommand.self, CheckCommand.self, StatusCommand.self,
            CheckpointsCommand.self, DeadLettersCommand.self, DemoCommand.self,
        ])

    static func main() async {
        MemoryTuning.apply()
        // Everything the forwarder creates (state, lock, file-sink output, directories) is the
        // owner's alone, whatever umask the shell or cron gave it; the file sink's `mode` opens
        // its files on purpose.
        umask(0o077)
        await main(nil)
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
