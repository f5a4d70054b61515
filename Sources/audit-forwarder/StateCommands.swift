import ArgumentParser
import Checkpoint
import Connectors
import Forwarder
import Foundation

/// Opens (creating when missing) the configured state file, or exits 1 with the reason.
func openState(_ configuration: ForwarderConfiguration) throws -> any StateBackend {
    do {
        return try configuration.state.open()
    } catch {
        printError("audit-forwarder: cannot open state: \(error)")
        throw ExitCode(ExitStatus.failure)
    }
}

/// Opens the configured state file for the admin commands; a missing file is reported, not created.
func openExistingState(_ configuration: ForwarderConfiguration) throws -> any StateBackend {
    if configuration.state.isShared { return try openState(configuration) }
    guard FileManager.default.fileExists(atPath: configuration.state.path) else {
        printError(
            "audit-forwarder: no state file at \(configuration.state.path): nothing has run with this state.path yet, "
                + "or the daemon keeps its state elsewhere (set state.path in the configuration to the daemon's file, "
                + "e.g. /var/lib/audit-forwarder/state.sqlite, and run as a user who may read it)")
        throw ExitCode(ExitStatus.failure)
    }
    do {
        return try StateStore(path: configuration.state.path)
    } catch {
        printError("audit-forwarder: cannot open state: \(error)")
        throw ExitCode(ExitStatus.failure)
    }
}

/// Runs an operator's change to `source` with no agent working it (`StateBackend.changeAlone`);
/// exits 75 when an agent of a shared state holds the source.
func alone(_ store: any StateBackend, source: String, _ change: () throws -> Void) throws {
    do {
        try store.changeAlone(source: source, as: "admin:" + AgentName.current(), change)
    } catch let busy as SourceBusyError {
        printError("audit-forwarder: \(busy)")
        throw ExitCode(ExitStatus.tempFail)
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per source: cursor, lag, last success and error. Per sink: pending events, oldest pending, dead letters, last error.")

    @OptionGroup var config: ConfigOption
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let configuration = try loadConfiguration(config, needsSecrets: false)
        let store = try openExistingState(configuration)
        let report = try StatusReport.make(configuration: configuration, store: store)
        print(json ? report.json : report.text)
    }
}

struct CheckpointsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints", abstract: "List, set or reset source cursors.",
        subcommands: [List.self, Set.self, Reset.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var config: ConfigOption
        func run() async throws {
            let configuration = try loadConfiguration(config, needsSecrets: false)
            let store = try openExistingState(configuration)
            let states = try store.sourceStates()
            for source in configuration.sources {
                print("\(source.name)\t\(states.first { $0.source == source.name }?.position ?? "(none: next poll reaches back lookback)")")
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a source's cursor (its next poll starts there, less overlap).")
        @OptionGroup var config: ConfigOption
        @Option(help: "Source name.") var source: String
        @Option(help: "RFC 3339, a date, or an age like 6h.") var to: String
        @Flag(help: "Accept a time in the future (the source then fetches nothing until the clock passes it).") var force = false

        func run() async throws {
            let configuration = try loadConfiguration(config, needsSecrets: false)
            guard configuration.sources.contains(where: { $0.name == source }) else {
                throw ValidationError("no source named \(source) (configured: \(configuration.sources.map(\.name).joined(separator: ", ")))")
            }
            guard let time = TimeText.parse(to) else { throw ValidationError("--to: not a time: \(to)") }
            // A cursor ahead of now stops a source without a sign: its polls ask for nothing.
            if time.timeIntervalSinceNow > 60, !force {
                throw ValidationError(
                    "--to \(RFC3339.format(time)) is in the future: \(source) would fetch nothing until then; add --force if that is what you want")
            }
            // A running poll would write its own position over this one.
            let lock = try await acquireLock(configuration, wait: .zero)
            defer { lock?.release() }
            // Before the first run there is no state file yet: setting where to start creates it.
            let store = try openState(configuration)
            try alone(store, source: source) { try store.setCursor(source: source, position: RFC3339.format(time)) }
            print("\(source)\t\(RFC3339.format(time))")
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget a source's cursor (its next poll reaches back lookback; dedupe skips what was already sent).")
        @OptionGroup var config: ConfigOption
        @Option(help: "Source name.") var source: String

        func run() async throws {
            let configuration = try loadConfiguration(config, needsSecrets: false)
            guard configuration.sources.contains(where: { $0.name == source }) else {
                throw ValidationError("no source named \(source) (configured: \(configuration.sources.map(\.name).joined(separator: ", ")))")
            }
            // A running poll would write its own position over the reset.
            let lock = try await acquireLock(configuration, wait: .zero)
            defer { lock?.release() }
            let store = try openExistingState(configuration)
            try alone(store, source: source) { try store.resetCursor(source: source) }
            print("\(source)\treset")
        }
    }
}

struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadletters", abstract: "List, replay or purge events sinks rejected for good.",
        subcommands: [List.self, Replay.self, Purge.self])

    struct Selection: ParsableArguments {
        @Option(help: "Only this sink.") var sink: String?
        @Option(help: "Only these dead-letter ids (repeatable).") var id: [Int64] = []
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var config: ConfigOption
        @Option(help: "Only this sink.") var sink: String?
        @Option(help: "At most this many.") var limit: Int = 100
        @Flag(help: "Print one JSON object per line, with the event.") var json = false

        func run() async throws {
            let store = try openExistingState(try loadConfiguration(config, needsSecrets: false))
            let letters = try store.deadLetters(sink: sink, limit: limit)
            if letters.isEmpty, !json { print("no dead letters\(sink.map { " for sink \($0)" } ?? "")") }
            for letter in letters {
                if json {
                    let object: [String: Any] = [
                        "id": letter.id, "sink": letter.sink, "source": letter.source, "event_id": letter.eventID,
                        "status": letter.status, "reason": letter.reason, "created_at": RFC3339.format(letter.createdAt),
                        "event": (try? JSONSerialization.jsonObject(with: letter.payload)) ?? NSNull(),
                    ]
                    print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                } else {
                    print("\(letter.id)\t\(letter.sink)\t\(letter.eventID)\t\(letter.status)\t\(RFC3339.format(letter.createdAt))\t\(letter.reason)")
                }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead letters back into their sink's queue.")
        @OptionGroup var config: ConfigOption
        @OptionGroup var selection: Selection

        /// Only into the queues of configured sinks: a replay for a sink that was renamed or removed
        /// would be passed over by every sink and pruned, losing the dead letters for good.
        func run() async throws {
            let configuration = try loadConfiguration(config, needsSecrets: false)
            let configured = configuration.sinks.map(\.name)
            if let sink = selection.sink, !configured.contains(sink) {
                throw ValidationError("no sink named \(sink) in the configuration: its dead letters would reach no one; they stay where they are")
            }
            let store = try openExistingState(configuration)
            let ids = selection.id.isEmpty ? nil : selection.id
            var count = 0
            for sink in selection.sink.map({ [$0] }) ?? configured {
                count += try store.replayDeadLetters(sink: sink, ids: ids)
            }
            print("replayed \(count) dead letter(s); the next run delivers them")
            let stranded = try store.deadLetterCounts().filter { !configured.contains($0.key) }
            if !stranded.isEmpty {
                let list = stranded.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                print("left in place, their sinks are not in the configuration: \(list)")
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete dead letters for good.")
        @OptionGroup var config: ConfigOption
        @OptionGroup var selection: Selection
        @Flag(help: "Purge every dead letter of every sink (needed when neither --sink nor --id is given).") var all = false

        func validate() throws {
            if selection.sink == nil, selection.id.isEmpty, !all {
                throw ValidationError("purging deletes dead letters for good: name them with --sink or --id, or say --all")
            }
        }

        func run() async throws {
            let store = try openExistingState(try loadConfiguration(config, needsSecrets: false))
            let count = try store.purgeDeadLetters(sink: selection.sink, ids: selection.id.isEmpty ? nil : selection.id)
            print("purged \(count) dead letter(s)")
        }
    }
}
