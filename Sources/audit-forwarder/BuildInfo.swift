/// What `audit-forwarder --version` prints: the release and the build it came from.
enum BuildInfo {
    /// Raised with each release; the Debian package carries the same number.
    static let version = "0.7.0"

    #if BUILD_STAMP
        /// The commit and time `scripts/package.sh` wrote into BuildStamp.swift before building.
        static let build = buildStamp
    #else
        static let build = "development build"
    #endif

    static var versionLine: String { "audit-forwarder \(version) (\(build))" }
}
