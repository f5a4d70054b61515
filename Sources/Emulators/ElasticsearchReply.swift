/// Elasticsearch's JSON answers: request-level errors and `GET /`.
enum ElasticsearchReply {
    /// `{"error":{"root_cause":[…],"type","reason"},"status"}`, the shape of every request-level error.
    static func error(_ status: Int, type: String, reason: String, headers: [(String, String)] = []) -> EmulatorResponse {
        let cause = #"{"type":"# + JSONText.quote(type) + #","reason":"# + JSONText.quote(reason) + "}"
        let inner = #"{"root_cause":["# + cause + #"],"type":"# + JSONText.quote(type) + #","reason":"# + JSONText.quote(reason) + "}"
        var response = EmulatorResponse.json(#"{"error":"# + inner + #","status":\#(status)}"#, status: status)
        response.headers += headers.map { (name: $0.0, value: $0.1) }
        return response
    }

    static let info = EmulatorResponse.json(
        #"{"name":"emulator-node","cluster_name":"emulator","cluster_uuid":"dGVzdC1jbHVzdGVyLXV1aWQ","#
            + #""version":{"number":"8.13.0","build_flavor":"default","lucene_version":"9.10.0"},"#
            + #""tagline":"You Know, for Search"}"#
    )

    /// For `.status` faults: a generic error of that status.
    static func forHTTPStatus(_ status: Int) -> EmulatorResponse {
        let type =
            switch status {
            case 429: "es_rejected_execution_exception"
            case 503: "cluster_block_exception"
            default: "exception"
            }
        return error(status, type: type, reason: "injected fault")
    }
}
