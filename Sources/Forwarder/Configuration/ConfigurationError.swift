/// An invalid configuration: every problem found, each naming its key path
/// (`sinks[1].batch_size: must be between 1 and 10000`). Exit status 78.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { path.isEmpty ? message : "\(path): \(message)" }
    }

    public var problems: [Problem]

    public init(problems: [Problem]) {
        self.problems = problems
    }

    public init(path: String, _ message: String) {
        problems = [Problem(path: path, message: message)]
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
