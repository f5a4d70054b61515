import Foundation

/// `encoding: native`: the schema as JSON, keys sorted so the same event always has the same bytes.
public enum NativeEncoding {
    public static func encode(_ event: AuditEvent) throws -> Data {
        try encoder().encode(event)
    }

    public static func encode(_ value: JSONValue) throws -> Data {
        try encoder().encode(value)
    }

    private static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
