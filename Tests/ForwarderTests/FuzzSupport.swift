import Foundation

/// Deterministic fuzzing: a seeded PRNG and mutations of valid samples. A failure prints its
/// seed and iteration, so `AFWD_FUZZ_SEED=<seed>` replays it exactly.
enum Fuzz {
    /// Iterations per target: small in CI, `AFWD_FUZZ_ITERATIONS=200000` for a long run.
    static var iterations: Int {
        ProcessInfo.processInfo.environment["AFWD_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 300
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["AFWD_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x00AF_D5EE_D000_0006
    }

    /// Runs `body` once per iteration with its own generator (seed mixed with the iteration).
    static func run(_ target: String, _ body: (inout SplitMix64, Int) throws -> Void) rethrows {
        for iteration in 0..<iterations {
            var random = SplitMix64(seed: seed &+ UInt64(iteration) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(target.utf8.count))
            try body(&random, iteration)
        }
    }
}

/// SplitMix64: tiny, fast, good enough to drive mutations, and the same on every platform.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Byte-level and token-level mutations of a valid input.
enum Mutator {
    /// Values that break parsers: huge and odd numbers, wrong types, odd strings, invalid UTF-8.
    static let nastyValues: [String] = [
        "1e400", "-1e400", "1e300", "99999999999999999999999999", "-9223372036854775809", "9223372036854775807", "-0", "0.0000000001e-400",
        "NaN", "nan", "inf", "-inf", "0x10", "1_000", "\"\"", "null", "true", "[]", "{}", "[[[[[]]]]]", "{\"a\":{\"b\":{}}}",
        "\"\\ud800\"", "\"\\u0000\"", "\"\\uZZZZ\"", "\"9999-12-31T23:59:59Z\"", "\"0000-01-01T00:00:00+23:59\"", "\"2026-02-30T10:00:00Z\"",
        "\"2026-05-01T10:30:00.99999999999999999999Z\"", "\"1e300\"", "\"-1e300\"", "1e300s", "99999999999d", "-5m", "${UNSET_FUZZ}", "\"${\"",
        "~", "''", "\"\u{202E}\"", "\"\u{1F600}\"",
    ]

    static func mutate(_ input: Data, using random: inout SplitMix64, rounds: Int? = nil) -> Data {
        var bytes = [UInt8](input)
        for _ in 0..<(rounds ?? Int.random(in: 1...3, using: &random)) {
            bytes = mutateOnce(bytes, using: &random)
        }
        return Data(bytes)
    }

    private static func mutateOnce(_ input: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = input
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<10, using: &random) {
        case 0:  // truncate
            bytes.removeSubrange(position...)
        case 1:  // flip a bit
            if !bytes.isEmpty { bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random) }
        case 2:  // random bytes
            bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: position)
        case 3:  // invalid UTF-8: a lone continuation byte, an overlong NUL, a cut 4-byte sequence
            bytes.insert(contentsOf: [[0x80], [0xC0, 0x80], [0xF0, 0x9F, 0x98], [0xFF, 0xFE]].randomElement(using: &random)!, at: position)
        case 4:  // deep nesting
            let depth = Int.random(in: 100...5000, using: &random)
            let open = [UInt8]((Bool.random(using: &random) ? "[" : "{\"a\":").utf8)
            bytes.insert(contentsOf: Array([[UInt8]](repeating: open, count: depth).joined()), at: position)
        case 5:  // delete a range
            let end = min(bytes.count, position + Int.random(in: 1...40, using: &random))
            bytes.removeSubrange(position..<end)
        case 6:  // duplicate a range
            let end = min(bytes.count, position + Int.random(in: 1...40, using: &random))
            bytes.insert(contentsOf: bytes[position..<end], at: position)
        default:  // replace the value after a ':' (or a token) with a nasty one
            let value = Array(nastyValues.randomElement(using: &random)!.utf8)
            if let colon = bytes[position...].firstIndex(of: UInt8(ascii: ":")) {
                var end = colon + 1
                while end < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x0A].contains(bytes[end]) { end += 1 }
                bytes.replaceSubrange((colon + 1)..<end, with: [0x20] + value)
            } else {
                bytes.insert(contentsOf: value, at: position)
            }
        }
        return bytes
    }
}
