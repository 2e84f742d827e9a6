import Foundation
import StrataModel
import Testing

/// Golden snapshots of every contract a script or agent relies on: the `--json` output of the read commands,
/// `Pipeline.lock`, the OpenLineage events of a sample run (ids and times normalised), and every command's
/// `--help`. The snapshots live in Tests/Snapshots/; a difference fails with both texts. After an intended change,
/// regenerate them with `STRATA_UPDATE_SNAPSHOTS=1 swift test --filter Contract` and review the diff.
@Suite("Contracts: golden snapshots", .serialized) struct ContractTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Snapshots")
    static let updating = ProcessInfo.processInfo.environment["STRATA_UPDATE_SNAPSHOTS"] == "1"

    /// Compares `text` with the snapshot `name` (or writes it when updating).
    static func assertSnapshot(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = folder.appendingPathComponent(name)
        if updating {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("snapshot \(name) is missing; run STRATA_UPDATE_SNAPSHOTS=1 swift test --filter Contract", sourceLocation: sourceLocation)
            return
        }
        #expect(text == expected, "snapshot \(name) differs:\n--- expected\n\(expected)\n--- got\n\(text)", sourceLocation: sourceLocation)
    }

    /// Replaces what differs from run to run: the workspace path, UUIDs (numbered by first appearance), times,
    /// durations, and the store's salted pseudonyms.
    static func normalise(_ text: String, workspace: String) -> String {
        var t = text.replacingOccurrences(of: workspace, with: "<workspace>")
        t = t.replacingOccurrences(of: URL(fileURLWithPath: workspace).lastPathComponent, with: "<workspace-name>")
        var uuids: [String: String] = [:]
        t = replace(t, #"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#) { m in
            if let n = uuids[m] { return n }
            let n = "<uuid-\(uuids.count + 1)>"; uuids[m] = n; return n
        }
        let volatile = [
            "time", "started", "ended", "seconds", "eventTime", "startedAtTime", "endedAtTime", "created", "generatedAtTime",
            "prov:startedAtTime", "prov:endedAtTime", "dct:issued", "dct:modified", "lockfileHash", "strata:lockfileHash",
            "bytes_before", "bytes_after", "packs_in_grace",
        ]  // pack sizes depend on how parallel writers grouped small objects
        for key in volatile {
            t = replace(t, "\"\(NSRegularExpression.escapedPattern(for: key))\" ?: ?(\"[^\"]*\"|-?[0-9.eE+-]+)") { _ in "\"\(key)\" : \"<\(key)>\"" }
        }
        t = replace(t, #"urn:strata:person:[0-9a-f]+"#) { _ in "urn:strata:person:<salted>" }
        t = replace(t, #"\b(20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+))"#) { m in m.hasPrefix("2026-01-0") ? m : "<now>" }
        return t
    }

    static func replace(_ s: String, _ pattern: String, _ with: (String) -> String) -> String {
        let re = try! NSRegularExpression(pattern: pattern)
        var out = "", last = s.startIndex
        for m in re.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
            let r = Range(m.range, in: s)!
            out += s[last..<r.lowerBound] + with(String(s[r]))
            last = r.upperBound
        }
        return out + s[last...]
    }

    /// A small store with fixed contents, authors and dates, a tag, a branch, a pipeline run and a dry-run prune.
    func scenario() throws -> StrataCLI {
        let s = try StrataCLI()
        let env = ["STRATA_AUTHOR": "Contract Tester <contract@example.org>", "OPENLINEAGE_DISABLED": ""]
        try s.run(["init", "-q"], env: env)
        try s.write("tables/organisations.csv", "id,name,score\n1,Acme (Pty) Ltd,0.5\n2,Baobab Holdings,0.9\n")
        try s.write("evidence/ev-000001.jsonl", "{\"record_id\":1,\"decision\":\"keep\"}\n")
        try s.run(["commit", "-q", "-m", "v1: first tables", "--date", "2026-01-05T12:00:00Z"], env: env)
        try s.run(["tag", "v1", "-m", "first release"], env: env)
        try s.write("tables/organisations.csv", "id,name,score\n1,Acme (Pty) Ltd,0.5\n2,Baobab Holdings,0.9\n3,Cedar Trust,0.7\n")
        try s.write("steps/count.sh", "#!/bin/sh\nwc -l < tables/organisations.csv > out/count.txt\n")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "contract", stages: [
                .stage(name: "count", command: "sh steps/count.sh", inputs: ["steps/count.sh", "tables/organisations.csv"], outputs: [.folder("out")]),
            ], retention: [.policy("weekly", ["--keep-last", "2"])])
            """)
        try s.run(["commit", "-q", "-m", "v2: one more row and a pipeline", "--date", "2026-01-06T12:00:00Z"], env: env)
        try s.run(["branch", "review"], env: env)
        let repro = try s.run(["repro", "--json"], env: env)
        #expect(repro.status == 0, "\(repro.stderr)")
        return s
    }

    @Test func jsonOutputsOfReadCommandsAndPipelineLock() throws {
        let s = try scenario()
        let env = ["STRATA_AUTHOR": "Contract Tester <contract@example.org>", "OPENLINEAGE_DISABLED": ""]
        let commands: [(String, [String])] = [
            ("status", ["status", "--json"]),
            ("log", ["log", "--json"]),
            ("show", ["show", "v1", "--json"]),
            ("ls", ["ls", "HEAD", "-r", "--json"]),
            ("diff", ["diff", "v1", "HEAD", "--json"]),
            ("branch", ["branch", "--json"]),
            ("tag", ["tag", "--json"]),
            ("reflog", ["reflog", "all", "--json"]),
            ("fsck", ["fsck", "--json"]),
            ("stages", ["stages", "--json"]),
            ("runs", ["runs", "--json"]),
            ("prune-dry-run", ["prune", "--dry-run", "--json", "--now", "2026-01-10T00:00:00Z"]),
            ("gc-dry-run", ["gc", "--dry-run", "--json", "--grace", "1h"]),
        ]
        for (name, args) in commands {
            let r = try s.run(args, env: env)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            try ContractTests.assertSnapshot(ContractTests.normalise(r.stdout, workspace: s.directory), "json-\(name).json")
        }
        try ContractTests.assertSnapshot(String(decoding: try s.read("Pipeline.lock"), as: UTF8.self), "Pipeline.lock")
        let commit = try s.run(["commit", "--json", "-m", "v3: pipeline outputs", "--date", "2026-01-07T12:00:00Z"], env: env)
        try ContractTests.assertSnapshot(ContractTests.normalise(commit.stdout, workspace: s.directory), "json-commit.json")
    }

    /// `strata status` with only `--json`, `-q` or `--quiet` is matched before ArgumentParser; with `-C DIR` the same
    /// command goes through ArgumentParser. Both ways print the same bytes and exit the same, in a clean workspace,
    /// a changed one and outside a store, and every other form still reaches ArgumentParser.
    @Test func statusFastPathMatchesArgumentParser() throws {
        let s = try scenario()
        let env = ["STRATA_AUTHOR": "Contract Tester <contract@example.org>", "OPENLINEAGE_DISABLED": ""]
        func same(_ flags: [String], cwd: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let fast = try s.run(["status"] + flags, cwd: cwd, env: env)
            let parsed = try s.run(["status", "-C", cwd ?? s.directory] + flags, cwd: cwd, env: env)
            #expect(fast.status == parsed.status, "\(flags): \(fast.stderr) / \(parsed.stderr)", sourceLocation: sourceLocation)
            #expect(fast.stdout == parsed.stdout, "\(flags)", sourceLocation: sourceLocation)
            #expect(fast.stderr == parsed.stderr, "\(flags)", sourceLocation: sourceLocation)
        }
        let forms: [[String]] = [[], ["--json"], ["-q"], ["--quiet"], ["--json", "-q"], ["--quiet", "--json"]]
        for f in forms { try same(f) }
        try s.write("tables/organisations.csv", "id,name,score\n1,Acme (Pty) Ltd,0.5\n")
        try s.write("new.txt", "n")
        try FileManager.default.removeItem(atPath: s.directory + "/evidence/ev-000001.jsonl")
        for f in forms { try same(f) }
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("strata-nostore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try same([], cwd: outside)
        let notAStore = try s.run(["status", "--json"], cwd: outside, env: env)
        #expect(notAStore.status != 0 && notAStore.stderr.contains("strata: error:"), "\(notAStore.stderr)")
        // Forms the fast path leaves to ArgumentParser.
        let help = try s.run(["status", "--help"], env: env)
        #expect(help.status == 0 && help.stdout.contains("USAGE: strata status"), "\(help.stdout)")
        let extra = try s.run(["status", "tables"], env: env)
        #expect(extra.status == 64 && extra.stderr.contains("strata: error:"), "\(extra.stderr)")
        let twice = try s.run(["status", "--json", "--json"], env: env)
        let once = try s.run(["status", "-C", s.directory, "--json", "--json"], env: env)
        #expect(twice.status == once.status && twice.stdout == once.stdout && twice.stderr == once.stderr)
    }

    /// A short `--json` document leaves in one write, so a reader that stops early (`| head`) does not kill strata with
    /// SIGPIPE. Streamed, `ls --json` wrote its entries and then its closing lines, and `strata ls HEAD tables --json
    /// | head -12` (in dist/demo.sh) failed with status 141 under `set -o pipefail`.
    @Test func shortJSONSurvivesAReaderThatStopsEarly() throws {
        let s = try scenario()
        for args in ["ls HEAD tables --json", "ls -r HEAD --json", "show v1 --json", "status --json"] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-c", "set -o pipefail; '\(StrataCLI.binary)' \(args) | head -2 > /dev/null"]
            p.currentDirectoryURL = URL(fileURLWithPath: s.directory)
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(args): status \(p.terminationStatus)")
        }
    }

    /// A first commit's changes are streamed from its tree into `commit --json`: the document is the one JSON's
    /// encoder writes for the whole list (parsed, every file added once in byte order of paths, with its SHA-256).
    @Test func firstCommitJSONListsEveryFileOnce() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        let files = ["b/x.json": "{}", "a.b": "1", "a/z.csv": "id\n1\n", "a/y/w.txt": "w", "top.txt": "t"]
        for (p, text) in files { try s.write(p, text) }
        let r = try s.run("commit", "--json", "-m", "v1")
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        let changes = doc["changes"] as? [[String: Any]] ?? []
        #expect(changes.compactMap { $0["path"] as? String } == ["a.b", "a/y/w.txt", "a/z.csv", "b/x.json", "top.txt"])
        #expect(changes.allSatisfy { $0["status"] as? String == "added" })
        for c in changes {
            let path = c["path"] as? String ?? ""
            let sha = (c["new"] as? [String: Any])?["sha256"] as? String
            #expect(sha == ObjectID.hash(Array(files[path]!.utf8)).hex, "\(path)")
        }
        #expect(r.stdout.hasPrefix("{\n  \"branch\" : \"main\",\n  \"bytes_written\" : "), "\(r.stdout)")
        #expect(r.stdout.contains("\n  \"changes\" : [\n    {\n      \"new\" : {\n"), "\(r.stdout)")
        #expect(r.stdout.hasSuffix("\n  \"version\" : 1\n}\n"), "\(r.stdout)")
    }

    @Test func openLineageEventsOfASampleRun() throws {
        let s = try scenario()
        let out = s.path("events.jsonl")
        let r = try s.run(["lineage", "export", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self).split(separator: "\n").map(String.init)
        // One event per line, each pretty-printed with sorted keys for a readable snapshot.
        var pretty: [String] = []
        for l in lines {
            let obj = try JSONSerialization.jsonObject(with: Data(l.utf8))
            pretty.append(
                String(
                    decoding: try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
        }
        try ContractTests.assertSnapshot(ContractTests.normalise(pretty.joined(separator: "\n") + "\n", workspace: s.directory), "openlineage-events.json")
    }

    @Test func helpOfEveryCommand() throws {
        let s = try StrataCLI()
        var names = [String]()
        let top = try s.run("--help")
        var inSub = false
        for line in top.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") { inSub = true; continue }
            if inSub, line.hasPrefix("  "), !line.hasPrefix("   "), let w = line.split(separator: " ").first { names.append(String(w)) }
        }
        #expect(names.count >= 27)
        var text = "$ strata --help\n" + top.stdout
        for n in names {
            text += "\n$ strata \(n) --help\n" + (try s.run([n, "--help"])).stdout
        }
        for (parent, subs) in [
            ("lineage", ["export", "flush", "prov", "verify"]), ("retention", ["set", "show", "rm"]), ("hooks", ["install"]),
            ("remote", ["add", "list", "remove"]),
        ] {
            for sub in subs { text += "\n$ strata \(parent) \(sub) --help\n" + (try s.run([parent, sub, "--help"])).stdout }
        }
        try ContractTests.assertSnapshot(text, "help.txt")
    }
}
