import Foundation
import StrataTestSupport
import Testing

@Suite("Tables through the binary", .serialized) struct TableTests {
    /// A generated table with quoted fields; v2 modifies about 1 %, deletes 0.5 %, appends 0.5 % and adds a column.
    static func tables(rows n: Int) -> (String, String) {
        var rng = SplitMix(seed: 42)
        var a = "id,name,city,score\n", b = "id,name,city,score,status\n"
        for i in 0..<n {
            let name = i % 7 == 0 ? "\"Org \(i), Ltd\"" : "Org \(i)"
            let city = ["Cape Town", "Durban", "\"Line\nBreak\"", "Zoë"][i % 4]
            let score = String(rng.next() % 100)
            a += "\(i),\(name),\(city),\(score)\n"
            let r = rng.next() % 200
            if r < 1 { continue }  // deleted
            let newScore = r < 3 ? String(rng.next() % 100 + 100) : score
            b += "\(i),\(name),\(city),\(newScore),active\n"
        }
        for i in n..<(n + n / 200) { b += "\(i),New \(i),Joburg,1,new\n" }
        return (a, b)
    }

    func json(_ s: String) -> [[String: Any]] {
        s.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Keyed row diff through `strata table diff --json`, cross-checked against an independent Python implementation;
    /// the same result under a 1 MB memory budget (spill partitions); `--exit-code`; `diff --rows`; a declared key.
    @Test func rowDiffMatchesAnIndependentImplementation() throws {
        let s = try StrataCLI()
        try s.run("init")
        let (a, b) = TableTests.tables(rows: 4000)
        try s.write("tables/orgs.csv", a)
        try s.run("commit", "-m", "v1")
        try s.run("tag", "v1")
        try s.write("tables/orgs.csv", b)
        try s.run("commit", "-m", "v2")
        let r = try s.run("table", "diff", "v1", "HEAD", "tables/orgs.csv", "--key", "id", "--json")
        #expect(r.status == 0, "\(r.stderr)")
        let records = json(r.stdout)
        let changes = records.filter { $0["op"] != nil }
        let summary = records.last?["summary"] as? [String: Any]
        // The reference, on the same bytes.
        try s.write("a.csv", a); try s.write("b.csv", b)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("table_diff_reference.py").path,
            s.path("a.csv"), s.path("b.csv"), "id",
        ]
        let out = Pipe(); p.standardOutput = out
        try p.run(); p.waitUntilExit(within: Watchdog.defaultLimit)
        let ref = try JSONSerialization.jsonObject(with: out.fileHandleForReading.readDataToEndOfFile()) as? [String: Any] ?? [:]
        func keys(_ op: String) -> [String] {
            changes.filter { $0["op"] as? String == op }.compactMap { ($0["key"] as? [String: String])?["id"] }.sorted()
        }
        #expect(keys("added") == (ref["added"] as? [String] ?? []))
        #expect(keys("removed") == (ref["removed"] as? [String] ?? []))
        let refModified = ref["modified"] as? [String: [String]] ?? [:]
        #expect(keys("modified") == refModified.keys.sorted())
        for c in changes where c["op"] as? String == "modified" {
            let k = (c["key"] as? [String: String])?["id"] ?? ""
            #expect(c["changed"] as? [String] == refModified[k])
        }
        #expect(((summary?["schema"] as? [String: Any])?["added"] as? [String]) == ["status"])
        // The general, partitioned diff (--strict-keys checks every key; a 1 MB budget spills) gives the same records.
        let spilled = try s.run("table", "diff", "v1", "HEAD", "tables/orgs.csv", "--key", "id", "--json", "--memory", "1MB", "--strict-keys")
        #expect(spilled.stdout.split(separator: "\n").count == r.stdout.split(separator: "\n").count)
        #expect(((json(spilled.stdout).last?["summary"] as? [String: Any])?["partitions"] as? Int ?? 0) > 1)
        #expect(Set(spilled.stdout.split(separator: "\n").dropLast()) == Set(r.stdout.split(separator: "\n").dropLast()))
        // Exit codes, the declared key, diff --rows, --where and --limit.
        #expect(try s.run("table", "diff", "v1", "HEAD", "tables/orgs.csv", "--key", "id", "--exit-code", "-q").status == 1)
        #expect(try s.run("table", "diff", "HEAD", "HEAD", "tables/orgs.csv", "--key", "id", "--exit-code", "-q").status == 0)
        #expect(try s.run("table", "add", "tables/*.csv", "--key", "id").status == 0)
        let declared = try s.run("table", "diff", "v1", "HEAD", "tables/orgs.csv", "--stat")
        #expect(declared.stdout.contains("\(keys("added").count) added, \(keys("removed").count) removed, \(keys("modified").count) modified"))
        let rows = try s.run("diff", "--rows", "v1", "HEAD")
        #expect(rows.status == 0 && rows.stdout.contains("+++ tables/orgs.csv (HEAD)") && rows.stdout.contains("columns added: status"))
        let limited = try s.run("table", "diff", "v1", "HEAD", "tables/orgs.csv", "--json", "--limit", "3")
        #expect(limited.stdout.split(separator: "\n").count == 4)
        let filtered = try s.run("table", "diff", "v1", "HEAD", "tables/orgs.csv", "--json", "--where", "city=Joburg")
        #expect(json(filtered.stdout).dropLast().allSatisfy { ($0["after"] as? [String: String])?["city"] == "Joburg" })
        // The workspace side, and a missing key column.
        try s.write("tables/orgs.csv", a)
        #expect(try s.run("table", "diff", "HEAD", "tables/orgs.csv", "--exit-code", "-q").status == 1)
        #expect(try s.run("table", "diff", "v1", "tables/orgs.csv", "--exit-code", "-q").status == 0)
        let bad = try s.run("table", "diff", "v1", "HEAD", "tables/orgs.csv", "--key", "nope")
        #expect(bad.status == 3 && bad.stderr.contains("key column 'nope'"))
    }

    /// A large table is stored in record-aligned chunks (quoted line breaks included), so a diff between two commits
    /// that changed one row skips the chunks both share, and agrees with the full diff (`--strict-keys` reads all).
    @Test func alignedChunksCancelAndAgreeWithTheFullDiff() throws {
        let s = try StrataCLI()
        try s.run("init")
        var text = "id,name,note\n"
        for i in 0..<60_000 { text += "\(i),Org \(i),\(i % 9 == 0 ? "\"a, quoted\nnote\"" : "plain note \(i)")\n" }
        try s.write("tables/big.csv", text)
        try s.run("commit", "-m", "v1")
        try s.write("tables/big.csv", text.replacingOccurrences(of: "\n30000,Org 30000,", with: "\n30000,Org thirty thousand,"))
        try s.run("commit", "-m", "v2")
        let fast = try s.run("table", "diff", "HEAD~1", "HEAD", "tables/big.csv", "--key", "id", "--json")
        let full = try s.run("table", "diff", "HEAD~1", "HEAD", "tables/big.csv", "--key", "id", "--json", "--strict-keys")
        let fastSummary = json(fast.stdout).last?["summary"] as? [String: Any]
        #expect((fastSummary?["identical_chunks"] as? Int ?? 0) > 2, "\(fast.stdout.suffix(400))")
        #expect(fastSummary?["modified"] as? Int == 1)
        #expect(fast.stdout.split(separator: "\n").dropLast() == full.stdout.split(separator: "\n").dropLast())
        #expect(try s.run("fsck").status == 0)
        #expect(try s.run("cat", "HEAD~1:tables/big.csv").stdoutBytes == Data(text.utf8))
    }

    static let daffAvailable = PythonFixture.available("shutil, sys", check: "sys.exit(0 if shutil.which('daff') else 1)")

    /// `--format daff` writes daff's highlighter CSV; daff itself applies it to the old version and gets the new one.
    @Test(.enabled(if: TableTests.daffAvailable, "daff is not installed (requirements-test.txt)"))
    func daffPatchAppliesOurDiff() throws {
        let s = try StrataCLI()
        try s.run("init")
        let a = "id,name,city\n1,Acme,Cape Town\n2,Umbrella,Durban\n3,Initech,x\n5,\"Quote \"\"Co\"\"\",\"a -> b\"\n"
        let b = "id,name,city\n1,Acme Corp,Cape Town\n3,Initech,\"x, y\"\n4,New,Joburg\n5,\"Quote \"\"Co\"\"\",a -> c\n"
        try s.write("t.csv", a)
        try s.run("commit", "-m", "a")
        try s.write("t.csv", b)
        let d = try s.run("table", "diff", "HEAD", "t.csv", "--key", "id", "--format", "daff")
        #expect(d.status == 0 && d.stdout.hasPrefix("@@,id,name,city\n"), "\(d.stdout)")
        try s.write("patch.csv", d.stdout)
        try s.write("old.csv", a)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["daff", "patch", s.path("old.csv"), s.path("patch.csv")]
        let out = Pipe(); p.standardOutput = out
        try p.run(); p.waitUntilExit(within: Watchdog.defaultLimit)
        let patched = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(patched == b, "\(patched)")
    }

    /// A cell holding a Windows line break ("\r\n", one Swift Character, equal to neither "\r" nor "\n") keeps its bytes
    /// and is quoted in `--format daff` output.
    @Test func daffQuotesCellsWithWindowsLineBreaks() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("t.csv", "id,note\n1,\"first\r\nline\"\n2,plain\n")
        try s.run("commit", "-m", "a")
        try s.write("t.csv", "id,note\n1,\"first\r\nchanged\"\n2,plain\n")
        let d = try s.run("table", "diff", "HEAD", "t.csv", "--key", "id", "--format", "daff")
        #expect(d.status == 0 && d.stdout == "@@,id,note\n->,1,\"first\r\nline->first\r\nchanged\"\n", "\(d.stdout.debugDescription)")
    }

    /// `strata blame`: each row's last change, across commits made by hand and by a pipeline stage (whose run id is
    /// given); `--key` for one row; `--json`.
    @Test func blameNamesTheCommitAndTheRun() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("raw.csv", "id,name\n1,Acme\n2,Umbrella\n3,Initech\n")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "t", stages: [
                .stage(name: "curate", command: "mkdir -p tables && cp raw.csv tables/orgs.csv", inputs: ["raw.csv"], outputs: [.file("tables/orgs.csv")]),
            ])
            """)
        #expect(try s.run("repro", "--commit", "-m", "v1 by the pipeline").status == 0)
        let first = try s.run("log", "-n", "1", "--json").stdout
        // v2 by hand: row 2 changes, row 4 is new; rows 1 and 3 stay as the pipeline wrote them.
        try s.write("tables/orgs.csv", "id,name\n1,Acme\n2,Umbrella Corp\n3,Initech\n4,New\n")
        try s.run("commit", "-m", "v2 by hand")
        let v2 = try s.run("log", "-n", "1", "--json").stdout
        try s.run("table", "add", "tables/orgs.csv", "--key", "id")
        let r = try s.run("blame", "tables/orgs.csv", "--json")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = json(r.stdout)
        func commitOf(_ id: String) -> String? { lines.first { ($0["key"] as? [String: String])?["id"] == id }?["commit"] as? String }
        func runOf(_ id: String) -> String? { lines.first { ($0["key"] as? [String: String])?["id"] == id }?["run"] as? String }
        #expect(lines.count == 4)
        for id in ["1", "3"] {
            #expect(commitOf(id).map { first.contains($0) } == true)
            #expect(runOf(id) != nil)  // the curate stage's run
        }
        for id in ["2", "4"] {
            #expect(commitOf(id).map { v2.contains($0) } == true)
            #expect(runOf(id) == nil)
        }
        let one = try s.run("blame", "tables/orgs.csv", "--key", "2")
        #expect(one.stdout.split(separator: "\n").count == 1 && one.stdout.contains("id=2"))
        #expect(try s.run("blame", "tables/orgs.csv", "HEAD~1", "--json").stdout.split(separator: "\n").count == 3)
    }

    /// Tables declared in Pipeline.swift (`tables:`) are used by diff and blame, and win over a config declaration of
    /// the same path; `table list` shows both sources merged.
    @Test func pipelineDeclaredTablesWin() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "t", stages: [], tables: [
                .table("tables/*.csv", key: ["code"], description: "curated organisations"),
            ])
            """)
        try s.write("tables/orgs.csv", "code,id,name\nA,1,Acme\nB,2,Umbrella\n")
        try s.run("commit", "-m", "v1")
        try s.write("tables/orgs.csv", "code,id,name\nA,1,Acme Corp\nB,3,Umbrella\n")
        try s.run("table", "add", "tables/*.csv", "--key", "id")  // the config says id; Pipeline.swift says code
        let list = try s.run("table", "list")
        #expect(list.stdout.contains("tables/*.csv") && list.stdout.contains("key code"), "\(list.stdout)\(list.stderr)")
        let d = try s.run("table", "diff", "HEAD", "tables/orgs.csv", "--stat")
        // Keyed by code: two modified rows (by id they would be one modified, one removed, one added).
        #expect(d.stdout.contains("0 added, 0 removed, 2 modified"), "\(d.stdout)\(d.stderr)")
    }
}

extension TableTests {
    /// Column types declared in Pipeline.swift (`types:`) or with `table add --type` decide when cells are equal;
    /// undeclared columns get inferred type changes; an unknown type is refused with the types named.
    @Test func declaredColumnTypesCompareValues() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "t", stages: [], tables: [
                .table("orgs.csv", key: ["id"], types: ["score": "decimal", "seen": "timestamp"]),
            ])
            """)
        try s.write("orgs.csv", "id,score,seen,founded\n1,0.50,2024-01-05T10:00:00Z,1990\n2,0.7,2024-01-05T10:00:00Z,1991\n")
        try s.run("commit", "-m", "v1")
        try s.write("orgs.csv", "id,score,seen,founded\n1,0.5,2024-01-05T12:00:00+02:00,1990\n2,0.75,2024-01-05T10:00:00Z,n/a\n")
        let list = try s.run("table", "list", "--json")
        #expect(list.stdout.contains("\"score\" : \"decimal\""), "\(list.stdout)\(list.stderr)")
        let d = try s.run("table", "diff", "HEAD", "orgs.csv", "--json")
        let last = d.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let summary = (try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])?["summary"] as? [String: Any] ?? [:]
        #expect(summary["modified"] as? Int == 1 && summary["unchanged"] as? Int == 1, "\(d.stdout)\(d.stderr)")
        #expect(((summary["schema"] as? [String: Any])?["retyped"] as? [String]) == ["founded: integer -> string (inferred)"], "\(d.stdout)")
        // The config's declaration of another table, and a refusal.
        try s.write("b.csv", "k,v\n1,TRUE\n")
        try s.run("commit", "-m", "b")
        try s.write("b.csv", "k,v\n1,true\n")
        #expect(try s.run("table", "add", "b.csv", "--key", "k", "--type", "v=boolean").status == 0)
        #expect(try s.run("table", "diff", "HEAD", "b.csv", "--stat").stdout.contains("0 modified"))
        let bad = try s.run("table", "add", "b.csv", "--key", "k", "--type", "v=bool")
        #expect(bad.status != 0 && bad.stderr.contains("boolean"), "\(bad.stderr)")
    }
}

/// Whether DuckDB (the independent Parquet implementation of the tests) is installed (requirements-test.txt).
let duckdbAvailable = PythonFixture.available("duckdb")

@Suite("Parquet tables through the binary", .serialized, .enabled(if: duckdbAvailable, "duckdb is not installed (requirements-test.txt)"))
struct ParquetTableTests {
    let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/parquet_reference.py"

    /// Every value strata reads equals DuckDB's (type-aware), for each codec (uncompressed, Snappy, gzip, zstd), data
    /// page v1 and v2 encodings (PLAIN, dictionary, RLE, DELTA_*), several row groups, nulls, dates, timestamps,
    /// decimals (4 to 16 bytes), booleans, unicode and line breaks.
    @Test func everyValueMatchesDuckDB() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        try s.write("README", "x\n")
        #expect(try s.run("commit", "-m", "empty").status == 0)
        let (st, out) = try python([reference, "make", s.path("t")])
        #expect(st == 0, "\(out)")
        for name in try FileManager.default.contentsOfDirectory(atPath: s.path("t")).sorted() where name.hasSuffix(".parquet") {
            let d = try s.run("table", "diff", "HEAD", "t/" + name, "--key", "id", "--json")
            #expect(d.status == 0, "\(name): \(d.stderr)")
            try Data(d.stdout.utf8).write(to: URL(fileURLWithPath: s.path("rows.jsonl")))
            let (cst, cout) = try python([reference, "compare", s.path("rows.jsonl"), s.path("t/" + name), "id"])
            #expect(cst == 0, "\(name): \(cout)")
        }
    }

    /// A keyed row diff between two versions, and a table strata cannot read (LZ4) falling back to the file level.
    @Test func versionsDiffAndUnreadableFallsBack() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        #expect(try python([reference, "make", s.path("t")]).0 == 0)
        #expect(try s.run("table", "add", "t/small-snappy.parquet", "--key", "id").status == 0)
        #expect(try s.run("commit", "-m", "v1").status == 0)
        let (st, out) = try python(
            [
                "-c",
                "import duckdb, sys; duckdb.connect().execute(\"COPY (SELECT id, CASE WHEN id = 2 THEN 'Ubuntu Holdings' ELSE name END AS name, province, score::DECIMAL(9,2) AS score, founded, seen, active, amount, note, tiny FROM 't/small-snappy.parquet' WHERE id <> 3) TO 't/new.parquet' (FORMAT parquet, COMPRESSION snappy)\")",
            ], cwd: s.directory)
        #expect(st == 0, "\(out)")
        try FileManager.default.removeItem(atPath: s.path("t/small-snappy.parquet"))
        try FileManager.default.moveItem(atPath: s.path("t/new.parquet"), toPath: s.path("t/small-snappy.parquet"))
        let d = try s.run("diff", "--rows", "--json")
        #expect(d.status == 0, "\(d.stderr)")
        #expect(
            d.stdout.contains("\"op\":\"modified\"") && d.stdout.contains("\"changed\":[\"name\"]") && d.stdout.contains("\"op\":\"removed\""), "\(d.stdout)")
        _ = try python(
            ["-c", "import duckdb; duckdb.connect().execute(\"COPY (SELECT 1 AS id) TO 't/lz4.parquet' (FORMAT parquet, COMPRESSION lz4)\")"], cwd: s.directory)
        let lz4 = try s.run("table", "diff", "HEAD", "t/lz4.parquet", "--key", "id")
        #expect(lz4.status == 0)
        #expect(lz4.stderr.contains("Parquet column 'id' uses the LZ4_RAW codec") && lz4.stdout.contains("t/lz4.parquet: added"), "\(lz4.stdout)\(lz4.stderr)")
    }
}

/// Whether delta-rs (`deltalake`, with pandas and pyarrow) is installed (requirements-test.txt).
let deltalakeAvailable = PythonFixture.available("deltalake, pandas, pyarrow")

@Suite("Delta Lake tables through the binary", .serialized, .enabled(if: deltalakeAvailable, "deltalake is not installed (requirements-test.txt)"))
struct DeltaTableTests {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/delta_fixture.py"

    /// A Delta table written by delta-rs through appends, a delete, an update, schema evolution, a compaction with a
    /// checkpoint and an overwrite, committed after every step: at each step the table-level diff, the row diff and
    /// `show REV:PATH` agree with delta-rs's own counts, and `checkout sN -- lake/events` restores the table so that
    /// delta-rs reads exactly the rows of version N (time travel through strata).
    @Test func deltaDiffsAndTimeTravelAgreeWithDeltaRs() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        var rowsAt: [String] = []
        for n in 0...6 {
            let (st, out) = try python([fixture, "step", String(n)], cwd: s.directory)
            #expect(st == 0, "step \(n): \(out)")
            #expect(try s.run("commit", "-m", "step \(n)").status == 0)
            #expect(try s.run("tag", "s\(n)").status == 0)
            rowsAt.append(try pythonStdout([fixture, "rows"], cwd: s.directory))
            let version = try pythonStdout([fixture, "version"], cwd: s.directory).trimmingCharacters(in: .whitespacesAndNewlines)
            let show = try s.run("show", "s\(n):lake/events", "--json")
            #expect(show.status == 0, "\(show.stderr)")
            #expect(show.stdout.contains("\"delta_version\" : \(version)"), "step \(n): \(show.stdout)")
        }
        // Row diffs between consecutive steps agree with delta-rs (pandas over both versions, keyed by id).
        for n in 1...6 {
            let d = try s.run("table", "diff", "s\(n - 1)", "s\(n)", "lake/events", "--key", "id", "--json")
            #expect(d.status == 0, "\(d.stderr)")
            let last = d.stdout.split(separator: "\n").last.map(String.init) ?? "{}"
            let summary = (try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])?["summary"] as? [String: Any] ?? [:]
            let ref = try pythonStdout([fixture, "changes", String(n - 1), String(n)], cwd: s.directory)
            let expected = try JSONSerialization.jsonObject(with: Data(ref.utf8)) as? [String: Int] ?? [:]
            for k in ["added", "removed", "modified"] {
                #expect((summary[k] as? Int) == expected[k], "step \(n) \(k): strata \(summary[k] ?? "nil"), delta-rs \(expected[k] ?? -1)\n\(d.stdout)")
            }
        }
        // Lineage: the commit that wrote the table reports it as one table dataset with the Delta version beside
        // the content hash, and the table's schema.
        let lastVersion = try pythonStdout([fixture, "version"], cwd: s.directory).trimmingCharacters(in: .whitespacesAndNewlines)
        let events = try s.run("lineage", "export").stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let table = (events.last?["outputs"] as? [[String: Any]])?.first { ($0["name"] as? String)?.hasSuffix("lake/events/") == true }
        let facets = table?["facets"] as? [String: Any]
        #expect(((facets?["strata_dataset"] as? [String: Any])?["tableVersion"] as? Int).map(String.init) == lastVersion, "\(table ?? [:])")
        #expect(((facets?["schema"] as? [String: Any])?["fields"] as? [Any])?.count == 4, "\(facets ?? [:])")
        // Table-level facts: operations, rewrites without data change, schema evolution.
        let compact = try s.run("table", "diff", "s4", "s5", "lake/events", "--stat")
        #expect(compact.stdout.contains("OPTIMIZE") && compact.stdout.contains("rewritten without data change"), "\(compact.stdout)")
        let evolve = try s.run("table", "diff", "s3", "s4", "lake/events", "--stat")
        #expect(evolve.stdout.contains("columns added: score"), "\(evolve.stdout)")
        let overall = try s.run("diff", "s0", "s3")
        #expect(overall.stdout.contains("Delta table lake/events: version 0 -> 3 (WRITE, DELETE, UPDATE)"), "\(overall.stdout)")
        // Time travel: checkout each tag's table folder (no-overlay), then delta-rs reads that version's rows.
        for n in [0, 2, 4, 5, 6, 1] {
            let co = try s.run("checkout", "s\(n)", "--", "lake/events")
            #expect(co.status == 0, "\(co.stderr)")
            let now = try pythonStdout([fixture, "rows"], cwd: s.directory)
            let log = (try? FileManager.default.contentsOfDirectory(atPath: s.path("lake/events/_delta_log")).sorted()) ?? []
            #expect(now == rowsAt[n], "after checkout s\(n) (\(co.stdout)): delta-rs reads \(now), expected \(rowsAt[n]); log: \(log)")
        }
    }
}

extension DeltaTableTests {
    /// The summary record (the last JSON line) of `table diff --json` on a Delta table.
    func summary(_ out: String) throws -> [String: Any] {
        let last = out.split(separator: "\n").last.map(String.init) ?? "{}"
        return (try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])?["summary"] as? [String: Any] ?? [:]
    }

    /// A log whose JSON commits before its checkpoint were cleaned up (as log retention does) replays from the
    /// checkpoint, a nested Parquet file read by strata's own reader: `show`, the table-level and row diffs, and
    /// time travel agree with delta-rs, before and after more commits on top of the checkpoint.
    @Test func checkpointedLogReplaysFromTheCheckpoint() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        var rowsAt: [String: String] = [:]
        func record(_ tag: String, checkpoint: Int?) throws {
            #expect(try s.run("commit", "-m", tag).status == 0)
            #expect(try s.run("tag", tag).status == 0)
            rowsAt[tag] = try pythonStdout([fixture, "rows"], cwd: s.directory)
            let show = try s.run("show", "\(tag):lake/events", "--json")
            let doc = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any] ?? [:]
            let version = try pythonStdout([fixture, "version"], cwd: s.directory).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect((doc["delta_version"] as? Int).map(String.init) == version, "\(tag): \(show.stdout) \(show.stderr)")
            #expect(doc["checkpoint"] as? Int == checkpoint, "\(tag): \(show.stdout)")
            let rows = try JSONSerialization.jsonObject(with: Data(rowsAt[tag]!.utf8)) as? [Any] ?? []
            #expect(doc["rows"] as? Int == rows.count, "\(tag): \(show.stdout)")
        }
        for n in 0...5 { #expect(try python([fixture, "step", String(n)], cwd: s.directory).0 == 0) }
        try record("full", checkpoint: nil)  // every JSON commit still there: replayed from version 0
        #expect(try python([fixture, "cleanup"], cwd: s.directory).0 == 0)
        let log = try FileManager.default.contentsOfDirectory(atPath: s.path("lake/events/_delta_log"))
        #expect(!log.contains("00000000000000000000.json") && log.contains { $0.hasSuffix(".checkpoint.parquet") }, "\(log)")
        try record("cleaned", checkpoint: 5)
        #expect(try python([fixture, "step", "6"], cwd: s.directory).0 == 0)  // an overwrite on top of the checkpoint
        try record("after", checkpoint: 5)
        // The cleanup changed the log, not the table.
        let same = try s.run("table", "diff", "full", "cleaned", "lake/events", "--key", "id", "--json")
        let sameSummary = try summary(same.stdout)
        #expect(sameSummary["added"] as? Int == 0 && sameSummary["removed"] as? Int == 0 && sameSummary["modified"] as? Int == 0, "\(same.stdout)")
        // The overwrite, against what delta-rs read at each commit (keyed by id, as the folder is declared).
        #expect(try s.run("table", "add", "lake/events", "--key", "id", "--format", "delta").status == 0)
        #expect(try s.run("table", "list").stdout.contains("lake/events\tdelta\tkey id"))
        let d = try s.run("table", "diff", "cleaned", "after", "lake/events", "--json")
        #expect(d.status == 0, "\(d.stderr)")
        func ids(_ tag: String) throws -> Set<Int> {
            Set((try JSONSerialization.jsonObject(with: Data(rowsAt[tag]!.utf8)) as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int })
        }
        let (was, now) = (try ids("cleaned"), try ids("after"))
        let got = try summary(d.stdout)
        #expect(got["added"] as? Int == now.subtracting(was).count && got["removed"] as? Int == was.subtracting(now).count, "\(d.stdout)")
        #expect(try s.run("diff", "cleaned", "after").stdout.contains("Delta table lake/events: version 5 -> 6 (WRITE)"))
        // Time travel to the checkpointed commit: delta-rs reads its rows again.
        #expect(try s.run("checkout", "cleaned", "--", "lake/events").status == 0)
        #expect(try pythonStdout([fixture, "rows"], cwd: s.directory) == rowsAt["cleaned"])
        // A damaged checkpoint is an integrity error naming the file, never a guessed table.
        try s.write("lake/events/_delta_log/00000000000000000005.checkpoint.parquet", "garbage")
        let damaged = try s.run("table", "diff", "cleaned", "lake/events", "--key", "id")
        #expect(damaged.status == 12 && damaged.stderr.contains("_delta_log/00000000000000000005.checkpoint.parquet"), "\(damaged.stderr)")
    }

    /// A table with the Change Data Feed on: row diffs between any two commits read the `_change_data` files (and,
    /// for versions without any, the files they added or removed), net each key's changes over the versions, and
    /// agree with delta-rs's own rows (pandas) both keyed and keyless.
    @Test func changeDataFeedGivesTheRowDiff() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        let env = ["DELTA_TABLE": "lake/feed"]
        for n in 0...6 {
            let (st, out) = try python([fixture, "feed", String(n)], cwd: s.directory, environment: env)
            #expect(st == 0, "feed \(n): \(out)")
            #expect(try s.run("commit", "-m", "feed \(n)").status == 0)
            #expect(try s.run("tag", "f\(n)").status == 0)
        }
        for (a, b) in [(0, 1), (1, 2), (0, 4), (2, 5), (0, 6), (3, 4), (4, 6)] {
            let d = try s.run("table", "diff", "f\(a)", "f\(b)", "lake/feed", "--key", "id", "--json")
            #expect(d.status == 0, "\(d.stderr)")
            let got = try summary(d.stdout)
            #expect(got["source"] as? String == "change data feed", "f\(a)..f\(b): \(d.stdout)")
            let ref = try pythonStdout([fixture, "changes", String(a), String(b)], cwd: s.directory, environment: env)
            let expected = try JSONSerialization.jsonObject(with: Data(ref.utf8)) as? [String: Int] ?? [:]
            for k in ["added", "removed", "modified"] {
                #expect(got[k] as? Int == expected[k], "f\(a)..f\(b) \(k): strata \(got[k] ?? "nil"), delta-rs \(expected[k] ?? -1)\n\(d.stdout)")
            }
        }
        let keyless = try s.run("table", "diff", "f0", "f6", "lake/feed", "--json")
        let got = try summary(keyless.stdout)
        let ref = try pythonStdout([fixture, "multiset", "0", "6"], cwd: s.directory, environment: env)
        let expected = try JSONSerialization.jsonObject(with: Data(ref.utf8)) as? [String: Int] ?? [:]
        #expect(got["added"] as? Int == expected["added"] && got["removed"] as? Int == expected["removed"], "\(keyless.stdout) vs \(ref)")
        // An append writes no change data: that diff reads the added file, as without a feed.
        let append = try summary(try s.run("table", "diff", "f2", "f3", "lake/feed", "--key", "id", "--json").stdout)
        #expect(append["source"] as? String == "changed data files" && append["added"] as? Int == 2, "\(append)")
    }
}

/// Whether pyiceberg (with its SQL catalog and pyarrow) is installed (requirements-test.txt).
let pyicebergAvailable = PythonFixture.available("pyiceberg.catalog.sql, pyarrow, sqlalchemy")

@Suite("Iceberg tables through the binary", .serialized, .enabled(if: pyicebergAvailable, "pyiceberg is not installed (requirements-test.txt)"))
struct IcebergTableTests {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/iceberg_fixture.py"

    /// An Iceberg table written by pyiceberg (appends, a delete, a column rename), committed after each step: the
    /// table-level diff agrees with the snapshots' summaries, a rename is found by field id, and
    /// `checkout sN -- lake/crm/orgs` restores the table so that pyiceberg reads the rows of step N.
    @Test func icebergDiffsAndTimeTravelAgreeWithPyiceberg() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        try s.write(".strataignore", "catalog.db\n")
        var rowsAt: [String] = []
        for n in 0...3 {
            let (st, out) = try python([fixture, "step", String(n)], cwd: s.directory)
            #expect(st == 0, "step \(n): \(out)")
            #expect(try s.run("commit", "-m", "step \(n)").status == 0)
            #expect(try s.run("tag", "s\(n)").status == 0)
            rowsAt.append(try pythonStdout([fixture, "rows"], cwd: s.directory))
        }
        let d = try s.run("table", "diff", "s1", "s2", "lake/crm/orgs", "--json")
        #expect(d.status == 0, "\(d.stderr)")
        let last = d.stdout.split(separator: "\n").last.map(String.init) ?? "{}"
        let diff = (try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])?["iceberg"] as? [String: Any] ?? [:]
        #expect(diff["operations"] as? [String] == ["overwrite"] || diff["operations"] as? [String] == ["delete"], "\(diff)")
        #expect(diff["recordsBefore"] as? Int == 4 && diff["recordsAfter"] as? Int == 3, "\(diff)")
        // Lineage: the commit that wrote the table reports it as one table dataset, its current snapshot id as its
        // version beside the content hash, and its schema.
        let events = try s.run("lineage", "export").stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let table = (events.last?["outputs"] as? [[String: Any]])?.first { ($0["name"] as? String)?.hasSuffix("lake/crm/orgs/") == true }
        let dataset = (table?["facets"] as? [String: Any])?["strata_dataset"] as? [String: Any]
        #expect(dataset?["tableFormat"] as? String == "iceberg" && (dataset?["tableVersion"] as? Int ?? 0) != 0, "\(table ?? [:])")
        let fields = (((table?["facets"] as? [String: Any])?["schema"] as? [String: Any])?["fields"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(fields == ["id", "org_name"], "\(table ?? [:])")
        let rename = try s.run("table", "diff", "s2", "s3", "lake/crm/orgs")
        #expect(rename.stdout.contains("column renamed (same field id): name -> org_name"), "\(rename.stdout)")
        // Row diffs read the manifests (Avro) and only the data files that differ; a rename compares by field id.
        for (from, to, expected) in [
            ("s0", "s1", "1 added, 0 removed, 0 modified"), ("s1", "s2", "0 added, 1 removed, 0 modified"),
            ("s2", "s3", "0 added, 0 removed, 0 modified"), ("s0", "s3", "1 added, 1 removed, 0 modified"),
        ] {
            let r = try s.run("table", "diff", from, to, "lake/crm/orgs", "--key", "id")
            #expect(r.status == 0 && r.stdout.contains("rows \(expected)"), "\(from)..\(to): \(r.stdout)\(r.stderr)")
        }
        let overall = try s.run("diff", "s0", "s1")
        #expect(overall.stdout.contains("Iceberg table lake/crm/orgs") && overall.stdout.contains("(append)"), "\(overall.stdout)")
        let show = try s.run("show", "s3:lake/crm/orgs")
        #expect(show.stdout.contains("format version 2") && show.stdout.contains("records: 3"), "\(show.stdout)")
        for n in [0, 2, 1, 3] {
            let co = try s.run("checkout", "s\(n)", "--", "lake/crm/orgs")
            #expect(co.status == 0, "\(co.stderr)")
            let now = try pythonStdout([fixture, "rows"], cwd: s.directory)
            #expect(now == rowsAt[n], "after checkout s\(n): pyiceberg reads \(now), expected \(rowsAt[n])")
        }
    }
}

extension IcebergTableTests {
    /// Merge-on-read: a position delete (checked against pyiceberg's own read), an equality delete (which pyiceberg
    /// cannot read; the expected rows are the step before without the deleted name), and an append after it whose
    /// row carries the deleted value but a higher sequence number, so it stays. Row diffs apply the delete files.
    @Test func deleteFilesAreApplied() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        try s.write(".strataignore", "catalog.db\n")
        for n in 0...6 {
            let (st, out) = try python([fixture, "step", String(n)], cwd: s.directory)
            #expect(st == 0, "step \(n): \(out)")
            #expect(try s.run("commit", "-m", "step \(n)").status == 0)
            #expect(try s.run("tag", "s\(n)").status == 0)
            if n == 4 {
                // pyiceberg applies the position delete: id 4 is gone.
                let rows = try pythonStdout([fixture, "rows"], cwd: s.directory).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(rows == #"[{"id": 1, "org_name": "Karoo"}, {"id": 3, "org_name": "Sable"}]"#, "\(rows)")
            }
        }
        func diff(_ a: String, _ b: String) throws -> [String] {
            let r = try s.run("table", "diff", a, b, "lake/crm/orgs", "--key", "id")
            #expect(r.status == 0, "\(a)..\(b): \(r.stderr)")
            return r.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("+ ") || $0.hasPrefix("- ") || $0.hasPrefix("~ ") }
        }
        #expect(try diff("s3", "s4") == ["- id=4  id=4 org_name=Fynbos"])
        #expect(try diff("s4", "s5") == ["- id=1  id=1 org_name=Karoo"])
        #expect(try diff("s5", "s6") == ["+ id=9  id=9 org_name=Karoo"])
        #expect(try diff("s3", "s6") == ["- id=1  id=1 org_name=Karoo", "- id=4  id=4 org_name=Fynbos", "+ id=9  id=9 org_name=Karoo"])
        // Nothing changed between a snapshot and itself, deletes included.
        let same = try s.run("table", "diff", "s6", "s6", "lake/crm/orgs", "--key", "id", "--stat")
        #expect(same.status == 0, "\(same.stderr)")
    }
}
