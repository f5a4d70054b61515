/// `${VAR}` and `${VAR:-default}` inside string values, expanded after parsing so a secret's
/// characters never change the document's structure. `$${` is a literal `${`.
enum EnvironmentExpansion {
    enum Failure: Error, Equatable {
        case unset(String)
        case unterminated
    }

    static func expand(_ text: String, environment: [String: String]) throws(Failure) -> String {
        guard text.contains("${") else { return text }
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
                // `$${` → literal `${`
                output += rest[..<rest.index(before: start.lowerBound)] + "${"
                rest = rest[start.upperBound...]
                continue
            }
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { throw .unterminated }
            let expression = rest[start.upperBound..<end]
            if let separator = expression.range(of: ":-") {
                let name = String(expression[..<separator.lowerBound])
                let fallback = String(expression[separator.upperBound...])
                let value = environment[name].flatMap { $0.isEmpty ? nil : $0 }
                output += value ?? fallback
            } else {
                guard let value = environment[String(expression)] else { throw .unset(String(expression)) }
                output += value
            }
            rest = rest[rest.index(after: end)...]
        }
        return output + rest
    }
}
