import Foundation
import Testing

private let builtPackage = ProcessInfo.processInfo.environment["AUDIT_FORWARDER_PACKAGE"]

/// The Debian package of `scripts/package.sh`, installed and removed with dpkg into a scratch
/// root (`--root` with `--force-script-chrootless`: the maintainer scripts run and honour
/// `$DPKG_ROOT`), and its binary run with the Swift toolchain hidden under an empty tmpfs in a
/// mount namespace of its own. `.ci/run` builds the package first and passes its path in
/// `AUDIT_FORWARDER_PACKAGE`; without it (a developer's quick run) the suite has nothing to test.
@Suite(.enabled(if: builtPackage != nil, "AUDIT_FORWARDER_PACKAGE is not set (scripts/package.sh builds it)"))
struct PackageTests {
    static var package: String? { builtPackage }
    let root = NSTemporaryDirectory() + "af-dpkg-root-\(UUID().uuidString)"

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String)
    {
        try await ChildProcess.runTool(executable, arguments, environment: environment)
    }

    /// dpkg on the scratch root, its scripts run outside a chroot with DPKG_ROOT set. The root's
    /// database knows no other package, so dependencies are not checked there (they are listed
    /// in the control file, checked below).
    func dpkg(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Self.run(
            "/usr/bin/dpkg",
            ["--root=\(root)", "--force-script-chrootless", "--force-depends", "--force-not-root", "--log=/dev/null"] + arguments,
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
    }

    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: root + path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func installsRunsWithoutTheToolchainAndRemovesKeepingTheState() async throws {
        let package = try #require(Self.package)
        let control = try await Self.run("/usr/bin/dpkg-deb", ["--field", package, "Package", "Version", "Depends"])
        #expect(control.status == 0, "\(control.output)")
        #expect(control.output.contains("Package: audit-forwarder"))
        #expect(control.output.contains("libsqlite3-0"), "the state needs SQLite: \(control.output)")
        #expect(!control.output.contains("swift"), "no dependency on a Swift toolchain: \(control.output)")
        #expect(control.output.contains("libc6 (>= 2."), "the oldest glibc the binary runs on is stated: \(control.output)")

        for directory in ["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        FileManager.default.createFile(atPath: root + "/var/lib/dpkg/status", contents: nil)
        let install = try await dpkg(["--install", package])
        #expect(install.status == 0, "\(install.output)")
        #expect(install.output.contains("systemctl enable --now audit-forwarder"), "postinst says what to do next: \(install.output)")
        let binary = root + "/usr/bin/audit-forwarder"
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        for unit in ["audit-forwarder.service", "audit-forwarder-once.service", "audit-forwarder-once.timer"] {
            let text = try String(contentsOfFile: root + "/lib/systemd/system/" + unit, encoding: .utf8)
            #expect(!text.contains("/usr/local/bin"), "\(unit) runs the packaged binary")
        }
        #expect(mode("/etc/audit-forwarder/env") == 0o600)
        #expect(mode("/etc/audit-forwarder/credentials") == 0o700)
        #expect(FileManager.default.fileExists(atPath: root + "/etc/audit-forwarder/config.yaml"))
        // Nothing was enabled: no wants-link anywhere under the root.
        let enabled = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }.filter { $0.contains(".wants/") } ?? []
        #expect(enabled.isEmpty, "\(enabled)")

        // No library from the toolchain: the Swift runtime is inside the binary.
        let libraries = try await Self.run("/usr/bin/ldd", [binary])
        #expect(!libraries.output.contains("libswift") && !libraries.output.contains("/opt/swift"), "\(libraries.output)")
        // With the toolchain's folder hidden: --version, then the whole demo.
        let toolchain = URL(fileURLWithPath: try await Self.run("/usr/bin/which", ["swift"]).output.trimmingCharacters(in: .whitespacesAndNewlines))
            .resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().path
        let demoDirectory = root + "/demo"
        let hidden = try await Self.run(
            "/usr/bin/unshare",
            [
                "--mount", "sh", "-c",
                "mount -t tmpfs none '\(toolchain)' && ! command -v swift >/dev/null && '\(binary)' --version && '\(binary)' demo --events 40 --directory '\(demoDirectory)'",
            ])
        #expect(hidden.status == 0, "\(hidden.output)")
        #expect(hidden.output.contains("audit-forwarder 0.7.0 (build "), "\(hidden.output)")

        // Units as installed pass systemd's own check, where systemd-analyze exists. The scratch
        // root has no systemd of its own: the units are checked beside it, ExecStart= pointing
        // at the installed binary (verify wants it to exist).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") {
            let units = ["audit-forwarder.service", "audit-forwarder-once.service", "audit-forwarder-once.timer"]
            let staging = root + "-units"
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            for unit in units {
                let text = try String(contentsOfFile: root + "/lib/systemd/system/" + unit, encoding: .utf8)
                #expect(text.contains("/usr/bin/audit-forwarder") || unit.hasSuffix(".timer"))
                try text.replacingOccurrences(of: "/usr/bin/audit-forwarder", with: binary).write(
                    toFile: staging + "/" + unit, atomically: true, encoding: .utf8)
            }
            let verify = try await Self.run("/usr/bin/systemd-analyze", ["verify"] + units.map { staging + "/" + $0 })
            #expect(verify.status == 0, "\(verify.output)")
        }

        // Removal keeps the configuration and never touches the state; purge keeps the state too.
        let state = root + "/var/lib/audit-forwarder/state.sqlite"
        try FileManager.default.createDirectory(atPath: root + "/var/lib/audit-forwarder", withIntermediateDirectories: true)
        try Data("cursors and undelivered events".utf8).write(to: URL(fileURLWithPath: state))
        let remove = try await dpkg(["--remove", "audit-forwarder"])
        #expect(remove.status == 0, "\(remove.output)")
        #expect(!FileManager.default.fileExists(atPath: binary))
        #expect(FileManager.default.fileExists(atPath: root + "/etc/audit-forwarder/config.yaml"))
        let purge = try await dpkg(["--purge", "audit-forwarder"])
        #expect(purge.status == 0, "\(purge.output)")
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/audit-forwarder/config.yaml"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: state)) == Data("cursors and undelivered events".utf8))
    }
}
