import Foundation

/// Credentials as one HTTP header, for every upstream and sink that authenticates that way
/// (Bearer tokens, Basic pairs, a named API-key header). Each connector's reader says which
/// cases its service takes.
public enum HTTPAuth: Sendable {
    case bearer(Secret)
    case basic(user: String, password: Secret)
    /// A named header, e.g. `X-API-Key`.
    case header(name: String, value: Secret)
    /// `Authorization: <scheme> <credential>` for schemes of a service's own: Okta's `SSWS`,
    /// Elasticsearch's `ApiKey`, Splunk HEC's `Splunk`.
    case scheme(String, Secret)

    /// The header carrying the credential, marked secret so it is redacted in dry runs.
    public var header: WireRequest.Header {
        switch self {
        case .bearer(let token):
            return .init("Authorization", "Bearer " + token.reveal(), isSecret: true)
        case .basic(let user, let password):
            return .init("Authorization", "Basic " + Data((user + ":" + password.reveal()).utf8).base64EncodedString(), isSecret: true)
        case .header(let name, let value):
            return .init(name, value.reveal(), isSecret: true)
        case .scheme(let scheme, let credential):
            return .init("Authorization", scheme + " " + credential.reveal(), isSecret: true)
        }
    }
}

extension HTTPAuth {
    /// Elasticsearch's "encoded" API key (base64 of `id:key`), sent as `Authorization: ApiKey <key>`.
    public static func apiKey(_ key: Secret) -> HTTPAuth { .scheme("ApiKey", key) }
}
