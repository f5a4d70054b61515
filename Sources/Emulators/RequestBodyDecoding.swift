import Foundation

/// Why a body could not be turned back into the bytes the client meant to send.
enum BodyDecodingFailure: Error, Equatable {
    /// A `Content-Encoding` this server does not accept.
    case unsupported(String)
    /// Declared compressed, but not valid data of that coding.
    case corrupt
    /// Larger than the limit once inflated.
    case tooLarge
}

extension RecordedRequest {
    /// The body with its `Content-Encoding` undone. `accepted` lists the codings the emulated
    /// server supports besides identity (`gzip`, `deflate`); anything else is `unsupported`,
    /// so a client that compresses where the server does not is caught.
    func decodedBody(accepting accepted: Set<String>, limit: Int = .max) -> Result<Data, BodyDecodingFailure> {
        let coding = (header("Content-Encoding") ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let canonical = coding == "x-gzip" ? "gzip" : coding
        if canonical.isEmpty || canonical == "identity" {
            return body.count > limit ? .failure(.tooLarge) : .success(body)
        }
        guard accepted.contains(canonical) else { return .failure(.unsupported(coding)) }
        do {
            switch canonical {
            case "gzip":
                return .success(try Zlib.decompress(body, format: .gzip, limit: limit))
            case "deflate":
                // HTTP says zlib-wrapped; many clients send raw deflate. Real intakes take both.
                do {
                    return .success(try Zlib.decompress(body, format: .zlib, limit: limit))
                } catch Zlib.Failure.corrupt {
                    return .success(try Zlib.decompress(body, format: .rawDeflate, limit: limit))
                }
            default:
                return .failure(.unsupported(coding))
            }
        } catch Zlib.Failure.tooLarge {
            return .failure(.tooLarge)
        } catch {
            return .failure(.corrupt)
        }
    }

    /// The first value of a query parameter, percent-decoded.
    func queryValue(_ name: String) -> String? {
        URLComponents(string: path)?.queryItems?.first { $0.name == name }?.value
    }

    /// The media type of `Content-Type`, lowercased, without parameters such as `charset`.
    var mediaType: String? {
        header("Content-Type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
