import Foundation
import StrataTestSupport
import Testing

@Suite("End to end: pipeline options", .serialized) struct PipelineOptionsTests {
    @Test func frozenAlwaysRunAfterWorkingDirectoryAndParamsFiles() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("params.json", #"{"curate": {"threshold": 0.8}, "unrelated": 1}"#)
        try s.write("sub/seed.txt", "seed\n")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "opts", stages: [
                .stage(name: "a", command: "echo a >> ../runs.log; cp seed.txt ../a.txt", inputs: ["sub/seed.txt"], outputs: [.file("a.txt")],
                       workingDirectory: "sub"),
                .stage(name: "b", command: "echo b >> runs.log; cat a.txt > b.txt", inputs: ["a.txt", .params(file: "params.json", keys: ["curate.threshold"])],
                       outputs: [.file("b.txt")]),
                .stage(name: "always", command: "echo always >> runs.log; date +%s%N > always.txt", outputs: [.file("always.txt", cache: false)], alwaysRun: true),
                .stage(name: "late", command: "echo late >> runs.log; echo done > late.txt", outputs: [.file("late.txt")], after: ["b"]),
                .stage(name: "ice", command: "echo ice >> runs.log; echo x > ice.txt", outputs: [.file("ice.txt")], frozen: true),
            ])
            """)
        try s.write(".strataignore", "runs.log\n")
        let r = try s.run("repro")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(try ranSince(s) == ["a", "always", "b", "late"])
        #expect(try s.run("stages").stdout.contains("frozen       ice"))
        #expect(try s.run("dag").stdout.contains("late <- b"))
        // A change to an unrelated key of the params file changes nothing; the selected key does.
        try s.write("params.json", #"{"curate": {"threshold": 0.8}, "unrelated": 2}"#)
        #expect(try s.run("repro").status == 0)
        #expect(try ranSince(s) == ["always"])
        try s.write("params.json", #"{"curate": {"threshold": 0.9}, "unrelated": 2}"#)
        #expect(try s.run("repro").status == 0)
        #expect(try ranSince(s) == ["always", "b"])
        // Targets: only what a target needs; --downstream adds what follows; --force runs it anyway.
        #expect(try s.run("repro", "a", "--force").status == 0)
        #expect(try ranSince(s) == ["a"])
        #expect(try s.run("repro", "b", "--downstream", "--force").status == 0)
        #expect(try ranSince(s) == ["b", "late"])
        #expect(try s.run("repro", "nope").status == 3)
    }

    @Test func ctrlCStopsStagesAndKeepsTheLockConsistent() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("in.txt", "x\n")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "slow", stages: [
                .stage(name: "quick", command: "cp in.txt quick.txt", inputs: ["in.txt"], outputs: [.file("quick.txt")]),
                .stage(name: "slow", command: "sleep 30; cp quick.txt slow.txt", inputs: ["quick.txt"], outputs: [.file("slow.txt")]),
            ])
            """)
        try s.run("stages")  // compile the manifest first
        let p = try s.start(["repro"])
        var waited = 0
        while !FileManager.default.fileExists(atPath: s.path("quick.txt")) && waited < 200 { usleep(50_000); waited += 1 }
        usleep(700_000)
        let started = Date()
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit(within: Watchdog.defaultLimit)
        #expect(Date().timeIntervalSince(started) < 10, "Ctrl-C did not stop the stage")
        #expect(p.terminationStatus == 130)
        let lock = String(decoding: try s.read("Pipeline.lock"), as: UTF8.self)
        #expect(lock.contains("\"name\" : \"quick\""))
        #expect(!lock.contains("\"name\" : \"slow\""))
        #expect(!FileManager.default.fileExists(atPath: s.path("slow.txt")))
        #expect(try s.run("fsck").status == 0)
        let events = try s.run("lineage", "export").stdout
        #expect(events.contains("\"eventType\":\"ABORT\""))
        #expect(try s.run("repro", "--dry-run").stdout.contains("slow"))
    }
}
