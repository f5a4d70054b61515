import Foundation

/// `type: elastic` — Elasticsearch (or OpenSearch) Bulk API.
public struct ElasticsearchConfiguration: Sendable {
    public var name: String
    /// `endpoint`, e.g. `https://elastic.company.com:9200` (a path prefix is kept).
    public var endpoint: URL
    /// `api_key` or `username`/`password`. Default: none (a cluster without security).
    public var auth: Auth?
    /// `index` (or data stream). Required.
    public var index: String
    /// `pipeline`: an ingest pipeline run on every document. Default: none.
    public var pipeline: String?

    public enum Auth: Sendable {
        /// The "encoded" API key (base64 of `id:key`), sent as `Authorization: ApiKey <key>`.
        case apiKey(Secret)
        case basic(user: String, password: Secret)

        /// The credential header, marked secret.
        public var header: WireRequest.Header {
            switch self {
            case .apiKey(let key):
                return .init("Authorization", "ApiKey " + key.reveal(), isSecret: true)
            case .basic(let user, let password):
                return HTTPAuth.basic(user: user, password: password).header
            }
        }
    }

    public init(name: String, endpoint: URL, auth: Auth? = nil, index: String, pipeline: String? = nil) {
        self.name = name
        self.endpoint = endpoint
        self.auth = auth
        self.index = index
        self.pipeline = pipeline
    }
}
