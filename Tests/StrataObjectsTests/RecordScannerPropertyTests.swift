import Testing
@testable import StrataObjects

/// The scanner without its jumps: every byte goes through the machine (`RecordScanner.step`), as the scanner was
/// first written. The fast scanner must match it, since its boundaries decide chunk ids (store/FORMAT.md,
/// "Record-aligned chunks"); the machine itself is checked against the table parser in StrataTablesTests.
private struct ByteAtATimeScanner {
    var machine: RecordScanner
    var position: Int64 = 0
    init(mode: RecordScanner.Mode) { machine = RecordScanner(mode: mode) }

    mutating func next(_ p: UnsafePointer<UInt8>, count: Int, base: Int64, from: Int64) -> Int64? {
        var i = Int(position - base)
        while i < count {
            let c = p[i]
            i += 1
            let ends: Bool
            switch machine.mode {
            case .lines: ends = c == 10
            case .delimited(let sep): ends = machine.step(c, separator: sep)
            }
            if ends && base + Int64(i) >= from { position = base + Int64(i); return position }
        }
        position = base + Int64(count)
        return nil
    }
}

@Suite("Objects: record scanner") struct RecordScannerPropertyTests {
    /// For random text of quotes, separators, line breaks and letters, fed in random pieces through a window that
    /// moves as the writer's buffer does, with random `from` offsets (near and far), the fast scanner returns every
    /// boundary and position the byte-at-a-time machine does.
    @Test(arguments: 0..<40) func fastScannerIsTheByteMachine(seed: Int) {
        var rng = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func random(_ n: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(n))
        }
        let alphabets: [[UInt8]] = [
            Array("ab,\"\n".utf8), Array("a\"\n".utf8), Array("abcdefgh,\n".utf8), Array("x\t\"\n\n".utf8), Array("abc\"\"\"\"\"\n,".utf8),
            Array("abcdefghijklmnopqrstuvwxyz,,,,\n\"".utf8),
        ]
        let modes: [RecordScanner.Mode] = [.delimited(UInt8(ascii: ",")), .delimited(9), .lines]
        let alphabet = alphabets[seed % alphabets.count]
        let mode = modes[(seed / alphabets.count) % modes.count]
        let bytes = (0..<(200 + random(4000))).map { _ in alphabet[random(alphabet.count)] }
        var fast = RecordScanner(mode: mode)
        var model = ByteAtATimeScanner(mode: mode)
        var base = 0, filled = 0, from: Int64 = 0
        var found: [Int64] = []
        bytes.withUnsafeBufferPointer { all in
            while true {
                filled = min(bytes.count, filled + 1 + random(300))
                let window = all.baseAddress! + base
                let count = filled - base
                while true {
                    let a = fast.next(window, count: count, base: Int64(base), from: from)
                    let b = model.next(window, count: count, base: Int64(base), from: from)
                    #expect(a == b, "seed \(seed): boundary after \(found)")
                    #expect(fast.position == model.position, "seed \(seed)")
                    guard let cut = a, a == b else { break }
                    found.append(cut)
                    from = cut + Int64(random(4) == 0 ? random(2000) : random(120))
                }
                if filled == bytes.count { break }
                // The writer moves its window to the last boundary (or keeps it) before reading more.
                base = min(Int(fast.position), max(base, Int(found.last ?? 0)))
            }
        }
    }
}
