import Foundation

extension ElasticsearchEmulator {
    /// Order: fault, route, authentication, size (413), content encoding, content type, bulk
    /// framing (whole-request 400), then the items one by one.
    func respond(to request: RecordedRequest) async -> EmulatorResponse {
        if let fault = await faults.intercept() {
            if case .errorEnvelope(let message) = fault {
                return ElasticsearchReply.error(500, type: "exception", reason: message)
            }
            if let response = EmulatorResponse.forFault(fault, statusBody: ElasticsearchReply.forHTTPStatus) { return response }
        }

        let path = request.pathWithoutQuery
        let segments = path.split(separator: "/").map(String.init)
        let isBulkPath = segments.last == "_bulk" && segments.count <= 2 && !(segments.count == 2 && segments[0].hasPrefix("_"))
        guard (request.method == "GET" && path == "/") || (["POST", "PUT"].contains(request.method) && isBulkPath) else {
            return ElasticsearchReply.error(
                404, type: "resource_not_found_exception", reason: "no handler found for uri [\(request.path)] and method [\(request.method)]")
        }
        if let refusal = authenticate(request) { return refusal }
        if request.method == "GET" { return ElasticsearchReply.info }

        let tooLarge = ElasticsearchReply.error(
            413, type: "content_too_long_exception", reason: "request body exceeds http.max_content_length [\(maxContentLength)]")
        guard request.body.count <= maxContentLength else { return tooLarge }
        let body: Data
        switch request.decodedBody(accepting: ["gzip", "deflate"], limit: maxContentLength) {
        case .success(let data): body = data
        case .failure(.tooLarge): return tooLarge
        case .failure(.unsupported(let coding)):
            return ElasticsearchReply.error(400, type: "illegal_argument_exception", reason: "unsupported Content-Encoding [\(coding)]")
        case .failure(.corrupt):
            return ElasticsearchReply.error(400, type: "parse_exception", reason: "body does not decode as its Content-Encoding")
        }
        let accepted = ["application/x-ndjson", "application/json", "application/vnd.elasticsearch+x-ndjson", "application/vnd.elasticsearch+json"]
        guard let mediaType = request.mediaType, accepted.contains(mediaType) else {
            let reason = "Content-Type header [\(request.header("Content-Type") ?? "")] is not supported"
            return .json(#"{"error":"# + JSONText.quote(reason) + #","status":406}"#, status: 406)
        }

        let pathIndex = segments.count == 2 ? segments[0].removingPercentEncoding ?? segments[0] : nil
        do throws(ElasticsearchBulkBody.Invalid) {
            let bulk = try ElasticsearchBulkBody(body, pathIndex: pathIndex)
            return runBulk(bulk, pathIndex: pathIndex, pipeline: request.queryValue("pipeline"))
        } catch {
            return ElasticsearchReply.error(400, type: error.type, reason: error.reason)
        }
    }

    /// `ApiKey <key>` or Basic, whichever is configured; nothing configured means open.
    private func authenticate(_ request: RecordedRequest) -> EmulatorResponse? {
        guard apiKey != nil || basic != nil else { return nil }
        if let auth = request.authorization {
            if auth.scheme == "apikey", let apiKey, auth.credentials == apiKey { return nil }
            if let (user, password) = basic, request.basicCredentials == "\(user):\(password)" { return nil }
        }
        let reason =
            request.header("Authorization") == nil
            ? "missing authentication credentials for REST request [\(request.path)]"
            : "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
        return ElasticsearchReply.error(
            401, type: "security_exception", reason: reason,
            headers: [("WWW-Authenticate", #"Basic realm="security", charset="UTF-8""#), ("WWW-Authenticate", "ApiKey")])
    }
}
