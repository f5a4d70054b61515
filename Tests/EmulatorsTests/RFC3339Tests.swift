import Foundation
import Testing

@testable import Emulators

@Suite struct RFC3339Tests {
    @Test func formatsWholeSecondsInUTC() {
        #expect(RFC3339.format(seconds: 0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(seconds: 1_777_631_400) == "2026-05-01T10:30:00Z")
        #expect(RFC3339.format(seconds: 951_782_400) == "2000-02-29T00:00:00Z")
        #expect(RFC3339.format(seconds: -1) == "1969-12-31T23:59:59Z")
    }

    @Test func parsesZonesAndFractions() {
        #expect(RFC3339.parse("2026-05-01T10:30:00Z") == 1_777_631_400)
        #expect(RFC3339.parse("2026-05-01t10:30:00z") == 1_777_631_400)
        #expect(RFC3339.parse("2026-05-01T12:30:00+02:00") == 1_777_631_400)
        #expect(RFC3339.parse("2026-05-01T05:00:00-05:30") == 1_777_631_400)
        #expect(RFC3339.parse("2026-05-01T10:30:00.250Z") == 1_777_631_400.25)
    }

    @Test(arguments: [
        "", "2026-05-01", "2026-05-01T10:30:00", "2026-05-01 10:30:00Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-05-01T24:00:00Z", "2026-05-01T10:60:00Z", "2026-05-01T10:30:60Z",
        "2026-05-01T10:30:00.Z", "2026-05-01T10:30:00+0200", "2026-05-01T10:30:00Zjunk", "1777631400",
    ])
    func rejects(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
    }
}
