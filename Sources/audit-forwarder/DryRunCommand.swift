import ArgumentParser
import Forwarder
import Foundation

struct DryRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dry-run",
        abstract: "Fetch and normalize from the current cursor and print what each sink would be sent. Sends nothing, writes nothing.")

    @OptionGroup var config: ConfigOption
    @Option(help: "Only this source (repeatable).") var source: [String] = []
    @Option(help: "Only this sink (repeatable).") var sink: [String] = []
    @Option(help: "Events per source.") var limit: Int = 20
    @Option(help: "Start here instead of the cursor: RFC 3339, a date, or an age like 6h.") var from: String?
    @Option(help: "text or json (one JSON object per request).") var format: String = "text"

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
        if let from, TimeText.parse(from) == nil { throw ValidationError("--from: not a time: \(from)") }
    }

    func run() async throws {
        let configuration = try loadConfiguration(config)
        let logger = bootstrapLogging(configuration, quiet: true)
        var options = DryRunMode.Options()
        options.sources = source
        options.sinks = sink
        options.limit = limit
        options.from = from.flatMap { TimeText.parse($0) }
        options.json = format == "json"
        do {
            try await DryRunMode.run(configuration: configuration, options: options, logger: logger) { print($0) }
        } catch let error as ConfigurationError {
            printError("audit-forwarder: \(error)")
            throw ExitCode(ExitStatus.usage)
        } catch {
            printError("audit-forwarder: dry-run failed: \(error)")
            throw ExitCode(ExitStatus.failure)
        }
    }
}
