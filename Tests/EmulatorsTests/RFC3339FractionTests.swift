import Foundation
import Testing

@testable import Emulators

@Suite struct RFC3339FractionTests {
    @Test func formatsMillisecondsAndMicroseconds() {
        #expect(RFC3339.format(milliseconds: 1_777_629_601_250) == "2026-05-01T10:00:01.250Z")
        #expect(RFC3339.format(milliseconds: 1_777_629_601_000) == "2026-05-01T10:00:01.000Z")
        #expect(RFC3339.format(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339.format(microseconds: 1_777_629_601_000_042) == "2026-05-01T10:00:01.000042Z")
        #expect(RFC3339.format(microseconds: 1_777_629_601_000_000) == "2026-05-01T10:00:01Z")
    }

    @Test func parsesFractionsExactly() {
        #expect(RFC3339.parseExact("2026-05-01T10:00:01.25Z")! == (1_777_629_601, 250_000_000))
        #expect(RFC3339.parseExact("2026-05-01T12:00:01.123456789123+02:00")! == (1_777_629_601, 123_456_789))
        #expect(RFC3339.parseMilliseconds("2026-05-01T10:00:01.999Z") == 1_777_629_601_999)
        #expect(RFC3339.parseExact("2026-05-01T10:00:01.Z") == nil)
        #expect(RFC3339.milliseconds(Date(timeIntervalSince1970: 1_777_629_601.123)) == 1_777_629_601_123)
    }
}
