import Connectors
import Foundation

/// `verify`: checks the integrity chains in delivered events (NDJSON: a file sink's output and its
/// rotated files, or one exported event per line from Elasticsearch, Splunk or a webhook's
/// receiver, in any order). Per sink and source: every event's hash recomputed from its canonical
/// bytes, every link to the one before, no missing sequence numbers, every signature valid under
/// one of the given public keys, nothing after the last signature. Duplicates (the same position
/// and hash, from a resend) are harmless and counted.
public struct VerifyMode {
    public struct Chain: Sendable, Equatable {
        public var sink: String
        public var source: String
        public var verified = 0
        public var duplicates = 0
        public var firstSeq: Int64 = 0
        public var lastSeq: Int64 = 0
        public var signatures = 0
        public var problems: [String] = []
    }

    public struct Report: Sendable {
        public var chains: [Chain]
        /// Lines that carry no integrity link, or are not JSON.
        public var unchainedLines = 0
        public var unreadableLines: [Int] = []
        public var ok: Bool { !chains.isEmpty && chains.allSatisfy { $0.problems.isEmpty } && unreadableLines.isEmpty }
        public var firstProblem: String? {
            if chains.isEmpty { return "no event carries an integrity chain (is sinks[].integrity set?)" }
            if let line = unreadableLines.first { return "line \(line) is not a JSON event" }
            return chains.lazy.compactMap { chain in chain.problems.first.map { "\(chain.sink)/\(chain.source): \($0)" } }.first
        }
    }

    let keys: [IntegrityVerifierKey]
    /// Verification starts here: for an export that begins mid-chain (a retention window).
    let fromSeq: Int64?

    public init(keys: [IntegrityVerifierKey], fromSeq: Int64? = nil) {
        self.keys = keys
        self.fromSeq = fromSeq
    }

    struct Entry {
        var link: IntegrityChain.Link
        /// The hash the event's own bytes give.
        var recomputed: String
        var line: Int
    }

    /// `lines`: (line number as the operator counts it, text).
    public func verify(lines: some Sequence<(Int, Substring)>) -> Report {
        var chains: [String: [Entry]] = [:]
        var order: [String] = []
        var report = Report(chains: [])
        for (number, text) in lines {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let value = try? JSONValue.parse(Data(trimmed.utf8)) else {
                report.unreadableLines.append(number)
                continue
            }
            guard let (event, link, text) = Self.locate(value, text: trimmed[...]) else {
                report.unchainedLines += 1
                continue
            }
            guard let canonical = try? IntegrityChain.canonical(event).bytes else {
                report.unreadableLines.append(number)
                continue
            }
            // The bytes as sent when the line holds them (native events), else the canonical form.
            var recomputed = IntegrityChain.hash(previous: link.previous, canonical: canonical)
            if recomputed != link.hash, let text, let sent = IntegrityChain.unsealed(text, link: link) {
                recomputed = IntegrityChain.hash(previous: link.previous, canonical: sent)
            }
            let key = link.sink + "\u{0}" + link.source
            if chains[key] == nil { order.append(key) }
            chains[key, default: []].append(Entry(link: link, recomputed: recomputed, line: number))
        }
        report.chains = order.map { check(chains[$0]!) }
        return report
    }

    /// The event and its link in what one exported line holds: the event itself (file, webhook),
    /// an Elasticsearch hit (`_source`), a Splunk result (`_raw` or `result._raw`, JSON text) or a
    /// HEC envelope (`event`).
    /// `text`: the event's own text when known (the line itself, or a `_raw` string), for
    /// native events whose hash covers their bytes as sent.
    static func locate(_ value: JSONValue, text: Substring?) -> (JSONValue, IntegrityChain.Link, Substring?)? {
        if let link = value["integrity"].flatMap(IntegrityChain.Link.init(json:)) { return (value, link, text) }
        if let link = value["unmapped"]?["integrity"].flatMap(IntegrityChain.Link.init(json:)) { return (value, link, text) }
        for inner in [value["_source"], value["event"], value["result"]?["_raw"], value["_raw"]] {
            guard var inner else { continue }
            var innerText: Substring?
            if case .string(let raw) = inner, let parsed = try? JSONValue.parse(Data(raw.utf8)) {
                inner = parsed
                innerText = raw[...]
            }
            if case .object = inner, let found = locate(inner, text: innerText) { return found }
        }
        return nil
    }

    private func check(_ entries: [Entry]) -> Chain {
        var chain = Chain(sink: entries[0].link.sink, source: entries[0].link.source)
        var bySeq: [Int64: Entry] = [:]
        for entry in entries {
            if entry.recomputed != entry.link.hash {
                chain.problems.append("line \(entry.line): event seq \(entry.link.seq) was altered (its hash does not match its content)")
                continue
            }
            if let seen = bySeq[entry.link.seq] {
                if seen.link.hash == entry.link.hash {
                    chain.duplicates += 1
                    // A resend may carry the signature where the first delivery did not.
                    if bySeq[entry.link.seq]?.link.signature == nil, entry.link.signature != nil { bySeq[entry.link.seq] = entry }
                } else {
                    chain.problems.append("line \(entry.line): two different events at seq \(entry.link.seq) (lines \(seen.line) and \(entry.line))")
                }
                continue
            }
            bySeq[entry.link.seq] = entry
        }
        var seqs = bySeq.keys.sorted()
        if let fromSeq { seqs = seqs.filter { $0 >= fromSeq } }
        guard let first = seqs.first, let last = seqs.last else {
            chain.problems.append("no event to verify")
            return chain
        }
        chain.firstSeq = first
        chain.lastSeq = last
        if fromSeq == nil, first != 1 {
            chain.problems.append(
                "the chain starts at seq \(first), not 1: events 1…\(first - 1) are missing (an export that starts mid-chain: --from-seq \(first))")
        }
        if fromSeq == nil, first == 1, bySeq[1]?.link.previous != IntegrityChain.genesis {
            chain.problems.append("seq 1 does not start a chain (its prev is not the genesis hash)")
        }
        var lastSigned: Int64?
        var expected = first
        for seq in seqs {
            let entry = bySeq[seq]!
            if seq != expected {
                chain.problems.append("gap: seq \(expected)…\(seq - 1) missing (\(seq - expected) event(s) before line \(entry.line))")
            } else if let previous = bySeq[seq - 1], previous.link.hash != entry.link.previous {
                chain.problems.append(
                    "line \(entry.line): seq \(seq) does not follow seq \(seq - 1) (broken link: an event edited, replaced or moved)")
            }
            expected = seq + 1
            if let signature = entry.link.signature {
                let message = IntegrityChain.signedMessage(sink: chain.sink, source: chain.source, seq: seq, hash: entry.link.hash)
                guard let key = keys.first(where: { $0.keyID == entry.link.keyID }) else {
                    chain.problems.append(
                        "line \(entry.line): seq \(seq) is signed by key \(entry.link.keyID ?? "?"), which is not among the --public-key given")
                    continue
                }
                if key.verifies(signature, for: message) {
                    chain.signatures += 1
                    lastSigned = seq
                } else {
                    chain.problems.append("line \(entry.line): bad signature at seq \(seq) (forged, or the chain head was changed)")
                }
            }
            chain.verified += 1
        }
        if let lastSigned, lastSigned < last {
            chain.problems.append("seq \(lastSigned + 1)…\(last) come after the last signature: nothing proves them")
        } else if lastSigned == nil {
            chain.problems.append("no valid signature in seq \(first)…\(last)")
        }
        return chain
    }

    /// One line per chain, then the verdict.
    public static func text(_ report: Report) -> String {
        var lines: [String] = []
        for chain in report.chains {
            let verdict = chain.problems.isEmpty ? "OK" : "FAILED"
            lines.append(
                "\(verdict)  sink \(chain.sink), source \(chain.source): \(chain.verified) event(s) verified (seq \(chain.firstSeq)…\(chain.lastSeq)), "
                    + "\(chain.signatures) signature(s), \(chain.duplicates) duplicate(s)")
            for problem in chain.problems { lines.append("  \(problem)") }
        }
        if report.unchainedLines > 0 { lines.append("\(report.unchainedLines) line(s) carry no integrity chain (skipped)") }
        for line in report.unreadableLines { lines.append("line \(line): not a JSON event") }
        lines.append(report.ok ? "verified: every chain is complete, unaltered and signed" : "NOT verified: \(report.firstProblem ?? "")")
        return lines.joined(separator: "\n")
    }
}
