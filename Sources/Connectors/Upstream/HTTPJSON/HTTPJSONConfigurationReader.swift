import Foundation

/// The keys of a `type: http_json` source entry (see config/http-json-*.yaml for worked examples).
extension HTTPJSONSource {
    public static func read(_ reader: any ConfigurationKeys, name: String) -> HTTPJSONSource? {
        readConfiguration(reader, name: name).map(HTTPJSONSource.init)
    }

    static func readConfiguration(_ reader: any ConfigurationKeys, name: String) -> HTTPJSONConfiguration? {
        let method = (reader.string("method") ?? "GET").uppercased()
        if !["GET", "POST"].contains(method) { reader.fail("method", "must be GET or POST") }
        let url = reader.url("url", required: true)
        let headers = reader.stringMap("headers") ?? [:]
        let auth = reader.authSection()
        let body = reader.json("body")
        if let body, body.objectValue == nil { reader.fail("body", "must be a JSON object") }

        var window = HTTPJSONConfiguration.Window()
        if let w = reader.section("window") {
            window.startParam = w.string("start_param")
            window.endParam = w.string("end_param")
            window.placement = w.choice("in", default: HTTPJSONConfiguration.Placement.query)
            window.format = w.choice("format", default: HTTPJSONConfiguration.TimeFormat.rfc3339)
            w.rejectUnknownKeys()
        }
        if window.placement == .body, method == "GET" { reader.fail("window.in", "body needs method: POST") }
        let itemsPath = reader.string("items") ?? ""
        let idField = reader.requiredString("id_field") ?? "id"
        let timeField = reader.requiredString("time_field") ?? "time"
        let timeFormat = reader.choice("time_format", default: HTTPJSONConfiguration.TimeFormat.rfc3339)
        let order = reader.choice("order", default: HTTPJSONConfiguration.Order.oldestFirst)
        let pagination = readPagination(reader.section("pagination"), method: method)
        let mapping = readMapping(reader.section("mapping"), valueMaps: reader.section("value_maps"))
        guard let url else { return nil }
        return HTTPJSONConfiguration(
            name: name, method: method, url: url, headers: headers, auth: auth, body: body, window: window,
            itemsPath: itemsPath, idField: idField, timeField: timeField, timeFormat: timeFormat, order: order,
            pagination: pagination, mapping: mapping)
    }

    private static func readPagination(_ reader: (any ConfigurationKeys)?, method: String) -> HTTPJSONConfiguration.Pagination {
        guard let reader else { return .none }
        defer { reader.rejectUnknownKeys() }
        switch reader.requiredString("type") {
        case "none":
            return .none
        case "next_link":
            return .nextLink(path: reader.requiredString("path") ?? "next")
        case "link_header":
            return .linkHeader
        case "page":
            return .page(
                param: reader.string("param") ?? "page", start: reader.int("start", default: 1, range: 0...1_000_000),
                sizeParam: reader.string("size_param"), size: reader.int("size", default: 100, range: 1...100_000))
        case "offset":
            return .offset(
                param: reader.string("param") ?? "offset", sizeParam: reader.string("size_param"),
                size: reader.int("size", default: 100, range: 1...100_000))
        case "cursor":
            let placement = reader.choice("in", default: HTTPJSONConfiguration.Placement.query)
            if placement == .body, method == "GET" { reader.fail("in", "body needs method: POST") }
            return .cursor(param: reader.requiredString("param") ?? "cursor", path: reader.requiredString("path") ?? "cursor", placement: placement)
        case let other?:
            reader.fail("type", "must be one of none, next_link, link_header, page, offset, cursor, got \"\(other)\"")
            return .none
        case nil:
            return .none
        }
    }

    private static func readMapping(_ reader: (any ConfigurationKeys)?, valueMaps: (any ConfigurationKeys)?) -> HTTPJSONConfiguration.Mapping {
        var mapping = HTTPJSONConfiguration.Mapping()
        if let reader {
            for key in HTTPJSONConfiguration.Mapping.keys {
                if let path = reader.string(key) { mapping.fields[key] = path }
            }
            mapping.defaultEventType = reader.choice("event_type_default", default: AuditEvent.EventType.other)
            reader.rejectUnknownKeys()
        }
        if let valueMaps {
            for key in HTTPJSONConfiguration.Mapping.keys {
                if let map = valueMaps.stringMap(key) { mapping.valueMaps[key] = map }
            }
            valueMaps.rejectUnknownKeys()
        }
        return mapping
    }
}
