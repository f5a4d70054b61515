import Foundation

/// RFC 8288 `Link` headers: the `rel="next"` target, resolved against the request's URL.
public enum LinkHeader {
    /// The `rel="next"` target among all of a response's `Link` headers (Okta sends `self` and
    /// `next` as two headers, not one list).
    public static func next(in response: WireResponse, relativeTo base: URL) -> URL? {
        let links = response.headers.filter { $0.name.caseInsensitiveCompare("Link") == .orderedSame }.map(\.value)
        return links.isEmpty ? nil : next(in: links.joined(separator: ", "), relativeTo: base)
    }

    public static func next(in header: String, relativeTo base: URL) -> URL? {
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            let isNext = pieces.dropFirst().contains { parameter in
                let normalized = parameter.replacingOccurrences(of: " ", with: "").lowercased()
                return normalized == "rel=\"next\"" || normalized == "rel=next"
            }
            if isNext { return URL(string: String(target.dropFirst().dropLast()), relativeTo: base)?.absoluteURL }
        }
        return nil
    }
}
