import Foundation
import Testing
import StrataTestSupport

/// The manifest of issue 3, exactly as written there: the sample pipeline that ships in dist/.
let exampleManifest: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try! String(contentsOfFile: root.appendingPathComponent("dist/sample-pipeline/Pipeline.swift").path, encoding: .utf8)
}()

func setUpPipeline(_ s: StrataCLI) throws {
    try s.run("init")
    try s.write("Pipeline.swift", exampleManifest)
    try s.write(".strataignore", "runs.log\n")
    try s.write("raw/organisations.csv", "id,name\n1,Karoo Data\n2,Ubuntu Holdings\n")
    try s.write("raw/contacts.csv", "id,org\n1,1\n")
    try s.write("raw/sources.csv", "id,url\n1,https://registry.example.org/1\n")
    try s.write(
        "steps/extract.py",
        """
        import os, sys, shutil
        os.makedirs(sys.argv[2], exist_ok=True)
        for f in sorted(os.listdir(sys.argv[1])): shutil.copy(os.path.join(sys.argv[1], f), os.path.join(sys.argv[2], f))
        open("runs.log", "a").write("extract\\n")
        """)
    try s.write(
        "steps/curate.py",
        """
        import os, sys, json
        t = sys.argv[1]
        os.makedirs("curated", exist_ok=True); os.makedirs(f"evidence/{t}", exist_ok=True)
        rows = open(f"staging/{t}.csv").read()
        open(f"curated/{t}.csv", "w").write(rows)
        open(f"evidence/{t}/decisions.jsonl", "w").write(json.dumps({"table": t, "locale": os.environ.get("LOCALE")}) + "\\n")
        open("runs.log", "a").write(f"curate-{t}\\n")
        """)
    try s.write(
        "steps/report.py",
        """
        import json, os
        os.makedirs("reports", exist_ok=True)
        n = {t: open(f"curated/{t}.csv").read().count("\\n") - 1 for t in ["organisations", "contacts", "sources"]}
        json.dump(n, open("reports/summary.json", "w"), sort_keys=True)
        open("reports/summary.md", "w").write("# Summary\\n")
        open("runs.log", "a").write("report\\n")
        """)
}

/// The stages that ran since the last call (from the side-effect log the commands append to).
func ranSince(_ s: StrataCLI) throws -> [String] {
    let path = s.path("runs.log")
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(atPath: path)
    return text.split(separator: "\n").map(String.init).sorted()
}

@Suite("End to end: pipelines", .serialized) struct PipelineE2ETests {
    @Test func reproRunsExactlyWhatChanged() throws {
        let s = try StrataCLI()
        try setUpPipeline(s)
        let first = try s.run("repro")
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(try ranSince(s) == ["curate-contacts", "curate-organisations", "curate-sources", "extract", "report"])
        let lockA = try s.read("Pipeline.lock")
        // Second run: nothing runs, lock byte-identical.
        #expect(try s.run("repro").status == 0)
        #expect(try ranSince(s) == [])
        #expect(try s.read("Pipeline.lock") == lockA)
        // Touch one input: exactly its downstream runs (the other curate stages see unchanged inputs: early cutoff).
        try s.write("raw/organisations.csv", "id,name\n1,Karoo Data\n2,Ubuntu Holdings\n3,Fynbos Trust\n")
        #expect(try s.run("repro").status == 0)
        #expect(try ranSince(s) == ["curate-organisations", "extract", "report"])
        let lockB = try s.read("Pipeline.lock")
        #expect(lockB != lockA)
        // Revert: outputs come back from the run cache without running; the lock is A again, byte for byte.
        try s.write("raw/organisations.csv", "id,name\n1,Karoo Data\n2,Ubuntu Holdings\n")
        let restore = try s.run("repro", "--json")
        #expect(restore.stdout.contains("\"action\" : \"restored\""))
        #expect(try ranSince(s) == [])
        #expect(try s.read("Pipeline.lock") == lockA)
        #expect(try s.read("curated/organisations.csv") == Data("id,name\n1,Karoo Data\n2,Ubuntu Holdings\n".utf8))
        // An environment value, a parameter, the command, a removed input: that stage re-runs.
        #expect(try s.run("repro", env: ["LOCALE": "en_ZA"]).status == 0)
        #expect(try ranSince(s) == ["curate-contacts", "curate-organisations", "curate-sources"])
        try s.write("Pipeline.swift", exampleManifest.replacingOccurrences(of: "0.8", with: "0.9"))
        let dry = try s.run("repro", "--dry-run")
        #expect(dry.stdout.contains("parameter threshold changed: 0.8 -> 0.9"))
        #expect(try ranSince(s) == [])
        #expect(try s.run("repro").status == 0)
        #expect(try ranSince(s) == ["curate-contacts", "curate-organisations", "curate-sources"])
        try s.write("Pipeline.swift", exampleManifest.replacingOccurrences(of: "python3 steps/report.py", with: "python3 -B steps/report.py"))
        #expect(try s.run("repro").status == 0)
        #expect(try ranSince(s).contains("report"))
        try s.write("Pipeline.swift", exampleManifest.replacingOccurrences(of: "inputs: [\"raw/\", \"steps/extract.py\"]", with: "inputs: [\"raw/\"]"))
        let removed = try s.run("repro", "--dry-run")
        #expect(removed.stdout.contains("inputs changed: removed steps/extract.py"))
        // The status command lists out-of-date stages.
        #expect(try s.run("status").stdout.contains("Pipeline stages out of date (run 'strata repro'):\n  extract: inputs changed"))
        // Missing output is rebuilt.
        try s.write("Pipeline.swift", exampleManifest)
        try s.run("repro")
        _ = try ranSince(s)
        try FileManager.default.removeItem(atPath: s.path("reports/summary.json"))
        #expect(try s.run("repro", "--dry-run").stdout.contains("output reports/summary.json is missing"))
        // --commit records the state.
        let c = try s.run("repro", "--commit", "-m", "curated")
        #expect(c.stdout.contains("committed"))
        #expect(try s.run("ls", "HEAD", "curated", "-r").stdout.contains("organisations.csv"))
    }

    @Test func failingStageRecordsNothing() throws {
        let s = try StrataCLI()
        try setUpPipeline(s)
        #expect(try s.run("repro").status == 0)
        _ = try ranSince(s)
        let lockA = try s.read("Pipeline.lock")
        try s.write("steps/curate.py", "import sys\nsys.stderr.write('row 7: bad registration number\\n')\nsys.exit(3)\n")
        try s.write("raw/contacts.csv", "id,org\n1,1\n2,1\n")
        let r = try s.run("repro")
        #expect(r.status == 20)
        #expect(r.stdout.contains("row 7: bad registration number"))
        #expect(r.stdout.contains("not-run"))
        #expect(try s.read("Pipeline.lock") != lockA)  // extract succeeded and is recorded
        let lock = String(decoding: try s.read("Pipeline.lock"), as: UTF8.self)
        let before = String(decoding: lockA, as: UTF8.self)
        // The failed stages keep their previous entries: their keys are unchanged.
        for stage in ["curate-contacts", "curate-organisations", "report"] {
            #expect(keyOf(stage, lock) == keyOf(stage, before), "\(stage)")
        }
        // A failed run again leaves the lock byte-identical.
        let again = try s.read("Pipeline.lock")
        _ = try s.run("repro")
        #expect(try s.read("Pipeline.lock") == again)
        // --keep-going runs what does not depend on the failure.
        let k = try s.run("repro", "--keep-going", "--json")
        #expect(k.status == 20)
    }

    /// A manifest with Windows line endings runs both ways: compiled against the prebuilt DSL module, and compiled with
    /// the DSL that a bare copy of strata embeds, which drops the manifest's `import` line by line ("\r\n" is one
    /// Swift Character, so splitting at "\n" alone kept the import, and the compiler found no such module).
    @Test(arguments: [false, true]) func manifestWithWindowsLineEndingsRuns(bareCopy: Bool) throws {
        let s = try StrataCLI()
        let binary = bareCopy ? try s.bareCopy() : StrataCLI.binary
        try s.run("init")
        try s.write(
            "Pipeline.swift",
            [
                "import PipelineDescription", "let pipeline = Pipeline(name: \"crlf\", stages: [",
                "    .stage(name: \"a\", command: \"echo a > a.txt\", outputs: [.file(\"a.txt\")]),", "])", "",
            ].joined(separator: "\r\n"))
        let p = try s.start(["repro"], binary: binary)
        p.waitUntilExit(within: Watchdog.defaultLimit)
        #expect(p.terminationStatus == 0)
        #expect(try s.read("a.txt") == Data("a\n".utf8))
    }

    func keyOf(_ stage: String, _ lock: String) -> String? {
        guard let r = lock.range(of: "\"name\" : \"\(stage)\"") else { return nil }
        let before = lock[..<r.lowerBound]
        guard let k = before.range(of: "\"key\" : \"", options: .backwards) else { return nil }
        return String(before[k.upperBound...].prefix(64))
    }

    @Test func badManifestsAreClearErrors() throws {
        let s = try StrataCLI()
        try setUpPipeline(s)
        try s.write(
            "Pipeline.swift", "import PipelineDescription\n\nlet pipeline = Pipeline(name: \"x\", stages: [\n    .stage(name: \"a\", comand: \"true\"),\n])\n")
        let r = try s.run("repro")
        #expect(r.status == 21)
        #expect(r.stderr.contains("Pipeline.swift:4:"), "\(r.stderr)")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "x", stages: [
                .stage(name: "a", command: "cp b.txt a.txt", inputs: ["b.txt"], outputs: [.file("a.txt")]),
                .stage(name: "b", command: "cp a.txt b.txt", inputs: ["a.txt"], outputs: [.file("b.txt")]),
            ])
            """)
        let cycle = try s.run("repro")
        #expect(cycle.status == 21)
        #expect(cycle.stderr.contains("cycle: a -> b -> a") || cycle.stderr.contains("cycle: b -> a -> b"))
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "x", stages: [
                .stage(name: "a", command: "true", outputs: [.file("same.txt")]),
                .stage(name: "b", command: "true", outputs: [.file("same.txt")]),
            ])
            """)
        #expect(try s.run("repro").stderr.contains("overlaps output"))
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "x", stages: [.stage(name: "a", command: "true", inputs: ["nowhere.csv"], outputs: [.file("o.txt")])])
            """)
        #expect(try s.run("repro").stderr.contains("'nowhere.csv' of stage 'a' does not exist"))
        #expect(!FileManager.default.fileExists(atPath: s.path("o.txt")))
    }

    @Test func twoHundredStagesAndGraphOutput() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("seed.txt", "0\n")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription

            func step(_ i: Int) -> Stage {
                .stage(name: "s\\(i)", command: "cat \\(i == 0 ? "seed.txt" : "out/s\\(i - 1).txt") > out/s\\(i).txt; echo \\(i) >> out/s\\(i).txt",
                       inputs: [Input(i == 0 ? "seed.txt" : "out/s\\(i - 1).txt")], outputs: [.file("out/s\\(i).txt")])
            }

            let pipeline = Pipeline(name: "long", stages: (0..<200).map(step))
            """)
        let start = Date()
        let st = try s.run("stages", "--json")
        let cold = Date().timeIntervalSince(start)
        #expect(st.status == 0, "\(st.stderr)")
        #expect(st.stdout.components(separatedBy: "\"name\" :").count - 1 == 200)
        #expect(cold < 20, "cold evaluation took \(cold) s")
        #expect(try s.run("dag", "--mermaid").stdout.contains("s198 --> s199"))
        #expect(try s.run("dag", "--dot").stdout.contains("\"s0\" -> \"s1\";"))
        let r = try s.run("repro", "--jobs", "2")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(try s.run("repro").stdout.contains("200 skipped"))
    }
}
