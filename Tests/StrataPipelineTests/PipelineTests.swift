import Foundation
import Testing
@testable import StrataPipeline

@Suite("Pipeline engine") struct PipelineTests {
    func stage(_ name: String, inputs: [String] = [], outputs: [String] = [], after: [String] = []) -> StageSpec {
        StageSpec(
            name: name, command: "true", inputs: inputs.map { InputSpec(path: $0, keys: nil) },
            outputs: outputs.map { OutputSpec(kind: $0.hasSuffix("/") ? "folder" : "file", path: $0, cache: true, persist: false, published: false, key: nil) },
            params: [:], environment: [], after: after, frozen: false, alwaysRun: false, workingDirectory: nil)
    }

    func spec(_ stages: [StageSpec]) -> PipelineSpec { PipelineSpec(version: 1, name: "p", stages: stages, retention: []) }

    @Test func orderFollowsTheGraphWithNameTiebreak() throws {
        let g = try StageGraph(
            spec([
                stage("report", inputs: ["curated/a.csv", "curated/b.csv"], outputs: ["reports/r.json"]),
                stage("curate-b", inputs: ["staging/"], outputs: ["curated/b.csv"]),
                stage("curate-a", inputs: ["staging/a.csv"], outputs: ["curated/a.csv"]),
                stage("extract", inputs: ["raw/"], outputs: ["staging/"]),
            ])
        ) { $0 == "raw" }
        #expect(g.order == ["extract", "curate-a", "curate-b", "report"])
        #expect(g.upstream["curate-a"] == ["extract"])
        #expect(try g.closure(["curate-a"], downstream: true) == ["curate-a", "report"])
    }

    @Test func cycleIsNamed() {
        #expect {
            try StageGraph(spec([stage("a", inputs: ["b.txt"], outputs: ["a.txt"]), stage("b", inputs: ["a.txt"], outputs: ["b.txt"])])) { _ in false }
        } throws: { e in "\(e)".contains("cycle: a -> b -> a") || "\(e)".contains("cycle: b -> a -> b") }
    }

    @Test func duplicateOutputsAndMissingInputsAreRefused() {
        #expect { try StageGraph(spec([stage("a", outputs: ["x.csv"]), stage("b", outputs: ["x.csv"])])) { _ in true } } throws: {
            "\($0)".contains("overlaps output")
        }
        #expect { try StageGraph(spec([stage("a", outputs: ["out/"]), stage("b", outputs: ["out/x.csv"])])) { _ in true } } throws: {
            "\($0)".contains("overlaps")
        }
        #expect { try StageGraph(spec([stage("a", inputs: ["nowhere.csv"], outputs: ["x"])])) { _ in false } } throws: {
            "\($0)".contains("'nowhere.csv' of stage 'a' does not exist")
        }
    }

    @Test func lockfileIsDeterministicAndRoundTrips() throws {
        let a = LockedStage(
            name: "s", command: "c", workingDirectory: nil,
            inputs: [LockedPath(path: "in.csv", sha256: "ab", size: 3, files: nil, keys: nil)],
            outputs: [LockedPath(path: "out/", sha256: "cd", size: 9, files: 2, keys: nil)],
            params: ["threshold": .double("0.8"), "country": .string("ZA")], environment: ["LOCALE": nil, "X": "1"], key: "k")
        let lock = Lockfile(pipeline: "p", stages: [a])
        let bytes = try lock.encoded()
        #expect(try lock.encoded() == bytes)
        #expect(try JSONDecoder().decode(Lockfile.self, from: Data(bytes)) == lock)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.range(of: "\"country\"")!.lowerBound < text.range(of: "\"threshold\"")!.lowerBound)
        #expect(!text.contains("time"))
    }

    @Test func embeddedDSLMatchesTheModuleSource() throws {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try Data(contentsOf: here.appendingPathComponent("Sources/PipelineDescription/PipelineDescription.swift"))
        #expect(Array(source) == EmbeddedDSL.source, "run dist/embed_dsl.py after changing the DSL")
    }

    @Test func paramsFilesSelectKeys() throws {
        let dir = NSTemporaryDirectory() + "params-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(#"{"curate": {"threshold": 0.8, "country": "ZA"}, "other": 1}"#.utf8).write(to: URL(fileURLWithPath: dir + "/p.json"))
        try Data("[curate]\nthreshold = 0.8 # comment\ncountry = \"ZA\"\n".utf8).write(to: URL(fileURLWithPath: dir + "/p.toml"))
        #expect(try ParamsFile.select(dir + "/p.json", keys: ["curate.threshold"]) == "curate.threshold=0.8")
        #expect(try ParamsFile.select(dir + "/p.toml", keys: ["curate.country", "curate.threshold"]) == "curate.country=\"ZA\"\ncurate.threshold=0.8")
        #expect(try ParamsFile.select(dir + "/p.json", keys: ["nope"]) == "nope=<missing>")
        // A `#` inside a string is not a comment; reformatting the file changes nothing (canonical values).
        try Data("[curate]\nthreshold = 0.8\nname = \"a # b\"\n".utf8).write(to: URL(fileURLWithPath: dir + "/q.toml"))
        try Data("# reformatted\ncurate = { name = 'a # b', threshold = 8.0e-1 }\n".utf8).write(to: URL(fileURLWithPath: dir + "/r.toml"))
        let q = try ParamsFile.select(dir + "/q.toml", keys: ["curate.name", "curate.threshold"])
        #expect(q == "curate.name=\"a # b\"\ncurate.threshold=0.8")
        #expect(try ParamsFile.select(dir + "/r.toml", keys: ["curate.name", "curate.threshold"]) == q)
        #expect(try ParamsFile.select(dir + "/r.toml", keys: ["curate"]) == (try ParamsFile.select(dir + "/q.toml", keys: ["curate"])))
        try Data(#"{"flag": true, "n": 3, "x": 0.25, "list": [1, "a"]}"#.utf8).write(to: URL(fileURLWithPath: dir + "/t.json"))
        #expect(try ParamsFile.select(dir + "/t.json", keys: ["flag", "list", "n", "x"]) == "flag=true\nlist=[1,\"a\"]\nn=3\nx=0.25")
        try Data("[curate\nthreshold = \n".utf8).write(to: URL(fileURLWithPath: dir + "/bad.toml"))
        #expect(throws: PipelineError.self) { try ParamsFile.select(dir + "/bad.toml", keys: ["curate.threshold"]) }
    }
}

/// The planner's rules, without files or processes.
@Suite("Stage planner") struct StagePlannerTests {
    let spec = StageSpec(
        name: "s", command: "run", inputs: [InputSpec(path: "in.csv", keys: nil)],
        outputs: [OutputSpec(kind: "file", path: "out.csv", cache: true, persist: false, published: false, key: nil)],
        params: [:], environment: [], after: [], frozen: false, alwaysRun: false, workingDirectory: nil)
    func path(_ p: String, _ h: String?) -> LockedPath { LockedPath(path: p, sha256: h, size: 1, files: nil, keys: nil) }
    func locked(input: String = "a", output: String = "o", command: String = "run") -> LockedStage {
        LockedStage(
            name: "s", command: command, workingDirectory: nil, inputs: [path("in.csv", input)], outputs: [path("out.csv", output)],
            params: [:], environment: [:], key: "k")
    }
    func facts(_ old: LockedStage?, input: String = "a", output: String? = "o", cached: Bool = false, forced: Bool = false, stage: StageSpec? = nil)
        -> StageFacts
    {
        StageFacts(
            stage: stage ?? spec, locked: old, inputs: [path("in.csv", input)], environment: [:], outputs: [path("out.csv", output)],
            cached: cached, forced: forced)
    }

    @Test func rules() {
        #expect(StagePlanner.decide(facts(locked())) == .skip("up to date"))
        #expect(StagePlanner.decide(facts(nil)) == .run("new stage: not in Pipeline.lock"))
        #expect(StagePlanner.decide(facts(locked(), input: "b")) == .run("input in.csv changed"))
        #expect(StagePlanner.decide(facts(locked(), input: "b", cached: true)) == .restore("input in.csv changed; restored from the run cache, not run"))
        #expect(StagePlanner.decide(facts(locked(), output: nil)) == .run("output out.csv is missing"))
        #expect(StagePlanner.decide(facts(locked(), output: "x")) == .run("output out.csv was modified"))
        #expect(StagePlanner.decide(facts(locked(command: "old"))) == .run("command changed"))
        #expect(StagePlanner.decide(facts(locked(), forced: true)) == .run("forced"))
        #expect(StagePlanner.decide(facts(locked(), input: "b", cached: true, forced: true)) == .run("forced"))
        var frozen = spec; frozen.frozen = true
        #expect(StagePlanner.decide(facts(nil, stage: frozen)) == .skip("frozen"))
        var always = spec; always.alwaysRun = true
        #expect(StagePlanner.decide(facts(locked(), cached: true, stage: always)) == .run("always runs (alwaysRun)"))
        #expect(StagePlanner.decideDry(facts(locked()), upstreamThatWillRun: "up") == .run("upstream stage up will run"))
        #expect(StagePlanner.decideDry(facts(locked()), upstreamThatWillRun: nil) == .skip("up to date"))
        // A rolled-back output (committed at HEAD, not what the lock says the stage produced) is protected, even when
        // the run cache could restore it or an upstream stage will run; --force rebuilds it.
        var rolled = facts(locked(), output: "good", cached: true)
        rolled.rolledBack = ["out.csv"]
        guard case .skip(let why) = StagePlanner.decide(rolled) else { Issue.record("a rolled-back output was not protected"); return }
        #expect(why.hasPrefix("protected: output out.csv was rolled back") && why.contains("strata repro --force s"))
        guard case .skip = StagePlanner.decideDry(rolled, upstreamThatWillRun: "up") else { Issue.record("dry run would overwrite it"); return }
        rolled.forced = true
        #expect(StagePlanner.decide(rolled) == .run("forced"))
    }
}
