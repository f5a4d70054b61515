import Connectors
import Emulators
import Foundation
import Testing

@testable import Forwarder

/// The HTTP client under every connector: limits, timeouts and cancellation.
@Suite struct WireClientTests {
    /// A deploys.app emulator with `count` items and a request for one page of 100.
    private static func upstream(_ count: Int) async throws -> (DeploysEmulator, WireRequest) {
        let deploys = DeploysEmulator(token: "t", project: "acme")
        let now = Date()
        await deploys.seed(DeploysEmulator.generate(count: count, firstID: 1, from: now.addingTimeInterval(-3600), to: now.addingTimeInterval(-60)))
        let url = try await deploys.start()
        let request = WireRequest(
            method: "POST", url: url.appendingPathComponent("auditLog.list"),
            headers: [.init("Authorization", "Bearer t", isSecret: true), .init("Content-Type", "application/json")],
            body: Data(#"{"project":"acme","limit":100}"#.utf8))
        return (deploys, request)
    }

    @Test func aResponseLargerThanTheLimitIsAnErrorNotAnAllocation() async throws {
        let (deploys, request) = try await Self.upstream(100)
        let small = try WireClient(maxResponseBytes: 4096)
        await #expect {
            try await small.send(request, timeout: .seconds(5))
        } throws: { error in
            "\(error)".contains("larger than 4096 bytes")
        }
        let roomy = try WireClient()
        let response = try await roomy.send(request, timeout: .seconds(5))
        #expect(response.status == 200)
        #expect(response.body.count > 4096)
        await small.shutdown()
        await roomy.shutdown()
        await deploys.stop()
    }

    /// Where `RequestBody` cuts a body: whole up to one piece, then pieces of 64 KiB, then at most
    /// 64 larger ones; the pieces cover the body exactly, in order.
    @Test func aBodyIsCutIntoBoundedPieces() {
        let piece = RequestBody.pieceBytes
        #expect(RequestBody.pieces(of: 0) == [0..<0])
        #expect(RequestBody.pieces(of: piece) == [0..<piece])
        #expect(RequestBody.pieces(of: piece + 1) == [0..<piece, piece..<(piece + 1)])
        for count in [3 * piece - 5, piece * RequestBody.maxPieces, piece * RequestBody.maxPieces + 12_345, 512 << 20] {
            let pieces = RequestBody.pieces(of: count)
            #expect(pieces.count <= RequestBody.maxPieces)
            #expect(pieces.first?.lowerBound == 0 && pieces.last?.upperBound == count)
            #expect(zip(pieces, pieces.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && !$0.isEmpty })
            #expect(pieces.dropLast().allSatisfy { $0.count >= piece })
        }
    }

    /// A large body arrives whole and in order, with its length declared: a small one, one just
    /// over a piece, and one over the 64-piece cap, each cut from the middle of a larger `Data`
    /// (its indexes not starting at 0). A release build sends the last two in pieces; a debug
    /// build whole (`RequestBody`).
    @Test func aLargeBodyArrivesWhole() async throws {
        let (deploys, request) = try await Self.upstream(1)
        let client = try WireClient()
        let whole = Data((0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
        let sizes = [100, RequestBody.pieceBytes + 1, RequestBody.pieceBytes * RequestBody.maxPieces + 12_345]
        for size in sizes {
            var post = request
            post.body = whole[7..<(7 + size)]
            _ = try await client.send(post, timeout: .seconds(30))
        }
        let received = await deploys.requests().suffix(sizes.count)
        #expect(received.map(\.body.count) == sizes)
        for (size, request) in zip(sizes, received) {
            #expect(request.body == whole[7..<(7 + size)], "a body of \(size) bytes arrived altered")
            let length = request.headers.first { $0.name.lowercased() == "content-length" }?.value
            #expect(length == String(size))
        }
        await client.shutdown()
        await deploys.stop()
    }

    /// A caller that throws before `shutdown()` drops its client: that must not trap (debug
    /// builds of AsyncHTTPClient trap on a client freed while running, which once took the whole
    /// test process down when a request here failed under load).
    @Test func aClientDroppedWithoutShutdownIsShutDownInsteadOfTrapping() async throws {
        let (deploys, request) = try await Self.upstream(5)
        var dropped: WireClient? = try WireClient()
        #expect(try await dropped?.send(request, timeout: .seconds(30)).status == 200)
        dropped = nil
        // The shutdown runs on its own; the process is still here to check the next client works.
        let client = try WireClient()
        #expect(try await client.send(request, timeout: .seconds(30)).status == 200)
        await client.shutdown()
        await deploys.stop()
    }

    @Test func theTimeoutCoversABodyThatStalls() async throws {
        let (deploys, request) = try await Self.upstream(100)
        // A stall far longer than the bound below: the suite's load has stalled tasks by 10 s.
        await deploys.faults.enqueue(.stallMidBody(.seconds(90)))
        let client = try WireClient()
        let clock = ContinuousClock()
        let started = clock.now
        await #expect {
            try await client.send(request, timeout: .milliseconds(500))
        } throws: { error in
            "\(error)".contains("timed out after 500ms")
        }
        #expect(clock.now - started < .seconds(45), "the stalled body did not hold the request past its timeout")
        await client.shutdown()
        await deploys.stop()
    }

    @Test func cancellingTheCallerCancelsTheRequest() async throws {
        let (deploys, request) = try await Self.upstream(10)
        await deploys.faults.enqueue(.delay(.seconds(90)))
        let client = try WireClient()
        let clock = ContinuousClock()
        let started = clock.now
        let sending = Task { try await client.send(request, timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(200))
        sending.cancel()
        await #expect(throws: CancellationError.self) { try await sending.value }
        #expect(clock.now - started < .seconds(45))
        await client.shutdown()
        await deploys.stop()
    }
}
