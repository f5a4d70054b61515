import Foundation
import Testing

@testable import Emulators

/// The sink emulators' own JSON checker (they validate every event without building it) must
/// agree with Foundation's parser on what is JSON.
@Suite struct JSONSyntaxTests {
    static let valid = [
        #"{}"#, #"[]"#, #" {"a":1} "#, #"{"a":[1,2.5,-3e+2,0,-0.1E-2],"b":{"c":null,"d":true,"e":false}}"#,
        #""text with \"escapes\" \\ \/ \b\f\n\r\t \u00e9""#, "\"caf\u{e9}\"", #"123"#, #"[[[[[]]]]]"#,
    ]
    static let invalid = [
        "", "{", "}", #"{"a":}"#, #"{"a" 1}"#, #"{"a":1,}"#, #"[1,]"#, #"[1 2]"#, #"01"#, #"1."#, #"-"#, #"1e"#,
        #""unterminated"#, "\"raw\ttab\"", #""bad \x escape""#, #""\u12G4""#, #"tru"#, #"nul"#, #"{} {}"#, #"{'a':1}"#,
        #"{"a":1}x"#,
    ]

    @Test(arguments: valid) func acceptsWhatFoundationAccepts(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(JSONSyntax.isValid(bytes, bytes.indices))
        #expect((try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil)
    }

    @Test(arguments: invalid) func refusesWhatIsNotJSON(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(!JSONSyntax.isValid(bytes, bytes.indices))
    }

    @Test func nestingIsBounded() {
        let deep = Array((String(repeating: "[", count: 600) + String(repeating: "]", count: 600)).utf8)
        #expect(!JSONSyntax.isValid(deep, deep.indices))
    }

    @Test func objectMembersAreTheValuesAsSent() throws {
        let text = #"{ "event" : {"id":"e1","n":[1,{"x":"}"}]}, "time":1433188255.5,"host":"h\"q", "fields":{"k":"v"}}"#
        let bytes = Array(text.utf8)
        let members = try #require(JSONObjectMembers.scan(bytes, bytes.indices))
        func member(_ key: String) -> String? { members[key].map { String(decoding: bytes[$0], as: UTF8.self) } }
        #expect(member("event") == #"{"id":"e1","n":[1,{"x":"}"}]}"#)
        #expect(member("time") == "1433188255.5")
        #expect(member("host") == #""h\"q""#)
        #expect(member("fields") == #"{"k":"v"}"#)
        #expect(JSONSyntax.plainString(bytes, members["host"]!) == nil, "escaped strings are decoded the slow way")
    }
}
