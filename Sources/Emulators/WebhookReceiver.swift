import Foundation
import NIOConcurrencyHelpers

/// A local Standard Webhooks v1 endpoint: accepts `POST` on any path, checks the
/// configured authentication and signature, and keeps every accepted delivery.
public final class WebhookReceiver: Sendable {
    /// `whsec_<base64>`. When set, every request must carry a valid `webhook-signature`
    /// (else 401). A malformed secret makes every request fail verification.
    public let signingSecret: String?
    /// When set, `Authorization: Bearer <token>` is required (else 401).
    public let bearerToken: String?
    /// When set, `Authorization: Basic` with this user and password is required (else 401).
    public let basic: (String, String)?
    /// When set with a signing secret, a `webhook-timestamp` further than this from now is
    /// refused (401), as Standard Webhooks receivers do against replays. Default: nil (off),
    /// so tests with fixed timestamps pass.
    public let timestampTolerance: Duration?
    /// Scripted faults, consumed one per request, before any check.
    public let faults = FaultInjector()

    private let server = EmulatorServer(name: "webhook")
    private let accepted = NIOLockedValueBox<[WebhookDelivery]>([])

    public init(
        signingSecret: String? = nil,
        bearerToken: String? = nil,
        basic: (String, String)? = nil,
        timestampTolerance: Duration? = nil
    ) {
        self.signingSecret = signingSecret
        self.bearerToken = bearerToken
        self.basic = basic
        self.timestampTolerance = timestampTolerance
    }

    /// Listens on 127.0.0.1 port 0; returns `http://127.0.0.1:PORT` once listening.
    public func start() async throws -> URL {
        try await start(tls: nil)
    }

    /// As `start()`, over HTTPS with `tls`'s certificate when given.
    public func start(tls: EmulatorTLS?) async throws -> URL {
        try await server.start(tls: tls) { [self] request in await self.respond(to: request) }
    }

    /// Graceful and fast (in-flight requests get at most 1 s).
    public func stop() async {
        await server.stop()
    }

    /// Listens again on the port it had before `stop()`: between the two, clients get
    /// "connection refused". What it received before the stop is kept.
    public func restart() async throws -> URL {
        try await server.restart { [self] request in await self.respond(to: request) }
    }

    /// `http://127.0.0.1:PORT` while running.
    public var baseURL: URL? { server.baseURL }

    /// Accepted (2xx) deliveries only, in order.
    public func deliveries() async -> [WebhookDelivery] {
        accepted.withLockedValue { $0 }
    }

    /// Every request, including faulted and rejected ones, in order.
    public func requests() async -> [RecordedRequest] {
        server.requests()
    }

    /// The `"id"` of every event of every accepted delivery, in order, duplicates kept
    /// (a retried delivery shows up twice: that is what the receiver saw).
    public func receivedEventIDs() async -> [String] {
        accepted.withLockedValue { $0.flatMap(\.eventIDs) }
    }

    /// Every event of every accepted delivery, in order, as `JSONSerialization` parses it
    /// (strings, `NSNumber`/`Int`/`Double`, `Bool`, arrays, dictionaries, `NSNull`).
    /// Never nil in practice: bodies that are not JSON are refused with 400 and not kept;
    /// the optional is kept for the agreed signature.
    public func receivedEvents() async -> sending [[String: Any]]? {
        let bodies = accepted.withLockedValue { $0.map(\.body) }
        var events: [[String: Any]] = []
        for body in bodies {
            guard let parsed = Self.events(in: body) else { return nil }
            events += parsed
        }
        return events
    }

    /// Forgets every delivery and request and drops queued faults and latency.
    public func reset() async {
        accepted.withLockedValue { $0.removeAll() }
        server.clearRequests()
        await faults.clear()
    }
}

extension WebhookReceiver {
    /// Order: fault, method, authentication, signature, body. Only a request that passes
    /// them all is a delivery.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        // The format faults answer 200 with an odd body: the sender rightly counts that as
        // delivered (only the status matters), so the delivery is still kept.
        var success = EmulatorResponse.empty(status: 200)
        if let fault = await faults.intercept() {
            switch fault {
            case .errorEnvelope(let message):
                return .text(message, status: 500)
            case .garbage, .truncatedJSON:
                success = EmulatorResponse.forFault(fault) { .empty(status: $0) } ?? success
            default:
                if let response = EmulatorResponse.forFault(fault, statusBody: { .empty(status: $0) }) { return response }
            }
        }

        guard request.method == "POST" else {
            var response = EmulatorResponse.text("method not allowed", status: 405)
            response.headers.append(("Allow", "POST"))
            return response
        }
        guard isAuthorized(request) else {
            var response = EmulatorResponse.text("unauthorized", status: 401)
            response.headers.append(("WWW-Authenticate", bearerToken != nil ? "Bearer" : "Basic"))
            return response
        }

        let webhookID = request.header("webhook-id") ?? ""
        let timestamp = request.header("webhook-timestamp") ?? ""
        var signatureValid: Bool?
        if let secret = signingSecret {
            guard !webhookID.isEmpty, !timestamp.isEmpty, let header = request.header("webhook-signature"),
                StandardWebhooks.verify(secret: secret, id: webhookID, timestamp: timestamp, body: request.body, signatureHeader: header)
            else { return .text("invalid signature", status: 401) }
            if let tolerance = timestampTolerance {
                guard let sent = Int64(timestamp), abs(Double(sent) - Date().timeIntervalSince1970) <= Double(tolerance.components.seconds)
                else { return .text("timestamp outside tolerance", status: 401) }
            }
            signatureValid = true
        }

        guard let events = Self.events(in: request.body) else {
            return .text("body must be a JSON object or an array of objects", status: 400)
        }
        let delivery = WebhookDelivery(
            webhookID: webhookID,
            timestamp: timestamp,
            signatureValid: signatureValid,
            body: request.body,
            eventIDs: events.compactMap(Self.eventID)
        )
        accepted.withLockedValue { $0.append(delivery) }
        return success
    }

    private func isAuthorized(_ request: RecordedRequest) -> Bool {
        if let bearerToken {
            guard let auth = request.authorization, auth.scheme == "bearer", auth.credentials == bearerToken else { return false }
        }
        if let (user, password) = basic, request.basicCredentials != "\(user):\(password)" { return false }
        return true
    }

    /// One JSON object, or an array of objects; nil for anything else.
    static func events(in body: Data) -> [[String: Any]]? {
        guard let parsed = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else { return nil }
        if let object = parsed as? [String: Any] { return [object] }
        guard let array = parsed as? [Any] else { return nil }
        let objects = array.compactMap { $0 as? [String: Any] }
        return objects.count == array.count ? objects : nil
    }

    /// A string `"id"` as is, an integer one as digits; events without one are skipped.
    private static func eventID(_ event: [String: Any]) -> String? {
        switch event["id"] {
        case let text as String: text
        case let number as Int: String(number)
        default: nil
        }
    }
}
