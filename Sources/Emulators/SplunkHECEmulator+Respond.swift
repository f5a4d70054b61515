import Foundation

extension SplunkHECEmulator {
    private enum Route {
        case event, raw, ack, health
    }

    /// Order: fault, route, scripted HEC failure (data routes), token, channel, body.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        if let fault = await faults.intercept() {
            if case .errorEnvelope(let message) = fault { return SplunkHECReply.response(8, text: message) }
            if let response = EmulatorResponse.forFault(fault, statusBody: SplunkHECReply.forHTTPStatus) { return response }
        }

        let route: Route
        switch (request.method, request.pathWithoutQuery) {
        case ("POST", "/services/collector"), ("POST", "/services/collector/event"): route = .event
        case ("POST", "/services/collector/raw"): route = .raw
        case ("POST", "/services/collector/ack"): route = .ack
        case ("GET", "/services/collector/health"): return SplunkHECReply.response(17)
        default:
            return .json(#"{"text":"The requested URL was not found on this server.","code":404}"#, status: 404)
        }

        if route != .ack, let failure = state.withLockedValue({ $0.failures.isEmpty ? nil : $0.failures.removeFirst() }) {
            return SplunkHECReply.response(failure.code, retryAfter: failure.retryAfter)
        }

        let token: String
        switch authenticate(request) {
        case .success(let value): token = value
        case .failure(let refusal): return SplunkHECReply.response(refusal.code)
        }
        let settings = tokens[token]!

        // A channel, when sent, must be a GUID; an ack-enabled token needs one.
        let channel = request.header("X-Splunk-Request-Channel") ?? request.queryValue("channel")
        if let channel, UUID(uuidString: channel) == nil { return SplunkHECReply.response(11) }

        switch route {
        case .ack:
            guard settings.acknowledgements else { return SplunkHECReply.response(14) }
            guard let channel else { return SplunkHECReply.response(10) }
            return pollAcks(request, channel: channel)
        case .event, .raw:
            if settings.acknowledgements && channel == nil { return SplunkHECReply.response(10) }
            return ingest(request, route == .raw, token: token, settings: settings, channel: channel)
        case .health:
            return SplunkHECReply.response(17)
        }
    }

    private struct Refusal: Error {
        var code: Int
    }

    /// `Authorization: Splunk <token>`: missing → 2, another scheme → 3, unknown → 4, disabled → 1.
    private func authenticate(_ request: RecordedRequest) -> Result<String, Refusal> {
        guard let header = request.header("Authorization"), !header.trimmingCharacters(in: .whitespaces).isEmpty else {
            return .failure(Refusal(code: 2))
        }
        guard let auth = request.authorization, auth.scheme == "splunk", !auth.credentials.isEmpty else {
            return .failure(Refusal(code: 3))
        }
        guard let settings = tokens[auth.credentials] else { return .failure(Refusal(code: 4)) }
        guard !settings.disabled else { return .failure(Refusal(code: 1)) }
        return .success(auth.credentials)
    }

    private func ingest(_ request: RecordedRequest, _ raw: Bool, token: String, settings: SplunkToken, channel: String?) -> EmulatorResponse {
        // HEC takes gzip only; deflate or a bad gzip stream reads as garbage: code 6.
        guard case .success(let body) = request.decodedBody(accepting: ["gzip"]) else {
            return SplunkHECReply.response(6, invalidEvent: 0)
        }
        guard body.contains(where: { !" \t\r\n".utf8.contains($0) }) else { return SplunkHECReply.response(5) }

        let parsed =
            raw
            ? SplunkEnvelopes.rawLines(body, request: request, allowed: settings.indexes)
            : SplunkEnvelopes.parse(body, allowed: settings.indexes)
        let stamped = parsed.events.map { event in
            var event = event
            event.channel = channel
            event.token = token
            return event
        }
        // Events before a bad one are indexed even though the request fails.
        return state.withLockedValue { state in
            if let bad = state.invalidEvent, parsed.error == nil, !raw, bad < stamped.count {
                state.invalidEvent = nil
                state.indexed += stamped.prefix(bad)
                return SplunkHECReply.response(6, invalidEvent: bad)
            }
            state.indexed += stamped
            if let error = parsed.error {
                return SplunkHECReply.response(error.code, invalidEvent: raw ? nil : error.index)
            }
            guard settings.acknowledgements, let channel else { return SplunkHECReply.response(0) }
            return SplunkHECReply.response(0, ackId: state.acks.issue(channel: channel))
        }
    }

    /// Body `{"acks":[0,1]}` → `{"acks":{"0":true,"1":false}}`.
    private func pollAcks(_ request: RecordedRequest, channel: String) -> EmulatorResponse {
        guard case .success(let body) = request.decodedBody(accepting: ["gzip"]),
            let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
            let list = object["acks"] as? [Any]
        else { return SplunkHECReply.response(6) }
        let ids = list.compactMap { JSONKind.number($0).flatMap { Int(exactly: $0) } }
        guard ids.count == list.count, ids.allSatisfy({ $0 >= 0 }) else { return SplunkHECReply.response(6) }

        let answers = state.withLockedValue { $0.acks.poll(channel: channel, ids: ids) }
        let pairs = answers.map { #""\#($0.id)":\#($0.indexed)"# }
        return .json(#"{"acks":{"# + pairs.joined(separator: ",") + "}}")
    }
}
