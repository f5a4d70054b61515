import Foundation
import NIOSSL

/// Says in an operator's words why a TLS handshake failed, and which setting fixes it; nil for
/// errors that are not TLS. NIOSSL's own text ("handshakeFailed(...1000007d...)") names neither.
enum TLSFailure {
    static func describe(_ error: any Error, host: String) -> String? {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "TLS: the server's certificate does not name \(host); connect by the name it was issued for, or set tls.verify_hostname: false"
        }
        guard let ssl = error as? NIOSSLError else { return nil }
        let detail = String(describing: ssl)
        if detail.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS: the server's certificate is not trusted (CERTIFICATE_VERIFY_FAILED); set tls.ca_file to the CA that issued it"
        }
        return "TLS handshake failed: \(detail)"
    }
}
