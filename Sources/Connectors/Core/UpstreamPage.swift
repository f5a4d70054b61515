import Foundation

/// What every upstream does with a page's bytes before reading its entries.
public enum UpstreamPage {
    /// `body` parsed, and the elements of the array under `path` located (see `JSONParser`); a body
    /// that is not JSON is a malformed page naming `what`, the cursor unmoved.
    static func parse(_ body: Data, what: String, elementsAt path: [String]?) throws -> (value: JSONValue, elements: [JSONParser.Element]) {
        do {
            return try JSONValue.parse(body, elementsAt: path)
        } catch let error as MalformedPayload {
            throw SourceError(.malformed, "\(what) is \(error)")
        }
    }
}
