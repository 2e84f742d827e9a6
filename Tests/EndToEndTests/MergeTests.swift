import Foundation
import StrataModel
import StrataTestSupport
import Testing

/// `strata merge`, `resolve`, `merge --continue/--abort`, `merge-base`, `log --graph` and `diff A...B`, through the
/// binary, with the file-level golden cases, criss-cross histories, and `kill -9` at random moments of a merge.
@Suite("Merge through the command line") struct MergeTests {
    /// A store with `t.csv` declared (key id), a text file and a binary file, committed on main; `feature` branches off.
    func store() throws -> StrataCLI {
        let s = try StrataCLI()
        try s.run("init", "-q")
        try s.write("t.csv", "id,name,city\n1,Acme,Cape Town\n2,Baobab,Durban\n3,Cedar,Pretoria\n")
        try s.write("notes.txt", "base notes\n")
        try s.write("data.bin", Data([0, 1, 2, 3, 255]))
        try s.write("keep.txt", "unchanged\n")
        try s.write(".strataignore", "*.local\n")
        #expect(try s.run("table", "add", "t.csv", "--key", "id").status == 0)
        #expect(try s.run("commit", "-q", "-m", "base").status == 0)
        #expect(try s.run("branch", "feature").status == 0)
        return s
    }

    func commit(_ s: StrataCLI, _ message: String) throws {
        let r = try s.run("commit", "-q", "-m", message)
        #expect(r.status == 0, "\(r.stderr)")
    }

    /// SHA-256 of every file in the workspace (outside .strata), for byte-for-byte comparisons.
    func snapshot(_ s: StrataCLI) throws -> [String: String] {
        var out: [String: String] = [:]
        let root = URL(fileURLWithPath: s.directory)
        let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let u as URL in e {
            let rel = String(u.path.dropFirst(root.path.count + 1))
            if rel.hasPrefix(".strata") { e.skipDescendants(); continue }
            if (try u.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true { out[rel] = ObjectID.hash(Array(try Data(contentsOf: u))).hex }
        }
        return out
    }

    @Test func fileLevelGoldenCasesAndRenames() throws {
        let s = try store()
        try s.run("switch", "-q", "feature")
        try s.write("notes.txt", "their notes\n")  // changed on their side only
        try s.write("same.txt", "identical\n")  // added identically on both sides
        try FileManager.default.moveItem(atPath: s.path("keep.txt"), toPath: s.path("moved.txt"))  // renamed by them
        try s.write("data.bin", Data([9, 9, 9]))  // binary changed on both sides
        try commit(s, "feature work")
        try s.run("switch", "-q", "main")
        try s.write("same.txt", "identical\n")
        try s.write("keep.txt", "unchanged, but edited here\n")  // our edit follows their rename
        try s.write("data.bin", Data([7, 7]))
        try commit(s, "main work")
        let dry = try s.run("merge", "feature", "--dry-run", "--json")
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("\"would-conflict\""))
        #expect(try snapshot(s)["data.bin"] == ObjectID.hash([7, 7]).hex)  // a dry run changes nothing
        let r = try s.run("merge", "feature", "--keep-theirs")
        #expect(r.status == 25, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("CONFLICT (content): data.bin"))
        #expect(String(decoding: try s.read("notes.txt"), as: UTF8.self) == "their notes\n")
        #expect(String(decoding: try s.read("same.txt"), as: UTF8.self) == "identical\n")
        #expect(String(decoding: try s.read("moved.txt"), as: UTF8.self) == "unchanged, but edited here\n")
        #expect(!FileManager.default.fileExists(atPath: s.path("keep.txt")))
        #expect(try s.read("data.bin") == Data([7, 7]))  // ours stays; theirs beside it on request
        #expect(try s.read("data.bin.theirs") == Data([9, 9, 9]))
        // During the merge: status lists the conflict; commit, checkout and another merge are refused.
        let st = try s.run("status", "--json")
        #expect(st.stdout.contains("\"merging\" : \"feature\"") && st.stdout.contains("\"kind\" : \"content\""))
        #expect(try s.run("commit", "-m", "x").status == 4)
        #expect(try s.run("switch", "feature").status == 4)
        #expect(try s.run("merge", "feature").status == 4)
        #expect(try s.run("merge", "--continue").status == 25)
        #expect(try s.run("resolve", "data.bin", "--theirs").status == 0)
        let done = try s.run("merge", "--continue")
        #expect(done.status == 0, "\(done.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.path("data.bin.theirs")))
        #expect(try s.read("data.bin") == Data([9, 9, 9]))
        let log = try s.run("log", "--json", "-n", "1")
        #expect(log.stdout.components(separatedBy: "\"parents\"").count == 2)
        let show = try s.run("show", "HEAD")
        #expect(show.stdout.components(separatedBy: "Parent: ").count == 3)
        #expect(try s.run("status", "--json").stdout.contains("\"clean\" : true"))
        #expect(try s.run("fsck").status == 0)
        // The merge run's lineage derives merged versions from both parents.
        let runs = try s.run("runs", "--json")
        #expect(runs.stdout.contains("strata.merge"))
        #expect(try s.run("lineage", "verify").status == 0)
    }

    @Test func rowConflictsResolveByKeyAndAbortRestoresBytes() throws {
        let s = try store()
        try s.run("switch", "-q", "feature")
        try s.write("t.csv", "id,name,city\n1,Acme Inc,Cape Town\n2,Baobab,Umhlanga\n3,Cedar,Pretoria\n4,Delta,Polokwane\n")
        try commit(s, "theirs")
        try s.run("switch", "-q", "main")
        try s.write("t.csv", "id,name,city\n1,Acme Ltd,Cape Town\n2,Baobab,Durban\n3,Cedar,Tshwane\n")
        try commit(s, "ours")
        try s.write("scratch.local", "mine, ignored\n")  // new files would go into the merge commit: only ignored ones may stay
        let before = try snapshot(s)
        let r = try s.run("merge", "feature", "--json")
        #expect(r.status == 25)
        let ids = ContractTests.replace(r.stdout, "[0-9a-f]{64}") { _ in "<commit>" }  // commit times vary
        try ContractTests.assertSnapshot(ContractTests.normalise(ids, workspace: s.directory), "json-merge-conflicts.json")
        #expect(
            String(decoding: try s.read("t.csv"), as: UTF8.self)
                == "id,name,city\n1,Acme Ltd,Cape Town\n2,Baobab,Umhlanga\n3,Cedar,Tshwane\n4,Delta,Polokwane\n")
        let side = String(decoding: try s.read("t.csv.conflicts.jsonl"), as: UTF8.self)
        #expect(side.contains("\"Acme Inc\"") && side.contains("\"Acme Ltd\"") && side.contains("\"kind\":\"cell\""))
        let status = try s.run("status")
        #expect(status.stdout.contains("rows") && status.stdout.contains("1 conflicting row"))
        // Abort: every byte as before, the untracked file untouched.
        #expect(try s.run("merge", "--abort").status == 0)
        #expect(try snapshot(s) == before)
        #expect(try s.run("merge", "--abort").status == 3)
        // Again, resolved row by row this time.
        #expect(try s.run("merge", "feature").status == 25)
        // A damaged conflict file is a clear usage error, and nothing changes.
        let sidecar = try s.read("t.csv.conflicts.jsonl")
        try s.write("t.csv.conflicts.jsonl", "not json\n")
        let damaged = try s.run("resolve", "t.csv", "--key", "1", "--theirs")
        #expect(damaged.status == 64 && damaged.stderr.contains("line 1 of t.csv.conflicts.jsonl is not a JSON object"), "\(damaged.stderr)")
        try s.write("t.csv.conflicts.jsonl", sidecar)
        #expect(try s.run("resolve", "t.csv", "--key", "id=1", "--theirs").status == 0)
        #expect(!FileManager.default.fileExists(atPath: s.path("t.csv.conflicts.jsonl")))
        let done = try s.run("merge", "--continue", "-m", "merge feature")
        #expect(done.status == 0, "\(done.stderr)")
        #expect(
            String(decoding: try s.read("t.csv"), as: UTF8.self)
                == "id,name,city\n1,Acme Inc,Cape Town\n2,Baobab,Umhlanga\n3,Cedar,Tshwane\n4,Delta,Polokwane\n")
        let graph = try s.run("log", "--graph", "--oneline")
        #expect(graph.stdout.hasPrefix("* ") && graph.stdout.contains("| *"))
        let first = try s.run("log", "--first-parent", "--oneline")
        #expect(!first.stdout.contains("theirs") && first.stdout.contains("ours"))
        #expect(try s.run("merge", "feature").stdout.contains("Already up to date"))
        // PROV: the merged version of t.csv is derived from both parents' versions.
        let prov = try s.run("lineage", "prov", "HEAD")
        #expect(prov.status == 0, "\(prov.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(prov.stdout.utf8)) as? [String: Any]
        let nodes = doc?["@graph"] as? [[String: Any]] ?? []
        let merged = nodes.first { ($0["strata:path"] as? String) == "t.csv" && $0["prov:wasGeneratedBy"] != nil }
        #expect((merged?["prov:wasDerivedFrom"] as? [[String: Any]])?.count == 2, "\(prov.stdout.prefix(2000))")
    }

    @Test func fastForwardNoFfFfOnlyMergeBaseAndThreeDotDiff() throws {
        let s = try store()
        try s.run("switch", "-q", "feature")
        try s.write("notes.txt", "their notes\n")
        try commit(s, "theirs")
        try s.run("switch", "-q", "main")
        let base = try s.run("merge-base", "main", "feature").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(base == (try s.run("log", "--json", "-n", "1").stdout.contains(base) ? base : "?"))
        let three = try s.run("diff", "main...feature", "--json")
        #expect(three.status == 0 && three.stdout.contains("notes.txt"))
        let ff = try s.run("merge", "feature", "--ff-only")
        #expect(ff.status == 0 && ff.stdout.contains("Fast-forward"))
        try s.run("switch", "-q", "-c", "other")
        try s.write("keep.txt", "other\n")
        try commit(s, "other")
        try s.run("switch", "-q", "main")
        try s.write("notes.txt", "main again\n")
        try commit(s, "main again")
        #expect(try s.run("merge", "other", "--ff-only").status == 4)
        try s.write("notes.txt", "dirty\n")
        #expect(try s.run("merge", "other").status == 4)  // uncommitted changes
        try s.write("notes.txt", "main again\n")
        let noff = try s.run("merge", "other", "--no-ff", "-m", "bring other")
        #expect(noff.status == 0, "\(noff.stderr)")
        #expect(try s.run("merge-base", "--all", "main", "other").status == 0)
    }

    /// Criss-cross: two branches merge each other; their next merge has two best common ancestors, merged into a
    /// virtual base, so a change made after the criss-cross on one side only merges without conflict.
    @Test func crissCrossMergesThroughAVirtualBase() throws {
        let s = try store()
        try s.run("switch", "-q", "feature")
        try s.write("t.csv", "id,name,city\n1,Acme,Cape Town\n2,Baobab,Durban\n3,Cedar,Pretoria\n4,Delta,Polokwane\n")
        try commit(s, "B1")
        try s.run("switch", "-q", "main")
        try s.write("notes.txt", "A1\n")
        try commit(s, "A1")
        let a1 = try s.run("log", "-n", "1", "--oneline").stdout.prefix(12)
        #expect(try s.run("merge", "feature", "-m", "A2").status == 0)
        try s.run("switch", "-q", "feature")
        #expect(try s.run("merge", String(a1), "-m", "B2").status == 0)
        try s.write("t.csv", "id,name,city\n1,Acme,Cape Town\n2,Baobab,Durban\n3,Cedar,Tshwane\n4,Delta,Polokwane\n")
        try commit(s, "B3")
        try s.run("switch", "-q", "main")
        try s.write("notes.txt", "A3\n")
        try commit(s, "A3")
        let bases = try s.run("merge-base", "--all", "main", "feature").stdout.split(separator: "\n")
        #expect(bases.count == 2)
        let r = try s.run("merge", "feature")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("Criss-cross"))
        #expect(String(decoding: try s.read("t.csv"), as: UTF8.self).contains("3,Cedar,Tshwane"))
        #expect(String(decoding: try s.read("notes.txt"), as: UTF8.self) == "A3\n")
    }

    @Test func gcAndPruneDuringAMergeKeepWhatItNeeds() throws {
        let s = try store()
        try s.run("switch", "-q", "feature")
        try s.write("big.csv", (0..<3000).map { "\($0),feature value \($0)\n" }.joined())
        try s.write("t.csv", "id,name,city\n1,Acme Inc,Cape Town\n2,Baobab,Durban\n3,Cedar,Pretoria\n")
        try commit(s, "theirs")
        try s.run("switch", "-q", "main")
        try s.write("t.csv", "id,name,city\n1,Acme Ltd,Cape Town\n2,Baobab,Durban\n3,Cedar,Pretoria\n")
        try commit(s, "ours")
        #expect(try s.run("merge", "feature").status == 25)
        #expect(try s.run("branch", "-d", "feature").status == 0)
        #expect(try s.run("prune", "--keep-last", "1").status == 0)
        #expect(try s.run("gc", "--grace", "0s").status == 0)
        #expect(try s.run("fsck").status == 0)
        #expect(try s.run("resolve", "t.csv", "--ours").status == 0)
        let done = try s.run("merge", "--continue")
        #expect(done.status == 0, "\(done.stderr)")
        #expect(try s.run("checkout", "HEAD~1").status == 0)
        #expect(try s.run("checkout", "main").status == 0)
        #expect(try s.read("big.csv").count > 10_000)
    }

    /// `kill -9` at random moments of a merge, repeatedly: afterwards the store is either as before the merge, or holds
    /// a merge that `--abort` undoes byte for byte (or `--continue` finishes); fsck is clean either way.
    @Test func killDuringMergeLeavesOldStateOrAResumableMerge() throws {
        let s = try store()
        try s.run("switch", "-q", "feature")
        for i in 0..<400 { try s.write("files/f\(i).txt", "feature \(i)\n" + String(repeating: "x", count: 2000 + i)) }
        try s.write("t.csv", "id,name,city\n1,Acme Inc,Cape Town\n2,Baobab,Durban\n3,Cedar,Pretoria\n")
        try commit(s, "theirs")
        try s.run("switch", "-q", "main")
        try s.write("t.csv", "id,name,city\n1,Acme Ltd,Cape Town\n2,Baobab,Durban\n3,Cedar,Pretoria\n")
        try commit(s, "ours")
        let before = try snapshot(s)
        var g = SystemRandomNumberGenerator()
        var interrupted = 0
        for round in 0..<8 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: StrataCLI.binary)
            p.arguments = ["merge", "feature", "-q"]
            p.currentDirectoryURL = URL(fileURLWithPath: s.directory)
            p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 5_000...(60_000 + UInt32(round) * 20_000), using: &g))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let st = try s.run("status", "--json")
            #expect(st.status == 0, "\(st.stderr)")
            if st.stdout.contains("\"merge\"") {
                interrupted += 1
                let abort = try s.run("merge", "--abort")
                #expect(abort.status == 0, "round \(round): \(abort.stderr)")
            }
            #expect(try snapshot(s) == before, "round \(round): the workspace differs from before the merge")
            let fsck = try s.run("fsck")
            #expect(fsck.status == 0, "round \(round): \(fsck.stdout)\(fsck.stderr)")
        }
        // Finally the merge runs to its stop and concludes.
        #expect(try s.run("merge", "feature").status == 25)
        #expect(try s.run("resolve", "t.csv", "--theirs").status == 0)
        #expect(try s.run("merge", "--continue").status == 0)
        #expect(try s.run("fsck").status == 0)
        print("kill -9 during merge: \(interrupted) of 8 rounds left a merge in progress")
    }

    /// `merge --repro`: Pipeline.lock and a stage's output conflict; the merge re-runs the stage on the merged table.
    @Test func mergeReproRerunsStagesOnTheMergedInputs() throws {
        let s = try StrataCLI()
        try s.run("init", "-q")
        try s.write("t.csv", "id,name\n1,a\n2,b\n3,c\n")
        try s.write("steps/count.sh", "#!/bin/sh\nmkdir -p out\nwc -l < t.csv > out/count.txt\n")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "merge-repro", stages: [
                .stage(name: "count", command: "sh steps/count.sh", inputs: ["steps/count.sh", "t.csv"], outputs: [.folder("out")]),
            ], tables: [.table("t.csv", key: ["id"])])
            """)
        #expect(try s.run("repro").status == 0)
        try commit(s, "base")
        try s.run("branch", "feature")
        try s.run("switch", "-q", "feature")
        try s.write("t.csv", "id,name\n1,a\n2,b\n3,c\n4,d\n5,e\n")
        #expect(try s.run("repro").status == 0)
        try commit(s, "theirs: two rows")
        try s.run("switch", "-q", "main")
        try s.write("t.csv", "id,name\n1,a\n2,b\n3,c\n9,z\n")
        #expect(try s.run("repro").status == 0)
        try commit(s, "ours: one row")
        let plain = try s.run("merge", "feature", "--dry-run", "--json")
        #expect(plain.stdout.contains("Pipeline.lock") && plain.stdout.contains("out/count.txt"))
        let r = try s.run("merge", "feature", "--repro")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("Re-ran count"))
        #expect(String(decoding: try s.read("t.csv"), as: UTF8.self) == "id,name\n1,a\n2,b\n3,c\n9,z\n4,d\n5,e\n")
        #expect(String(decoding: try s.read("out/count.txt"), as: UTF8.self).trimmingCharacters(in: .whitespaces) == "7\n")
        #expect(try s.run("status", "--json").stdout.contains("\"clean\" : true"))
    }

    /// A declared Parquet table merges row by row too: strata writes the merged table as Parquet with the same typed
    /// schema (dates, timestamps, decimals, nulls), and pyarrow reads back exactly the expected rows.
    @Test(.enabled(if: parquetWriteCheckAvailable, "pyarrow is not installed (requirements-test.txt)"))
    func parquetTablesMergeRowByRow() throws {
        let s = try StrataCLI()
        let fixture = projectRoot + "/Tests/EndToEndTests/parquet_merge_fixture.py"
        func version(_ v: String) throws {
            let (rc, out) = try python([fixture, "write", v, s.path("t.parquet")])
            #expect(rc == 0, "\(out)")
        }
        try s.run("init", "-q")
        try version("base")
        #expect(try s.run("table", "add", "t.parquet", "--key", "id").status == 0)
        try commit(s, "base")
        try s.run("branch", "feature")
        try s.run("switch", "-q", "feature")
        try version("theirs")
        try commit(s, "theirs")
        try s.run("switch", "-q", "main")
        try version("ours")
        try commit(s, "ours")
        let r = try s.run("merge", "feature")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("rows     t.parquet"))
        let (rc, out) = try python([fixture, "check", s.path("t.parquet")])
        #expect(rc == 0 && out.trimmingCharacters(in: .whitespacesAndNewlines) == "OK", "\(out)")
        // strata reads its own output: the row diff against our side shows their changes only.
        let d = try s.run("table", "diff", "HEAD~1", "HEAD", "t.parquet", "--json")
        #expect(d.status == 0, "\(d.stderr)")
        // Their changes only (amount, day, flag, one added row), never ours (name).
        #expect(d.stdout.contains("\"changed\":[\"amount\"]") && !d.stdout.contains("\"changed\":[\"name\"]"))
        #expect(try s.run("fsck").status == 0)
    }
}

/// Whether pyarrow is installed (requirements-test.txt).
let parquetWriteCheckAvailable = PythonFixture.available("pyarrow")
