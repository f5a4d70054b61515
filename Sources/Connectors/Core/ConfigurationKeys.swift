import Foundation

/// One mapping of the configuration file as a connector's key reader sees it (each connector
/// folder holds its reader: `<Connector>ConfigurationReader.swift`). Getters expand `${VAR}`,
/// read `*_file` secrets and check types and ranges; a problem is recorded with its key path
/// (`sources[2].page_size: …`) and the load goes on, so that every mistake is reported at once
/// (exit 78). The configuration loader implements it.
public protocol ConfigurationKeys: AnyObject {
    func has(_ key: String) -> Bool
    func string(_ key: String) -> String?
    func requiredString(_ key: String) -> String?
    /// A secret: the key itself, or `<key>_file` naming a file that holds it.
    func secret(_ key: String) -> String?
    func requiredSecret(_ key: String) -> String?
    func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int
    func bool(_ key: String, default defaultValue: Bool) -> Bool
    func duration(_ key: String, default defaultValue: Duration, minimum: Duration) -> Duration
    func url(_ key: String, required: Bool) -> URL?
    func stringList(_ key: String) -> [String]?
    func stringMap(_ key: String) -> [String: String]?
    func json(_ key: String) -> JSONValue?
    func choice<T: RawRepresentable>(_ key: String, default defaultValue: T) -> T where T.RawValue == String, T: CaseIterable
    /// The mapping under `key`; nil when absent (anything else there is reported).
    func section(_ key: String) -> (any ConfigurationKeys)?
    /// Records a problem at `key` (nil: this mapping itself).
    func fail(_ key: String?, _ message: String)
    /// Every key not read so far is reported as unknown.
    func rejectUnknownKeys()
}

extension ConfigurationKeys {
    /// `token` (Bearer), or `username` + `password` (Basic, e.g. a service account's email and key).
    public func tokenOrBasicAuth() -> HTTPAuth? {
        let token = secret("token")
        let username = string("username")
        let password = secret("password")
        switch (token, username, password) {
        case (let token?, nil, nil) where !token.isEmpty:
            return .bearer(Secret(token))
        case (nil, let user?, let password?):
            return .basic(user: user, password: Secret(password))
        case (nil, nil, nil):
            // A present key whose ${VAR} is unset was already reported.
            if !has("token") && !has("token_file") && !has("username") {
                fail("token", "is required (or token_file, or username and password)")
            }
        default:
            fail("token", "give either token, or username and password, not both; and not empty")
        }
        return nil
    }

    /// `auth: { type: bearer | basic | header, … }`, for every connector that takes one.
    public func authSection() -> HTTPAuth? {
        guard let keys = section("auth") else { return nil }
        defer { keys.rejectUnknownKeys() }
        switch keys.requiredString("type") {
        case "bearer":
            return keys.requiredSecret("token").map { .bearer(Secret($0)) }
        case "basic":
            guard let user = keys.requiredString("username"), let password = keys.requiredSecret("password") else { return nil }
            return .basic(user: user, password: Secret(password))
        case "header":
            guard let header = keys.requiredString("name"), let value = keys.requiredSecret("value") else { return nil }
            return .header(name: header, value: Secret(value))
        case let other?:
            keys.fail("type", "must be bearer, basic or header, got \"\(other)\"")
            return nil
        case nil:
            return nil
        }
    }

    /// `base_url`, or `region` looked up in `regionURL`; not both. nil when neither is given (the
    /// caller's default region), or on an error already reported.
    public func baseURL(regions: [String], _ regionURL: (String) -> URL?) -> URL? {
        let baseURL = url("base_url", required: false)
        guard let region = string("region") else { return baseURL }
        if baseURL != nil {
            fail("region", "give region or base_url, not both")
            return baseURL
        }
        guard let url = regionURL(region) else {
            fail("region", "must be one of \(regions.joined(separator: ", ")), got \"\(region)\"")
            return nil
        }
        return url
    }
}
