import Foundation

/// The HEC status codes of PROTOCOLS.md and the HTTP status each one travels with.
/// Every HEC answer is `{"text": …, "code": N}` JSON, whatever the outcome.
enum SplunkHECReply {
    static func httpStatus(_ code: Int) -> Int {
        switch code {
        case 0, 17: 200
        case 1, 4: 403
        case 2, 3: 401
        case 5, 6, 7, 10, 11, 12, 13, 14, 15: 400
        case 8: 500
        case 9, 18, 19, 20, 23: 503
        case 26, 27: 429
        default: 500
        }
    }

    static func text(_ code: Int) -> String {
        switch code {
        case 0: "Success"
        case 1: "Token disabled"
        case 2: "Token is required"
        case 3: "Invalid authorization"
        case 4: "Invalid token"
        case 5: "No data"
        case 6: "Invalid data format"
        case 7: "Incorrect index"
        case 8: "Internal server error"
        case 9: "Server is busy"
        case 10: "Data channel is missing"
        case 11: "Invalid data channel"
        case 12: "Event field is required"
        case 13: "Event field cannot be blank"
        case 14: "ACK is disabled"
        case 15: "Error in handling indexed fields"
        case 17: "HEC is healthy"
        case 18, 19, 20: "HEC is unhealthy"
        case 23: "Server is shutting down"
        case 26: "HEC queue at capacity"
        case 27: "HEC ack channel at capacity"
        default: "Internal server error"
        }
    }

    /// `{"text","code"}` plus `invalid-event-number` (codes 6, 7, 12, 13, 15) or `ackId`.
    static func response(
        _ code: Int,
        invalidEvent: Int? = nil,
        ackId: Int? = nil,
        text: String? = nil,
        retryAfter: String? = nil
    ) -> EmulatorResponse {
        var json = #"{"text":"# + JSONText.quote(text ?? self.text(code)) + #","code":\#(code)"#
        if let invalidEvent { json += #","invalid-event-number":\#(invalidEvent)"# }
        if let ackId { json += #","ackId":\#(ackId)"# }
        var response = EmulatorResponse.json(json + "}", status: httpStatus(code))
        if let retryAfter { response.headers.append(("Retry-After", retryAfter)) }
        return response
    }

    /// The HEC code a plain `.status` fault stands for, so its body still looks like Splunk's.
    static func forHTTPStatus(_ status: Int) -> EmulatorResponse {
        let code: Int =
            switch status {
            case 503: 9
            case 429: 26
            case 401: 3
            case 403: 4
            case 400: 6
            default: 8
            }
        var response = Self.response(code)
        response.status = status
        return response
    }
}
