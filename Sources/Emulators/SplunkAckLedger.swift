/// Indexer acknowledgement bookkeeping, per channel: ids handed out from 0, how often each
/// pending id was polled, and the ids a test declared lost.
struct SplunkAckLedger {
    /// Polls answered `false` before an id turns `true`: 1 means first poll false, second true.
    var delayPolls = 1
    private var nextID: [String: Int] = [:]
    /// channel → ackId → polls answered so far. An id leaves once reported `true`.
    private var pending: [String: [Int: Int]] = [:]
    /// Lost ids by channel; the `nil` channel means every channel.
    private var lost: [String?: Set<Int>] = [:]

    mutating func issue(channel: String) -> Int {
        let id = nextID[channel, default: 0]
        nextID[channel] = id + 1
        pending[channel, default: [:]][id] = 0
        return id
    }

    /// Ids issued and not yet reported `true` (a client that died waiting leaves its id here).
    var outstanding: Int { pending.values.reduce(0) { $0 + $1.count } }

    mutating func lose(_ ackId: Int, channel: String?) {
        lost[channel, default: []].insert(ackId)
    }

    /// Answers a poll in the order asked. A `true` is reported once: the id is then forgotten,
    /// so asking again (or for an id never issued) answers `false`, as Splunk does.
    mutating func poll(channel: String, ids: [Int]) -> [(id: Int, indexed: Bool)] {
        var seen = Set<Int>()
        var answers: [(id: Int, indexed: Bool)] = []
        for id in ids where seen.insert(id).inserted {
            guard let polls = pending[channel]?[id] else {
                answers.append((id, false))
                continue
            }
            let isLost = lost[channel]?.contains(id) == true || lost[nil]?.contains(id) == true
            if !isLost && polls >= delayPolls {
                pending[channel]?[id] = nil
                answers.append((id, true))
            } else {
                pending[channel]?[id] = polls + 1
                answers.append((id, false))
            }
        }
        return answers
    }
}
