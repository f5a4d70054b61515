import Foundation

/// What the configuration asks of this machine, checked before a run needs it: `check` reports
/// these as configuration errors (exit 78) with the key that fixes them.
public enum RuntimeChecks {
    public static func problems(_ configuration: ForwarderConfiguration) -> [String] {
        var problems: [String] = []
        let directory = configuration.state.isShared ? "" : (configuration.state.path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !directory.isEmpty, !(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue) {
            problems.append(
                "state.path: the directory \(directory) does not exist; create it, owned by the user the forwarder runs as "
                    + "(the systemd units' StateDirectory= does), or choose another state.path")
        }
        if let listen = configuration.telemetry?.listen, let reason = TelemetryServer.bindProblem(listen) {
            problems.append("telemetry.listen: \(listen): \(reason)")
        }
        return problems
    }
}
