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

    /// An API key or a Basic pair.
    public typealias Auth = HTTPAuth

    public init(name: String, endpoint: URL, auth: Auth? = nil, index: String, pipeline: String? = nil) {
        self.name = name
        self.endpoint = endpoint
        self.auth = auth
        self.index = index
        self.pipeline = pipeline
    }
}
