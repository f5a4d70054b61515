import Foundation

/// The body of `auditLog.list`. Typed like the Go server's request struct, so a field of the
/// wrong JSON type is a decoding failure (HTTP 400) rather than a validation error.
private struct AuditLogListRequest: Decodable {
    var project: String?
    var resourceType: String?
    var actor: String?
    var channel: String?
    var outcome: String?
    var after: String?
    var before: String?
    var limit: Int?
}

extension DeploysEmulator {
    static let defaultLimit = 50
    static let maximumLimit = 100

    /// Checks run in this order: fault, route (404), body decoding (400), authentication,
    /// project presence, field validation, project access, then the query.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        if let fault = await faults.intercept() {
            if case .errorEnvelope(let message) = fault { return .json(JSONText.errorEnvelope(message)) }
            if case .stallMidBody(let pause) = fault { return answer(request).stalled(for: pause) }
            if let response = EmulatorResponse.forFault(fault, statusBody: Self.statusBody) { return response }
        }
        return answer(request)
    }

    /// The answer without faults.
    private func answer(_ request: RecordedRequest) -> EmulatorResponse {

        let path = request.pathWithoutQuery
        guard request.method == "POST", path == "/auditLog.list" || path == "/auditlog.list" else {
            return .text("404 page not found", status: 404)
        }
        guard let body = try? JSONDecoder().decode(AuditLogListRequest.self, from: request.body) else {
            return .json(JSONText.errorEnvelope("invalid request body"), status: 400)
        }
        guard isAuthorized(request) else {
            return .json(JSONText.errorEnvelope("api: unauthorized"))
        }
        guard let project = body.project, !project.isEmpty else {
            return .json(JSONText.errorEnvelope("project required"))
        }

        // Present-but-invalid bounds are errors; "" counts as present (clients must omit instead).
        var problems: [String] = []
        func bound(_ field: String, _ text: String?) -> Double? {
            guard let text else { return nil }
            if let seconds = RFC3339.parse(text) { return seconds }
            problems.append("\(field): invalid time")
            return nil
        }
        let after = bound("after", body.after)
        let before = bound("before", body.before)
        let limit = body.limit ?? Self.defaultLimit
        if !(1...Self.maximumLimit).contains(limit) { problems.append("limit: must be between 1 and \(Self.maximumLimit)") }
        guard problems.isEmpty else {
            return .json(JSONText.errorEnvelope("api: validate error", items: problems))
        }
        guard project == self.project else {
            return .json(JSONText.errorEnvelope("iam: forbidden"))
        }

        // An empty filter string means "no filter", as Go's zero value would.
        func wanted(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
        let (resourceType, actor, channel, outcome) = (wanted(body.resourceType), wanted(body.actor), wanted(body.channel), wanted(body.outcome))
        let items = store.withLockedValue { store in
            store.page(after: after, before: before, limit: limit) { item in
                (resourceType == nil || item.resourceType == resourceType)
                    && (actor == nil || item.actorEmail == actor)
                    && (channel == nil || item.channel == channel)
                    && (outcome == nil || item.outcome == outcome)
            }
        }
        return .json(#"{"ok":true,"result":{"items":["# + items.map(\.json).joined(separator: ",") + "]}}")
    }

    /// Bearer with the token, or Basic with the service account when one is configured.
    private func isAuthorized(_ request: RecordedRequest) -> Bool {
        switch request.authorization?.scheme {
        case "bearer":
            return request.authorization?.credentials == token
        case "basic":
            guard let account = serviceAccount else { return false }
            return request.basicCredentials == "\(account.email):\(account.key)"
        default:
            return false
        }
    }

    /// The body of a `.status` fault given without one: the server's unknown-error
    /// envelope for 500, a proxy's plain text otherwise.
    private static func statusBody(_ status: Int) -> EmulatorResponse {
        status == 500 ? .json(#"{"ok":false,"error":{}}"#, status: 500) : .text("status \(status)", status: status)
    }
}
