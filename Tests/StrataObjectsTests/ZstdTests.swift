import Testing
@testable import StrataObjects

@Suite("Objects: zstd frames") struct ZstdTests {
    /// After a large frame that did not shrink, the next one is probed: incompressible bytes are stored raw on the
    /// probe alone, bytes that compress are still compressed (the probe sees them shrink), and a stream that
    /// compresses is not probed. Every compressed frame decompresses to its bytes.
    @Test func probeStoresIncompressibleFramesRawAndStillCompressesTheRest() {
        let compressor = ZstdCompressor(level: 2)
        let noise = pseudoRandomBytes(256 << 10, seed: 11)
        let table = Array(Array(String(repeating: "id,name,city\n1,Acme Holdings,Durban\n", count: 8_000).utf8)[..<(256 << 10)])
        // Random bytes with a compressible stretch that the three samples miss still count as incompressible: the
        // probe is a guess, and storing raw is always valid.
        var mixed = noise
        mixed.replaceSubrange(20_000..<60_000, with: table[..<40_000])
        func store(_ bytes: [UInt8]) -> [UInt8]? {
            bytes.withUnsafeBytes { src in compressor.compress(src) { $0.map { Array($0) } } }
        }
        #expect(store(noise) == nil)  // a full attempt: raw
        #expect(compressor.rawByProbe == 0)
        #expect(store(noise) == nil)  // probed: raw without a full attempt
        #expect(compressor.rawByProbe == 1)
        #expect(store(mixed) == nil)
        #expect(compressor.rawByProbe == 2)
        let first = store(table)  // probed, and the samples shrink: compressed
        #expect(first != nil && first!.count < table.count / 4)
        #expect(store(table) != nil)  // not probed
        #expect(compressor.rawByProbe == 2)
        #expect(store(noise) == nil)  // after frames that shrank: a full attempt again
        #expect(compressor.rawByProbe == 2)
        // Small frames (grouped small objects) are never probed and leave the hint as it was.
        #expect(store(Array(noise[..<1_000])) == nil && store(Array(table[..<1_000])) != nil)
        #expect(compressor.rawByProbe == 2)
        #expect(store(noise) == nil)  // probed: the last large frame was raw
        #expect(compressor.rawByProbe == 3)
        if let first {
            #expect(first.withUnsafeBytes { Zstd.decompress($0, rawLength: table.count) } == table)
        }
    }
}
