import Foundation
import Testing

@testable import Connectors

@Suite struct ActionVerbTests {
    @Test(arguments: AuditEventSamples.verbActions)
    func actionVerbs(action: String, verb: ActionVerb?) {
        #expect(ActionVerb(action: action) == verb, "\(action)")
    }

    @Test func theLastVerbWins() {
        #expect(ActionVerb(action: "login_token.delete") == .delete)
        #expect(ActionVerb(action: "create_user.failed") == .create)
    }

    @Test func ipAddressesAndEmails() {
        for ip in ["203.0.113.42", "::1", "2001:db8::8a2e:370:7334", "fe80::1%eth0"] { #expect(EncodingSupport.isIPAddress(ip), "\(ip)") }
        for text in ["unknown", "host.example", "203.0.113.256", "", "1.2.3"] { #expect(!EncodingSupport.isIPAddress(text), "\(text)") }
        #expect(EncodingSupport.isEmail("bob@acme.io"))
        for text in ["bob", "bob@acme", "@acme.io", "bob @acme.io"] { #expect(!EncodingSupport.isEmail(text), "\(text)") }
    }

    @Test func accountTargets() {
        for type in ["user", "Users", "service_account", "Service Accounts", "role", "account", "member"] {
            #expect(EncodingSupport.isAccount(AuditEvent.Target(type: type)), "\(type)")
        }
        for type in ["project", "deployment", "read_tokens"] { #expect(!EncodingSupport.isAccount(AuditEvent.Target(type: type)), "\(type)") }
        #expect(!EncodingSupport.isAccount(nil))
    }
}
