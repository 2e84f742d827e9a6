import Foundation
import StrataTestSupport
import Testing

@testable import StrataTables

/// A byte source over a string, fed in pieces of `split` bytes (to cross every record boundary).
func source(_ text: String, split: Int = 5) -> ByteSource { chunkedSource(text, split: split) }

/// Runs a three-way table merge over strings; returns the merged text, the conflict lines and the summary.
func merge3(
    _ base: String, _ ours: String, _ theirs: String, key: [String] = ["id"], format: TableFormat = .csv, appendOnly: Bool = false,
    strategy: MergeStrategy? = nil
) throws -> (String, [[String: Any]], TableMergeSummary) {
    var o = TableMergeOptions()
    o.key = key; o.appendOnly = appendOnly; o.strategy = strategy
    var out: [UInt8] = []
    var conflicts: [[String: Any]] = []
    let s = try TableMerge.merge(
        format: format, base: source(base), ours: source(ours, split: 3), theirs: source(theirs, split: 7), options: o,
        scratch: NSTemporaryDirectory() + "merge-test-" + UUID().uuidString.prefix(6), table: "t",
        output: { out += $0 },
        conflict: { line in conflicts.append(try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]) })
    return (String(decoding: out, as: UTF8.self), conflicts, s)
}

/// Golden three-way cases of the keyed and append-only table merge.
@Suite("Table merge: golden three-way cases") struct TableMergeGoldenTests {
    let base = "id,name,city\n1,Acme,Cape Town\n2,Baobab,Durban\n3,Cedar,Pretoria\n"

    @Test func bothSidesAddDifferentRows() throws {
        let (out, conflicts, s) = try merge3(base, base + "4,Delta,Polokwane\n", base + "5,Eagle,Kimberley\n")
        #expect(out == base + "4,Delta,Polokwane\n5,Eagle,Kimberley\n")  // ours, then their additions in their order
        #expect(conflicts.isEmpty && s.appended == 1)
    }

    @Test func sameRowDifferentColumnsMergesCellByCell() throws {
        let ours = "id,name,city\n1,Acme Ltd,Cape Town\n2,Baobab,Durban\n3,Cedar,Pretoria\n"
        let theirs = "id,name,city\n1,Acme,Stellenbosch\n2,Baobab,Durban\n3,Cedar,Pretoria\n"
        let (out, conflicts, s) = try merge3(base, ours, theirs)
        #expect(out == "id,name,city\n1,Acme Ltd,Stellenbosch\n2,Baobab,Durban\n3,Cedar,Pretoria\n")
        #expect(conflicts.isEmpty && s.cellMerged == 1)
    }

    @Test func sameCellChangedDifferentlyConflictsAndKeepsOurs() throws {
        let ours = "id,name,city\n1,Acme Ltd,Cape Town\n2,Baobab,Durban\n3,Cedar,Pretoria\n"
        let theirs = "id,name,city\n1,Acme Inc,George\n2,Baobab,Durban\n3,Cedar,Pretoria\n"
        let (out, conflicts, s) = try merge3(base, ours, theirs)
        // The table keeps our value in the clashing cell; the cell only they changed is taken.
        #expect(out == "id,name,city\n1,Acme Ltd,George\n2,Baobab,Durban\n3,Cedar,Pretoria\n")
        #expect(s.conflicts == 1 && conflicts.count == 1)
        let c = try #require(conflicts.first)
        #expect(c["kind"] as? String == "cell")
        #expect(c["columns"] as? [String] == ["name"])
        #expect((c["base"] as? [String: String])?["name"] == "Acme")
        #expect((c["ours"] as? [String: String])?["name"] == "Acme Ltd")
        #expect((c["theirs"] as? [String: String])?["name"] == "Acme Inc")
        #expect(c["key"] as? [String: String] == ["id": "1"])
        // A strategy settles it.
        let (theirsWay, none, settled) = try merge3(base, ours, theirs, strategy: .theirs)
        #expect(theirsWay == "id,name,city\n1,Acme Inc,George\n2,Baobab,Durban\n3,Cedar,Pretoria\n" && none.isEmpty && settled.settled == 1)
    }

    @Test func deleteVersusModifyConflicts() throws {
        let oursDeleted = "id,name,city\n1,Acme,Cape Town\n3,Cedar,Pretoria\n"
        let theirsModified = "id,name,city\n1,Acme,Cape Town\n2,Baobab,Umhlanga\n3,Cedar,Pretoria\n"
        let (out, conflicts, _) = try merge3(base, oursDeleted, theirsModified)
        #expect(out == oursDeleted)
        #expect(conflicts.first?["kind"] as? String == "delete-modify")
        #expect(conflicts.first?["ours"] is NSNull)
        let (out2, conflicts2, _) = try merge3(base, theirsModified, oursDeleted)
        #expect(out2 == theirsModified)
        #expect(conflicts2.first?["kind"] as? String == "modify-delete")
        // Removed on one side, untouched on the other: removed.
        let (out3, c3, s3) = try merge3(base, base, oursDeleted)
        #expect(out3 == oursDeleted && c3.isEmpty && s3.removed == 1)
    }

    @Test func aColumnAddedOnOneSideMerges() throws {
        let theirs = "id,name,city,province\n1,Acme,Cape Town,WC\n2,Baobab,Durban,KZN\n3,Cedar,Pretoria,GP\n"
        let ours = "id,name,city\n1,Acme,Cape Town\n2,Baobab,eThekwini\n3,Cedar,Pretoria\n4,Delta,Polokwane\n"
        let (out, conflicts, s) = try merge3(base, ours, theirs)
        #expect(s.columns == ["id", "name", "city", "province"])
        #expect(out == "id,name,city,province\n1,Acme,Cape Town,WC\n2,Baobab,eThekwini,KZN\n3,Cedar,Pretoria,GP\n4,Delta,Polokwane,\n")
        #expect(conflicts.isEmpty)
        // A column removed by them goes; a key column removed is a whole-table conflict.
        let dropped = "id,name\n1,Acme\n2,Baobab\n3,Cedar\n"
        let (out2, _, _) = try merge3(base, ours, dropped)
        #expect(out2 == "id,name\n1,Acme\n2,Baobab\n3,Cedar\n4,Delta\n")
        #expect(throws: WholeTableConflict.self) { try merge3(base, ours, "name,city\nAcme,Cape Town\n") }
    }

    /// Rows are merged as text: a table that is not UTF-8 conflicts as a whole instead of being written back
    /// repaired. Before, a cell-merged row `1,Andr\xe9,...` came out as `1,Andr` U+FFFD `,...`.
    @Test func tablesThatAreNotUTF8ConflictAsAWhole() throws {
        func latin1(_ s: String) -> [UInt8] { Array(s.unicodeScalars.map { UInt8($0.value) }) }
        let base = latin1("id,name,city,zip\n1,Andr\u{E9},Paarl,7646\n2,Bob,Durban,4001\n")
        let cases: [(ours: [UInt8], theirs: [UInt8])] = [
            // the same row changed in different cells (merged by cell)
            (
                latin1("id,name,city,zip\n1,Andr\u{E9},Paarl,7647\n2,Bob,Durban,4001\n"),
                latin1("id,name,city,zip\n1,Andr\u{E9},Paarl X,7646\n2,Bob,Durban,4001\n")
            ),
            // a row only they changed, taken from theirs
            (
                latin1("id,name,city,zip\n1,Andr\u{E9},Paarl,7646\n2,Bob,Durban,4002\n"),
                latin1("id,name,city,zip\n1,Andr\u{E9}e,Paarl,7646\n2,Bob,Durban,4001\n")
            ),
            // a header that is not UTF-8
            (latin1("id,n\u{E0}me\n1,A\n2,B\n"), latin1("id,n\u{E0}me\n1,A\n2,C\n")),
        ]
        for (ours, theirs) in cases {
            var o = TableMergeOptions()
            o.key = ["id"]
            var out: [UInt8] = []
            do {
                _ = try TableMerge.merge(
                    format: .csv, base: chunkedSource(base, split: 5), ours: chunkedSource(ours, split: 3), theirs: chunkedSource(theirs, split: 7),
                    options: o, scratch: NSTemporaryDirectory() + "merge-test-" + UUID().uuidString.prefix(6), table: "t", output: { out += $0 },
                    conflict: { _ in })
                Issue.record("expected a whole-table conflict; the merge wrote \(out)")
            } catch let e as WholeTableConflict {
                #expect(e.kind == "encoding" && e.detail.contains("not UTF-8"))
            }
        }
    }

    @Test func duplicateKeysMakeTheTableConflictAsAWhole() throws {
        let dup = base + "2,Baobab Two,Durban\n"
        do {
            _ = try merge3(base, dup, base + "4,Delta,Polokwane\n")
            Issue.record("expected a whole-table conflict")
        } catch let e as WholeTableConflict {
            #expect(e.kind == "duplicate-keys")
            #expect(e.detail.contains("2"))
        }
    }

    @Test func appendOnlyLogsKeepBothSidesRecordsOnce() throws {
        let log = "{\"decision\":\"keep\",\"n\":1}\n{\"decision\":\"drop\",\"n\":2}\n"
        let ours = log + "{\"n\":3,\"by\":\"a\"}\n{\"n\":4,\"same\":true}\n"
        let theirs = log + "{\"n\":4,\"same\":true}\n{\"n\":5,\"by\":\"b\"}\n"
        let (out, conflicts, s) = try merge3(log, ours, theirs, key: [], format: .jsonl, appendOnly: true)
        #expect(out == ours + "{\"n\":5,\"by\":\"b\"}\n")
        #expect(conflicts.isEmpty && s.appended == 1)
        // History rewritten on one side is not append-only.
        #expect(throws: WholeTableConflict.self) {
            try merge3(log, "{\"decision\":\"edited\",\"n\":1}\n", theirs, key: [], format: .jsonl, appendOnly: true)
        }
    }

    @Test func jsonlRowsMergeByKeyAndKeepTheirLines() throws {
        let b = "{\"id\":1,\"name\":\"Acme\",\"score\":0.5}\n{\"id\":2,\"name\":\"Baobab\",\"score\":0.9}\n"
        let o = "{\"id\":1,\"name\":\"Acme Ltd\",\"score\":0.5}\n{\"id\":2,\"name\":\"Baobab\",\"score\":0.9}\n"
        let t = "{\"id\":1,\"name\":\"Acme\",\"score\":0.75}\n{\"id\":2,\"score\":0.9,\"name\":\"Baobab\"}\n{\"id\":3,\"name\":\"Cedar\",\"tags\":[1,2]}\n"
        let (out, conflicts, _) = try merge3(b, o, t, format: .jsonl)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(conflicts.isEmpty)
        #expect(lines.count == 3)
        // Cell merge keeps JSON types (a number stays a number).
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect(first["name"] as? String == "Acme Ltd" && first["score"] as? Double == 0.75)
        #expect(lines[2] == "{\"id\":3,\"name\":\"Cedar\",\"tags\":[1,2]}")
    }

    @Test func sameRowAddedOnBothSides() throws {
        let same = base + "4,Delta,Polokwane\n"
        let (out, c, _) = try merge3(base, same, same)
        #expect(out == same && c.isEmpty)
        let (out2, c2, _) = try merge3(base, same, base + "4,Delta,Musina\n")
        #expect(out2 == same && c2.first?["kind"] as? String == "add-add")
    }

    @Test func quotedFieldsSurviveTheRoundTrip() throws {
        let b = "id,note\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n"
        let o = b + "4,x\n"
        let (out, _, _) = try merge3(b, o, b)
        #expect(out == o)
    }
}

/// The invariant of a keyed merge: when the two sides touch disjoint keys, the merge equals applying both diffs to
/// the base, in either order.
@Suite("Table merge: disjoint changes commute (property)") struct TableMergePropertyTests {
    typealias Table = [(id: Int, a: String, b: String)]

    static func render(_ t: Table) -> String { "id,a,b\n" + t.map { "\($0.id),\($0.a),\($0.b)\n" }.joined() }

    /// Applies a change set to a table: updates in place, deletions, and additions appended in order.
    static func apply(_ t: Table, updates: [Int: (String, String)], deletes: Set<Int>, adds: Table) -> Table {
        var out: Table = []
        for r in t where !deletes.contains(r.id) {
            if let u = updates[r.id] { out.append((r.id, u.0, u.1)) } else { out.append(r) }
        }
        return out + adds
    }

    @Test(arguments: 0..<60) func disjointChangesCommute(seed: Int) throws {
        var g = SplitMix(seed: UInt64(seed) &* 0x9E37_79B9 &+ 7)
        let n = Int.random(in: 1...40, using: &g)
        let base: Table = (0..<n).map { ($0 * 2, "a\(Int.random(in: 0...9, using: &g))", "b\(Int.random(in: 0...9, using: &g))") }
        var keys = base.map(\.id).shuffled(using: &g)
        let half = keys.count / 2
        let mine = Array(keys[..<half]), theirs = Array(keys[half...])
        keys = []
        func changes(_ ks: [Int], addFrom: Int) -> ([Int: (String, String)], Set<Int>, Table) {
            var updates: [Int: (String, String)] = [:]
            var deletes = Set<Int>()
            for k in ks {
                switch Int.random(in: 0..<4, using: &g) {
                case 0: updates[k] = ("x\(Int.random(in: 0...99, using: &g))", base.first { $0.id == k }!.b)
                case 1: updates[k] = ("y\(k)", "z\(Int.random(in: 0...99, using: &g))")
                case 2: deletes.insert(k)
                default: break
                }
            }
            let adds: Table = (0..<Int.random(in: 0...3, using: &g)).map { (addFrom + $0 * 2, "new", "\($0)") }
            return (updates, deletes, adds)
        }
        let (uo, dO, ao) = changes(mine, addFrom: 1001)
        let (ut, dt, at) = changes(theirs, addFrom: 2001)
        let ours = Self.apply(base, updates: uo, deletes: dO, adds: ao)
        let theirsT = Self.apply(base, updates: ut, deletes: dt, adds: at)
        let (merged, conflicts, _) = try merge3(Self.render(base), Self.render(ours), Self.render(theirsT))
        #expect(conflicts.isEmpty)
        // Ours then theirs, and theirs then ours, give the same rows (row order: ours, then their additions).
        let oursThenTheirs = Self.apply(ours, updates: ut, deletes: dt, adds: at)
        let theirsThenOurs = Self.apply(theirsT, updates: uo, deletes: dO, adds: ao)
        #expect(merged == Self.render(oursThenTheirs))
        #expect(Set(merged.split(separator: "\n")) == Set(Self.render(theirsThenOurs).split(separator: "\n")))
        // And merging the other way round gives the same set of rows.
        let (mirrored, c2, _) = try merge3(Self.render(base), Self.render(theirsT), Self.render(ours))
        #expect(c2.isEmpty && Set(mirrored.split(separator: "\n")) == Set(merged.split(separator: "\n")))
    }
}

/// The byte-keyed index under the merge: every key found after growing from a tiny table, duplicates refused.
@Suite("Table merge: key index") struct KeyIndexTests {
    @Test func growsAndFindsEveryKey() {
        var index = KeyIndex(capacity: 1)
        let keys = (0..<50_000).map { "key-\($0 * 7919 % 100_003)" } + ["", "a\u{1F}b", "ümlaut"]
        for (n, k) in keys.enumerated() {
            let (e, inserted) = Array(k.utf8).withUnsafeBytes { index.insert($0) }
            #expect(inserted && e == n)
        }
        for (n, k) in keys.enumerated() {
            #expect(Array(k.utf8).withUnsafeBytes { index.find($0) } == n)
            #expect(index.text(n) == k)
        }
        #expect(Array("key-1".utf8).withUnsafeBytes { index.insert($0) }.inserted == false)
        #expect(Array("absent".utf8).withUnsafeBytes { index.find($0) } == nil)
    }

    @Test func largeTableMergesWithoutConflicts() throws {
        let n = 20_000
        let base = "id,v\n" + (0..<n).map { "\($0),\($0)\n" }.joined()
        let ours = "id,v\n" + (0..<n).map { "\($0),\($0 % 100 == 1 ? "o" : String($0))\n" }.joined()
        let theirs = "id,v\n" + (0..<n).map { "\($0),\($0 % 100 == 51 ? "t" : String($0))\n" }.joined()
        let (out, conflicts, s) = try merge3(base, ours, theirs)
        #expect(conflicts.isEmpty && s.fromTheirs == n / 100 && s.rows == n)
        #expect(out == "id,v\n" + (0..<n).map { "\($0),\($0 % 100 == 1 ? "o" : $0 % 100 == 51 ? "t" : String($0))\n" }.joined())
    }
}
