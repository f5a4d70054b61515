import Emulators
import Foundation
import Testing

@Suite struct ZlibTests {
    private let text = Data(String(repeating: "audit event ✓ ", count: 5000).utf8)

    @Test(arguments: [Zlib.Format.gzip, .zlib, .rawDeflate])
    func roundTrip(format: Zlib.Format) throws {
        let packed = Zlib.compress(text, format: format)
        #expect(packed.count < text.count / 10)
        #expect(try Zlib.decompress(packed, format: format) == text)
        #expect(try Zlib.decompress(Zlib.compress(Data(), format: format), format: format).isEmpty)
    }

    @Test func cutShortTrailingBytesWrongFormatAndLimit() {
        let packed = Zlib.compress(text)
        #expect(throws: Zlib.Failure.corrupt) { try Zlib.decompress(packed.prefix(packed.count - 10), format: .gzip) }
        #expect(throws: Zlib.Failure.corrupt) { try Zlib.decompress(packed + Data("x".utf8), format: .gzip) }
        #expect(throws: Zlib.Failure.corrupt) { try Zlib.decompress(text, format: .gzip) }
        #expect(throws: Zlib.Failure.corrupt) { try Zlib.decompress(Data(), format: .gzip) }
        #expect(throws: Zlib.Failure.tooLarge) { try Zlib.decompress(packed, format: .gzip, limit: text.count - 1) }
        #expect((try? Zlib.decompress(packed, format: .gzip, limit: text.count)) == text)
    }
}
