import Foundation

extension RecordedRequest {
    /// The query string's pairs in order, percent-decoded, `+` read as a space (as form
    /// decoding does, so an unescaped `+02:00` offset arrives as ` 02:00`, like on a real server).
    var queryItems: [(name: String, value: String)] {
        guard let mark = path.firstIndex(of: "?") else { return [] }
        return path[path.index(after: mark)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.formDecode(parts[0]), parts.count > 1 ? Self.formDecode(parts[1]) : "")
        }
    }

    /// The last value given for a query parameter (later ones win, as most frameworks do).
    func query(_ name: String) -> String? {
        queryItems.last { $0.name == name }?.value
    }

    private static func formDecode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// Query strings the emulators write into `next` links.
enum QueryString {
    /// Unreserved characters only, so `+`, `:` and `&` in values survive the round trip.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ items: [(name: String, value: String)]) -> String {
        items.map { escape($0.name) + "=" + escape($0.value) }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
