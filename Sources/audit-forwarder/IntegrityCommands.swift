import ArgumentParser
import Connectors
import Forwarder
import Foundation

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Print a new Ed25519 key pair for sinks[].integrity: the signing key (a secret) and its public key.",
        discussion:
            "Line 1: signing_key <base64> (put it in the sink's integrity.signing_key, through a variable or a file). Line 2: public_key <base64> (give it to the auditor, for verify --public-key)."
    )

    func run() throws {
        let pair = IntegritySigner.generate()
        print("signing_key \(pair.signingKey)")
        print("public_key \(pair.publicKey)")
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the integrity chains of delivered events (NDJSON files, or standard input).",
        discussion: "Exit 0 only when every chain is complete, unaltered and signed by one of the keys given; 1 otherwise, naming the first problem.")

    @Option(name: .customLong("public-key"), help: "A public key from keygen (repeatable: one per key in use, for rotation).")
    var publicKeys: [String] = []
    @Option(help: "Start at this sequence number (an export that begins mid-chain).") var fromSeq: Int64?
    @Argument(help: "NDJSON files: a file sink's output and its rotated files, or exports with one event per line.")
    var files: [String] = []

    func validate() throws {
        if publicKeys.isEmpty { throw ValidationError("give at least one --public-key") }
        for key in publicKeys where IntegrityVerifierKey(base64: key) == nil {
            throw ValidationError("--public-key \(key): not a base64 Ed25519 public key (32 bytes), as keygen prints")
        }
    }

    func run() throws {
        var lines: [(Int, Substring)] = []
        var lineNumber = 0
        let inputs = files.isEmpty ? ["-"] : files
        for file in inputs {
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let read = FileManager.default.contents(atPath: file) else {
                    printError("audit-forwarder: cannot read \(file)")
                    throw ExitCode(ExitStatus.failure)
                }
                data = read
            }
            // Line numbers count across the files, in the order given.
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
                lineNumber += 1
                lines.append((lineNumber, line))
            }
        }
        let keys = publicKeys.compactMap(IntegrityVerifierKey.init(base64:))
        let report = VerifyMode(keys: keys, fromSeq: fromSeq).verify(lines: lines)
        print(VerifyMode.text(report))
        if !report.ok { throw ExitCode(ExitStatus.failure) }
    }
}
