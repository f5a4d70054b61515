import Foundation

/// What an emulator answers, independent of the HTTP server underneath.
struct EmulatorResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)] = []
    var body: Data = Data()
    /// When set, only this many body bytes are sent before the connection is closed
    /// (the headers still announce the whole body). See `FaultInjector.Fault.resetMidBody`.
    var resetAfterBytes: Int?
    /// When set, half the body is sent, then this pause, then the rest. See `FaultInjector.Fault.stallMidBody`.
    var stallMidBody: Duration?

    static func json(_ text: String, status: Int = 200) -> EmulatorResponse {
        EmulatorResponse(status: status, headers: [("Content-Type", "application/json")], body: Data(text.utf8))
    }

    static func text(_ text: String, status: Int, contentType: String = "text/plain; charset=utf-8") -> EmulatorResponse {
        EmulatorResponse(status: status, headers: [("Content-Type", contentType)], body: Data(text.utf8))
    }

    static func empty(status: Int = 200) -> EmulatorResponse {
        EmulatorResponse(status: status)
    }

    /// The answers for the faults that mean the same thing to every emulator.
    /// `statusBody` supplies the body of a `.status` fault given without one.
    static func forFault(
        _ fault: FaultInjector.Fault,
        statusBody: (Int) -> EmulatorResponse
    ) -> EmulatorResponse? {
        switch fault {
        case .status(let code, let retryAfter, let body):
            var response = body.map { EmulatorResponse.text($0, status: code) } ?? statusBody(code)
            response.status = code
            if let retryAfter { response.headers.append(("Retry-After", retryAfter)) }
            return response
        case .garbage:
            return .text(FaultInjector.Fault.garbageBody, status: 200, contentType: "text/html")
        case .truncatedJSON:
            return .json(FaultInjector.Fault.truncatedBody)
        case .resetMidBody:
            return EmulatorResponse.json(FaultInjector.Fault.truncatedBody).cutMidBody()
        case .redirect(let code, let location):
            var response = EmulatorResponse.text("moved to \(location)", status: code)
            response.headers.append(("Location", location))
            return response
        case .errorEnvelope, .delay, .stallMidBody:
            // The emulator's normal answer, late or stalled: the emulator applies these itself.
            return nil
        }
    }

    /// This response with only the first half of its body sent, then the connection closed.
    func stalled(for pause: Duration) -> EmulatorResponse {
        var stalled = self
        stalled.stallMidBody = pause
        return stalled
    }

    func cutMidBody() -> EmulatorResponse {
        var cut = self
        cut.resetAfterBytes = body.count / 2
        return cut
    }
}
