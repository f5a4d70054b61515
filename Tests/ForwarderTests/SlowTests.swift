import Foundation
import Testing

extension Tag {
    /// System tests that run real processes for tens of seconds: SIGKILL and restart loops,
    /// a full disk, several agents on PostgreSQL.
    @Tag static var slow: Self
}

/// The trait of the slow suites: tagged `.slow`, and left out when `AFWD_SKIP_SLOW=1` (this
/// toolchain's `swift test` filters by name, not by tag), for a quick loop while editing:
/// `AFWD_SKIP_SLOW=1 swift test --skip-build`. CI runs them all.
enum SlowTests {
    static let enabled = ProcessInfo.processInfo.environment["AFWD_SKIP_SLOW"] != "1"
    static let reason: Comment = "a slow system test, left out because AFWD_SKIP_SLOW=1"
}
