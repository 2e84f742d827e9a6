import Foundation
import StrataTestSupport
import Testing

import StrataObjects
@testable import StrataTables

/// A byte source over a string, fed in pieces of `split` bytes (to cross every record boundary).
func source(_ text: String, split: Int = 1 << 20) -> ByteSource { chunkedSource(text, split: split) }

func rows(_ text: String, _ format: TableFormat = .csv, split: Int = 1 << 20, pointers: [String] = []) throws -> ([String], [Row]) {
    var p = RowParser(format: format, pointers: pointers)
    var out: [Row] = []
    try source(text, split: split)({ b in try p.feed(b) { out.append($0) } })
    try p.finish { out.append($0) }
    return (p.columns, out)
}

func diff(
    _ a: String, _ b: String, key: [String] = [], format: TableFormat = .csv, budget: Int = 256 << 20, strict: Bool = false,
    types: [String: ColumnType] = [:]
) throws -> (TableDiffSummary, [RowChange]) {
    var o = TableDiffOptions()
    o.key = key; o.memoryBudget = budget; o.strictKeys = strict; o.types = types
    var changes: [RowChange] = []
    let s = try TableDiffer.diff(
        format: format, a: source(a, split: 7), b: source(b, split: 11), sizeHint: Int64(a.utf8.count + b.utf8.count), options: o,
        scratch: NSTemporaryDirectory() + "tablediff-test-" + UUID().uuidString.prefix(6), table: "t.csv"
    ) { changes.append($0) }
    return (s, changes)
}

@Suite("Tables: row parsers") struct RowParserTests {
    @Test func csvQuotesCommasLineBreaksBomAndCRLF() throws {
        let text = "\u{FEFF}id,name,note\r\n1,\"Acme, Inc\",\"two\r\nlines\"\r\n2,\"say \"\"hi\"\"\",\r\n3,Zoë,ünïcödé"
        for split in [1, 2, 3, 5, 64] {
            let (cols, r) = try rows(text, split: split)
            #expect(cols == ["id", "name", "note"])
            #expect(r.count == 3)
            #expect(r[0]["name"] == "Acme, Inc" && r[0]["note"] == "two\r\nlines")
            #expect(r[1]["name"] == "say \"hi\"" && r[1]["note"] == "")
            #expect(r[2]["name"] == "Zoë" && r[2]["note"] == "ünïcödé")
        }
    }

    @Test func tsvAndShortRowsAndBlankLines() throws {
        let (cols, r) = try rows("a\tb\n1\t2\n\n3\n", .tsv)
        #expect(cols == ["a", "b"])
        #expect(r.count == 2 && r[1]["a"] == "3" && r[1]["b"] == nil)  // a missing column is absent, not empty
    }

    @Test func jsonlColumnsAndPointers() throws {
        let (cols, r) = try rows("{\"id\": 1, \"org\": {\"code\": \"X\"}}\n{\"id\": 2, \"extra\": null}\n", .jsonl, split: 3, pointers: ["/org/code"])
        #expect(cols == ["id", "org", "extra"])
        #expect(r[0]["/org/code"] == "X" && r[0]["org"] == "{\"code\":\"X\"}" && r[1]["extra"] == "null")
        #expect(throws: TableError.self) { _ = try rows("{\"id\": 1}\nnot json\n", .jsonl) }
    }
}

@Suite("Tables: row diff") struct TableDiffTests {
    let a = "id,name,city\n1,Acme,Cape Town\n2,Umbrella,Durban\n3,Initech,\n"

    @Test func keyedChangesAndSchema() throws {
        let b = "id,city,name,score\n1,Cape Town,Acme Corp,5\n3,,Initech,1\n4,Joburg,New,2\n"
        let (s, c) = try diff(a, b, key: ["id"])
        #expect(s.added == 1 && s.removed == 1 && s.modified == 1 && s.unchanged == 1)
        #expect(s.schema.added == ["score"] && s.schema.removed.isEmpty && s.schema.reordered)
        #expect(c.map(\.op) == [.modified, .removed, .added])  // sorted by key
        #expect(c[0].changed == ["name"] && c[0].before?["name"] == "Acme" && c[0].after?["name"] == "Acme Corp")
        #expect(s.columns == ["name": 1])
    }

    @Test func emptyValueIsNotAMissingColumn() throws {
        let (s, c) = try diff("id,v\n1,\n", "id,v\n1\n", key: ["id"])
        #expect(s.modified == 1 && c.first?.changed == ["v"])
    }

    @Test func keyChangeIsDeletePlusInsert() throws {
        let (s, c) = try diff("id,v\n1,x\n", "id,v\n9,x\n", key: ["id"])
        #expect(s.added == 1 && s.removed == 1 && s.modified == 0 && c.count == 2)
    }

    @Test func duplicateKeysAreMultisetsAndFlagged() throws {
        let (s, c) = try diff("id,v\n1,a\n1,b\n2,c\n", "id,v\n1,b\n1,z\n2,c\n", key: ["id"])
        #expect(s.duplicateKeys == 1 && s.duplicateExamples == ["id=1"])
        #expect(s.removed == 1 && s.added == 1 && s.unchanged == 2)
        #expect(c.allSatisfy { $0.duplicateKey == true })
        #expect(throws: TableError.self) { _ = try diff("id,v\n1,a\n1,b\n", "id,v\n1,a\n", key: ["id"], strict: true) }
    }

    @Test func renameNeedsEvidence() throws {
        let (s, _) = try diff("id,nm\n1,a\n2,b\n", "id,name\n1,a\n2,b\n", key: ["id"])
        #expect(s.schema.renamed == [["nm", "name"]] && s.schema.added.isEmpty && s.schema.removed.isEmpty)
        let (t, _) = try diff("id,nm\n1,a\n2,b\n", "id,name\n1,a\n2,X\n", key: ["id"])
        #expect(t.schema.renamed.isEmpty && t.schema.added == ["name"] && t.schema.removed == ["nm"])
    }

    @Test func keylessIsAMultiset() throws {
        let (s, c) = try diff("a,b\n1,2\n1,2\n3,4\n", "a,b\n1,2\n3,4\n3,4\n5,6\n")
        #expect(s.removed == 1 && s.added == 2 && s.unchanged == 2)
        #expect(c.filter { $0.op == .added }.count == 2)
    }

    @Test func missingKeyColumnIsAnError() throws {
        #expect(throws: TableError.self) { _ = try diff(a, a, key: ["nope"]) }
    }

    @Test func unicodeKeysAndValues() throws {
        let (s, c) = try diff("k,v\nZoë,ü\n日本,x\n", "k,v\nZoë,ü\n日本,y\n", key: ["k"])
        #expect(s.modified == 1 && c.first?.key == ["k": "日本"])
    }

    /// Property: for random tables, applying the diff of A → B to A gives B (as a multiset of rows); the diff of A with
    /// itself is empty; and spilling to partitions (a tiny memory budget) gives exactly the in-memory result.
    @Test(arguments: 0..<25) func applyingTheDiffGivesTheNewTable(seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        func table(_ n: Int, dup: Bool) -> [[String]] {
            (0..<n).map { _ in
                [String(rng.next() % UInt64(dup ? 20 : 1_000_000)), ["a", "b", "c,d", "e\nf", ""][Int(rng.next() % 5)], String(rng.next() % 3)]
            }
        }
        func csv(_ rows: [[String]]) -> String {
            "k,v,w\n" + rows.map { $0.map { $0.contains(",") || $0.contains("\n") ? "\"\($0)\"" : $0 }.joined(separator: ",") }.joined(separator: "\n") + "\n"
        }
        let dup = seed % 3 == 0
        var ta = table(Int(rng.next() % 60), dup: dup)
        if !dup { var seen = Set<String>(); ta = ta.filter { seen.insert($0[0]).inserted } }
        var tb = ta.filter { _ in rng.next() % 5 != 0 }.map { r in rng.next() % 4 == 0 ? [r[0], "changed", r[2]] : r }
        tb += table(Int(rng.next() % 10), dup: dup)
        if !dup { var seen = Set<String>(); tb = tb.filter { seen.insert($0[0]).inserted } }
        let key = dup ? [] : ["k"]
        let (s, changes) = try diff(csv(ta), csv(tb), key: key)
        let (_, spilled) = try diff(csv(ta), csv(tb), key: key, budget: 1)  // forced to the smallest budget: partitions
        #expect(changes.count == spilled.count && changes.allSatisfy { c in spilled.contains(c) } && spilled.allSatisfy { c in changes.contains(c) })
        // Apply: start from A's rows, remove `before`s, replace modified, add `after`s.
        func rowOf(_ r: [String]) -> Row { ["k": r[0], "v": r[1], "w": r[2]] }
        var bag: [Row] = ta.map(rowOf)
        for c in changes {
            if let before = c.before, let i = bag.firstIndex(of: before) { bag.remove(at: i) }
            if let after = c.after { bag.append(after) }
        }
        func norm(_ rows: [Row]) -> [String] { rows.map { r in r.keys.sorted().map { "\($0)=\(r[$0]!)" }.joined(separator: "|") }.sorted() }
        #expect(norm(bag) == norm(tb.map(rowOf)))
        #expect(s.added + s.modified + s.unchanged == tb.count)
        let (same, none) = try diff(csv(ta), csv(ta), key: key)
        #expect(none.isEmpty && same.isEmpty)
    }
}

@Suite("Tables: record boundaries") struct RecordScannerTests {
    /// The scanner's boundaries are exactly the parser's record ends, quoted line breaks included, fed in any pieces.
    @Test func boundariesMatchTheParser() throws {
        let text = "id,v\n1,\"a\nb\"\n2,\"say \"\"x\"\"\nyes\"\n3,plain\n4,\"\"\n"
        let bytes = Array(text.utf8)
        var scanner = RecordScanner(mode: .delimited(UInt8(ascii: ",")))
        var cuts: [Int64] = []
        bytes.withUnsafeBufferPointer { b in
            var from: Int64 = 0
            while let c = scanner.next(b.baseAddress!, count: b.count, base: 0, from: from) { cuts.append(c); from = c }
        }
        // Record ends: after the header, after each of the four rows.
        var expected: [Int64] = []
        var offset = 0
        for line in ["id,v\n", "1,\"a\nb\"\n", "2,\"say \"\"x\"\"\nyes\"\n", "3,plain\n", "4,\"\"\n"] {
            offset += line.utf8.count; expected.append(Int64(offset))
        }
        #expect(cuts == expected)
        var lines = RecordScanner(mode: .lines)
        let j = Array("{\"a\":\"x\\ny\"}\n{}\n".utf8)
        let first = j.withUnsafeBufferPointer { lines.next($0.baseAddress!, count: $0.count, base: 0, from: 0) }
        #expect(first == Int64(j.firstIndex(of: 10)! + 1))
    }
}

/// Declared and inferred column types of text tables.
@Suite("Tables: column types") struct ColumnTypeTests {
    @Test func valuesOfATypeCompareAsValues() {
        #expect(ColumnType.decimal.same("1.50", "1.5") && ColumnType.decimal.same("-0.0", "0") && ColumnType.decimal.same("007.10", "7.1"))
        #expect(!ColumnType.decimal.same("1.5", "1.51") && !ColumnType.decimal.same("1.5", "x"))
        #expect(ColumnType.integer.same("007", "7") && ColumnType.integer.same("+7", "7") && !ColumnType.integer.same("7", "7.0"))
        #expect(ColumnType.double.same("1e3", "1000") && ColumnType.double.same("0.10", ".1"))
        #expect(ColumnType.boolean.same("TRUE", "1") && ColumnType.boolean.same("no", "false") && !ColumnType.boolean.same("yes", "false"))
        #expect(ColumnType.timestamp.same("2024-01-05T12:00:00+02:00", "2024-01-05T10:00:00Z"))
        #expect(ColumnType.timestamp.same("2024-01-05 10:00:00.500", "2024-01-05T10:00:00.5Z"))
        #expect(!ColumnType.timestamp.same("2024-01-05T10:00:00Z", "2024-01-05T10:00:01Z"))
        #expect(!ColumnType.string.same("a", "A") && !ColumnType.decimal.same("1", nil) && ColumnType.decimal.same(nil, nil))
        #expect(ColumnType.date.same("2024-02-01", "2024-02-01") && !ColumnType.date.same("2024-02-01", "2024-2-1"))
    }

    @Test func declarationsParseAndRefuseUnknownTypes() throws {
        #expect(try ColumnType.parse("score=decimal,ok=Boolean") == ["score": .decimal, "ok": .boolean])
        #expect(ColumnType.text(["ok": .boolean, "score": .decimal]) == "ok=boolean,score=decimal")
        #expect(throws: TableError.self) { try ColumnType.parse("score=float64") }
        #expect(throws: TableError.self) { try ColumnType.parse("score") }
    }

    @Test func inferenceWidensAndIgnoresEmptyValues() {
        var s = TypeSample(rows: 3)
        s.add(["n": "1", "d": "2024-01-01", "x": "", "b": "true"])
        s.add(["n": "2.5", "d": "2024-01-02T00:00:00Z", "b": "FALSE"])
        s.add(["n": "3", "d": "2024-01-03", "b": "maybe"])
        s.add(["n": "not looked at"])
        #expect(s.types == ["n": .decimal, "d": .timestamp, "b": .string])
    }

    /// Both diff paths (the fast keyed one, and the partitioned one a tiny budget forces) compare declared columns
    /// as values, and name inferred type changes of undeclared columns.
    @Test(arguments: [256 << 20, 1]) func diffsUseThem(budget: Int) throws {
        let a = "id,score,founded\n1,1.50,1990\n2,2.0,1991\n3,3,1992\n"
        let b = "id,score,founded\n1,1.5,1990\n2,2.5,1991\n3,3.00,unknown\n"
        let (plain, _) = try diff(a, b, key: ["id"], budget: budget)
        #expect(plain.modified == 3)
        let (typed, changes) = try diff(a, b, key: ["id"], budget: budget, types: ["score": .decimal])
        #expect(typed.modified == 2 && typed.unchanged == 1)
        #expect(changes.map { $0.changed ?? [] } == [["score"], ["founded"]])
        #expect(typed.schema.retyped == ["founded: integer -> string (inferred)"])
        let (declared, _) = try diff(a, b, key: ["id"], budget: budget, types: ["score": .decimal, "founded": .string])
        #expect(declared.schema.retyped.isEmpty)
    }
}
