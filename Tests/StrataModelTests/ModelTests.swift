import Foundation
import Testing
import StrataTestSupport
@testable import StrataModel

func randomName(_ g: inout SplitMix) -> String {
    let alphabet = Array("abcXYZ019 _-.éü日本")
    var s = ""
    for _ in 0..<Int.random(in: 1...12, using: &g) { s.append(alphabet.randomElement(using: &g)!) }
    if s == "." || s == ".." { s += "x" }
    return s
}

func randomID(_ g: inout SplitMix) -> ObjectID {
    ObjectID(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
}

@Suite("ObjectID") struct ObjectIDTests {
    @Test func sha256OfKnownInputs() {
        #expect(ObjectID.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ObjectID.empty.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func hexRoundTrip() {
        var g = SplitMix(state: 1)
        for _ in 0..<500 {
            let id = randomID(&g)
            #expect(ObjectID(hex: id.hex) == id)
            #expect(ObjectID(bytes: id.bytes) == id)
        }
        #expect(ObjectID(hex: "xyz") == nil)
        #expect(ObjectID(hex: String(repeating: "g", count: 64)) == nil)
        // One bad digit anywhere (first and last of each 16-digit word) refuses the whole id; upper case is read.
        let id = randomID(&g)
        for pos in [0, 15, 16, 31, 32, 47, 48, 63] {
            var digits = Array(id.hex)
            digits[pos] = "g"
            #expect(ObjectID(hex: String(digits)) == nil)
        }
        #expect(ObjectID(hex: id.hex.uppercased()) == id)
    }

    @Test func incrementalEqualsOneShot() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var h = SHA256Hasher()
        data.withUnsafeBytes { b in
            h.update(UnsafeRawBufferPointer(rebasing: b[0..<777]))
            h.update(UnsafeRawBufferPointer(rebasing: b[777...]))
        }
        #expect(h.finalize() == ObjectID.hash(data))
    }
}

@Suite("Tree and commit encoding") struct EncodingTests {
    @Test func treeRoundTripProperty() throws {
        var g = SplitMix(state: 42)
        for _ in 0..<200 {
            var names = Set<String>()
            var entries: [TreeEntry] = []
            for _ in 0..<Int.random(in: 0...30, using: &g) {
                let n = randomName(&g)
                guard names.insert(n).inserted else { continue }
                entries.append(
                    TreeEntry(name: n, kind: EntryKind.allCases.randomElement(using: &g)!, id: randomID(&g), size: UInt64.random(in: 0...1 << 40, using: &g)))
            }
            let t = try Tree(entries: entries.shuffled(using: &g))
            let decoded = try Tree.decode(t.encoded())
            #expect(decoded == t)
            #expect(decoded.id == t.id)
            // Order of construction does not change the id.
            #expect(try Tree(entries: entries).id == t.id)
        }
    }

    /// Names equal under Unicode normalization but not byte for byte are refused, also when other names sort between
    /// them in byte order ("cafe\u{301}" < "caff" < "caf\u{E9}"); byte-distinct names that Swift also tells apart stay.
    @Test func treeRejectsNamesEqualUnderNormalization() throws {
        let nfc = "caf\u{E9}.csv", nfd = "cafe\u{301}.csv"
        #expect(nfc == nfd && !nfc.utf8.elementsEqual(nfd.utf8))
        for names in [[nfc, nfd], [nfc, "caff.csv", nfd], ["z", nfd, "a", nfc]] {
            #expect(throws: ModelError.equivalentNames(nfd, nfc)) {
                try Tree(entries: names.map { TreeEntry(name: $0, kind: .file, id: .empty, size: 0) })
            }
        }
        let ok = try Tree(entries: [nfc, "caff.csv", "Zo\u{EB}"].map { TreeEntry(name: $0, kind: .file, id: .empty, size: 0) })
        #expect(ok.entries.count == 3)
        #expect(ModelError.equivalentNames(nfd, nfc).message.contains("cafe\\u{301}.csv' and 'caf\\u{E9}.csv'"))
    }

    /// Paths are split and compared at their "/" bytes, never at Characters (a combining mark joins the "/" before it).
    @Test func workspacePathsAreSplitAsBytes() throws {
        #expect(throws: WorkspacePath.Refusal.self) { try WorkspacePath.normalize("../\u{301}etc") }
        #expect(throws: WorkspacePath.Refusal.self) { try WorkspacePath.normalize("dir/\u{301}x.csv") }
        #expect(try WorkspacePath.normalize("caf\u{E9}//x/./y/..") == "caf\u{E9}/x")
        #expect(WorkspacePath.isWithin("dir/\u{301}x", "dir") && WorkspacePath.isWithin("dir", "dir") && WorkspacePath.isWithin("a", ""))
        #expect(!WorkspacePath.isWithin("caf\u{E9}/x", "cafe\u{301}") && !WorkspacePath.isWithin("dirx", "dir"))
        #expect(throws: ModelError.self) { try BranchName("x/\u{301}y") }
        #expect(throws: ModelError.self) { try BranchName("/\u{301}y") }
        #expect(try BranchName("caf\u{E9}/x").rawValue == "caf\u{E9}/x")
    }

    @Test func treeRejectsUnsafeNames() {
        for bad in ["..", ".", "", "a/b", "x\u{0}y", "\u{301}x.csv", "x\u{600}"] {
            #expect(throws: ModelError.self) { try Tree(entries: [TreeEntry(name: bad, kind: .file, id: .empty, size: 0)]) }
        }
        // A crafted tree (as a hostile remote could send) is refused when decoded, for every unsafe name.
        for bad in ["..", ".", "a/b", "x\u{0}y", "line\nbreak", "/", "../x"] {
            let crafted = Tree(uncheckedEntries: [TreeEntry(name: bad, kind: .file, id: .empty, size: 0)])
            #expect(throws: ModelError.unsafeEntryName(bad)) { try Tree.decode(crafted.encoded()) }
        }
        for fine in ["...", ".a", "a..", "a.b"] {
            let t = Tree(uncheckedEntries: [TreeEntry(name: fine, kind: .file, id: .empty, size: 0)])
            #expect(throws: Never.self) { try Tree.decode(t.encoded()) }
        }
    }

    @Test func treeRejectsNonCanonicalOrder() {
        let t = Tree(uncheckedEntries: [TreeEntry(name: "b", kind: .file, id: .empty, size: 0), TreeEntry(name: "a", kind: .file, id: .empty, size: 0)])
        #expect(throws: ModelError.self) { try Tree.decode(t.encoded()) }
    }

    /// Names are UTF-8: a crafted tree whose name bytes are not is refused, including a truncated four-byte sequence
    /// that repair would turn into one replacement character of the same length; valid multi-byte names decode as is.
    @Test func treeRejectsNamesThatAreNotUTF8() throws {
        func tree(nameBytes: [UInt8]) -> [UInt8] {
            let line = Array("f 0 \(ObjectID.empty.hex) \(nameBytes.count) ".utf8) + nameBytes + [10]
            return Array(Tree.empty.encoded()) + line
        }
        for bad: [UInt8] in [[0xFF], [0x61, 0xC3], [0xF0, 0x90, 0x80], [0xF0, 0x90, 0x80, 0x61], [0xED, 0xA0, 0x80], [0xC0, 0xAF]] {
            #expect(throws: ModelError.self) { try Tree.decode(tree(nameBytes: bad)) }
        }
        for fine in ["ünïcode", "名前", "\u{1F600}.csv", "\u{FFFD}"] {
            let t = try Tree.decode(tree(nameBytes: Array(fine.utf8)))
            #expect(t.entries.map(\.name) == [fine])
        }
    }

    @Test func commitRoundTripProperty() throws {
        var g = SplitMix(state: 7)
        for i in 0..<200 {
            let c = Commit(
                tree: randomID(&g), parents: (0..<(i % 3)).map { _ in randomID(&g) },
                author: try Signature(name: "Ann \(i) Dlamini", email: "ann\(i)@example.org"),
                time: Int64.random(in: -1_000_000...4_000_000_000, using: &g), timeZoneOffsetMinutes: [0, 120, -300, 330][i % 4],
                message: "msg \(i)\n\nbody with ünïcode and\n\nblank lines\n")
            let d = try Commit.decode(c.encoded())
            #expect(d == c)
            #expect(d.id == c.id)
        }
    }

    /// A signature holding a line break in any form is refused: "\r\n" is one Swift Character, equal to neither
    /// "\r" nor "\n", and would otherwise reach the commit's `author` line and split it for any byte-level reader.
    @Test func signaturesRefuseLineBreaksInEveryForm() {
        for bad in ["\n", "\r", "\r\n", "\0", "<", ">"] {
            #expect((try? Signature(name: "Eve\(bad)parent 00", email: "eve@example.org")) == nil, "\(bad.debugDescription) in a name")
            #expect((try? Signature(name: "Eve", email: "eve\(bad)@example.org")) == nil, "\(bad.debugDescription) in an e-mail")
        }
        #expect((try? Signature(name: "Zoë Nkosi-Dlamini", email: "z@example.org")) != nil)
    }

    @Test func commitEncodingIsStable() throws {
        // Golden: format version 1 must keep producing these bytes.
        let c = Commit(tree: .empty, parents: [], author: try Signature(name: "A", email: "a@b"), time: 0, timeZoneOffsetMinutes: 120, message: "m")
        #expect(
            String(decoding: c.encoded(), as: UTF8.self)
                == "strata-commit 1\ntree e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nauthor A <a@b>\ntime 0 +0200\n\nm")
    }
}

@Suite("Names and revisions") struct NameTests {
    @Test func refNames() {
        for good in ["main", "feature/x", "v1.0", "release-2026"] { #expect((try? BranchName(good)) != nil) }
        for bad in ["", "HEAD", "-x", "a..b", "a b", "x.lock", "a~1", "a^", "a:b", "/a", "a/", "a//b", ".hidden"] {
            #expect((try? BranchName(bad)) == nil, "\(bad) should be refused")
        }
    }

    @Test func revisions() throws {
        #expect(try Revision(parsing: "HEAD").base == .head)
        #expect(try Revision(parsing: "HEAD~3").ancestry == 3)
        #expect(try Revision(parsing: "main^^").ancestry == 2)
        #expect(try Revision(parsing: "v1~2^").ancestry == 3)
        #expect(try Revision(parsing: "abc123~").ancestry == 1)
        #expect(try Revision(parsing: "main").base == .name("main"))
        #expect(throws: ModelError.self) { try Revision(parsing: "") }
        #expect(throws: ModelError.self) { try Revision(parsing: "~1") }
        #expect(throws: ModelError.self) { try Revision(parsing: "HEAD^2") }
    }

    @Test func signatures() throws {
        let s = try Signature(parsing: "Thandi Nkosi <thandi@example.co.za>")
        #expect(s.name == "Thandi Nkosi" && s.email == "thandi@example.co.za")
        #expect(throws: ModelError.self) { try Signature(parsing: "no email") }
    }
}

@Suite("CSV (RFC 4180)") struct CSVTests {
    func rows(_ s: String, atEnd: Bool = true) -> [[String]] { CSV.records(in: Array(s.utf8), atEnd: atEnd) }

    @Test func quotedFieldsWithCommasQuotesAndLineBreaks() {
        #expect(rows("id,name,note\n1,\"Acme, (Pty) Ltd\",\"said \"\"hi\"\"\"\n") == [["id", "name", "note"], ["1", "Acme, (Pty) Ltd", "said \"hi\""]])
        #expect(rows("a,\"multi\nline\",c\r\nx,,\"\"\r\n") == [["a", "multi\nline", "c"], ["x", "", ""]])
        #expect(rows("a,b") == [["a", "b"]])
        #expect(rows("a,b", atEnd: false) == [])  // a record cut off by a prefix is left out
        #expect(rows("h1,h2\n1,2\n3,", atEnd: false) == [["h1", "h2"], ["1", "2"]])
        #expect(CSV.records(in: Array("a\nb\nc\n".utf8), limit: 2) == [["a"], ["b"]])
        #expect(rows("caf\u{e9},\"x\"\n") == [["café", "x"]])
    }

    @Test func randomTablesRoundTrip() {
        var g = SplitMix(state: 11)
        for _ in 0..<200 {
            let table = (0..<Int.random(in: 1...5, using: &g)).map { _ in
                (0..<3).map { _ in
                    String((0..<Int.random(in: 0...6, using: &g)).map { _ in ["a", ",", "\"", "\n", "é", " "].randomElement(using: &g)! }.joined())
                }
            }
            let text =
                table.map { r in r.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",") }.joined(separator: "\r\n")
                + "\r\n"
            #expect(rows(text) == table)
        }
    }
}
