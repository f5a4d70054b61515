import Foundation
import Testing

/// Awaited teardown for tests that start servers, engines and processes: `Teardown.add { await
/// harness.stop() }` registers a step, and the `.awaitedTeardown` trait (on the suite) runs the
/// steps after the test, last registered first, and waits for them, whether the test passed,
/// failed or threw. A `defer { Task { … } }` instead let the next test start while the last one's
/// servers were still stopping.
final class Teardown: @unchecked Sendable {
    @TaskLocal static var current: Teardown?

    private var steps: [@Sendable () async -> Void] = []
    private let lock = NSLock()

    /// Registers `step` with the running test's teardown.
    static func add(_ step: @escaping @Sendable () async -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let current else {
            Issue.record("Teardown.add outside a test with the .awaitedTeardown trait", sourceLocation: sourceLocation)
            Task { await step() }
            return
        }
        current.lock.withLock { current.steps.append(step) }
    }

    fileprivate func run() async {
        let steps = lock.withLock { () -> [@Sendable () async -> Void] in
            defer { self.steps = [] }
            return self.steps
        }
        for step in steps.reversed() { await step() }
    }
}

/// See `Teardown`.
struct AwaitedTeardown: TestTrait, SuiteTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        // The suite itself, or a test function around its cases: each case gets its own.
        guard testCase != nil else { return try await function() }
        let teardown = Teardown()
        try await Teardown.$current.withValue(teardown) {
            do {
                try await function()
            } catch {
                await teardown.run()
                throw error
            }
            await teardown.run()
        }
    }
}

extension Trait where Self == AwaitedTeardown {
    static var awaitedTeardown: Self { Self() }
}

@Suite struct TeardownTests {
    /// The scope runs every step after the body, last registered first, and waits for them, also
    /// when the body throws.
    @Test func stepsRunAfterTheTestLastFirstAndAreAwaited() async throws {
        let order = Recorded()
        try await AwaitedTeardown().provideScope(for: try #require(Test.current), testCase: Test.Case.current) {
            Teardown.add { await order.append("harness") }
            Teardown.add {
                try? await Task.sleep(for: .milliseconds(50))
                await order.append("engine")
            }
            await order.append("body")
        }
        #expect(await order.items == ["body", "engine", "harness"])

        struct Failure: Error {}
        await #expect(throws: Failure.self) {
            try await AwaitedTeardown().provideScope(for: try #require(Test.current), testCase: Test.Case.current) {
                Teardown.add { await order.append("after a throw") }
                throw Failure()
            }
        }
        #expect(await order.items.last == "after a throw")
    }
}

private actor Recorded {
    var items: [String] = []
    func append(_ item: String) { items.append(item) }
}
