import Foundation
import StrataModel
import StrataPipeline
import StrataPlatform
import StrataRepository

/// The outcome of reproducing a recorded run.
public struct ReproductionReport: Sendable {
    /// The run reproduced.
    public var run: RunRecord
    /// Where it ran.
    public var directory: String
    /// Outputs whose bytes matched the record.
    public var matched: [String]
    /// Outputs that differ: path, recorded sha256, new sha256.
    public var differing: [(path: String, recorded: String?, reproduced: String?)]
    /// Stage failures (command exit statuses).
    public var failures: [String]
    /// True when every output matched.
    public var identical: Bool { differing.isEmpty && failures.isEmpty }
}

extension LineageService {
    /// Problems with the lineage of a commit: no COMPLETE commit run with a PROV document; a dataset version in the
    /// commit that no recorded run produced (neither the file's version nor a folder version holding it); a run that
    /// produced or recorded its data without a terminal event; pipeline outputs in its Pipeline.lock that no recorded
    /// stage run produced.
    public func verify(_ revision: String) throws -> [String] {
        let id = try repo.resolve(revision)
        var problems: [String] = []
        var hasRun = false, hasProv = false
        try repo.db.query("SELECT status, prov IS NOT NULL FROM lineage_runs WHERE kind = 'commit' AND commit_id = ?", [.text(id.hex)]) { r in
            if r.text(0) == RunStatus.complete.rawValue { hasRun = true; if r.int(1) != 0 { hasProv = true } }
        }
        if !hasRun {
            problems.append("commit \(id.short): no OpenLineage run events recorded (committed with lineage off, or by another tool)")
        } else if !hasProv {
            problems.append("commit \(id.short): no PROV document stored")
        }
        // Every dataset version in the commit has a producing run.
        var generations: [String: String] = [:]
        try repo.db.query("SELECT entity, run_id FROM lineage_generations") { r in generations[r.text(0)] = r.text(1) }
        var producers = Set<String>(), missing: [String] = [], missingCount = 0
        func walk(_ tree: ObjectID, _ prefix: String) throws {
            for e in try repo.tree(tree).entries {
                let path = prefix + e.name
                if e.kind == .directory {
                    if let p = generations[path + "/@" + e.id.hex] { producers.insert(p); continue }
                    try walk(e.id, path + "/")
                } else if let p = generations[path + "@" + e.id.hex] {
                    producers.insert(p)
                } else {
                    missingCount += 1
                    if missing.count < 20 { missing.append(path) }
                }
            }
        }
        try walk(try repo.commit(id).tree, "")
        for path in missing { problems.append("\(redactor.redactPath(path)): no recorded run produced this version") }
        if missingCount > missing.count { problems.append("… and \(missingCount - missing.count) more dataset version(s) without a producing run") }
        // Runs behind this commit's data that never ended.
        var open: [RunRecord] = []
        try repo.db.query(
            "SELECT run_id FROM lineage_runs WHERE status = 'RUNNING' AND (commit_id = ? OR json_extract(record, '$.recordedIn') = ?)",
            [.text(id.hex), .text(id.hex)]
        ) { producers.insert($0.text(0)) }
        for p in producers.sorted() { if let r = try? storedRun(p), r.status == .running { open.append(r) } }
        for r in open { problems.append(redactor.redact("run \(r.runId) (\(r.job)): START without a terminal event (COMPLETE, FAIL or ABORT)")) }
        // Pipeline outputs in the committed lockfile must come from recorded stage runs.
        var lockBytes: [UInt8] = []
        if (try? repo.entry(at: "Pipeline.lock", in: id)) != nil {
            try repo.cat(id.hex, path: "Pipeline.lock") { lockBytes.append(contentsOf: $0) }
            let lock = try JSONDecoder().decode(Lockfile.self, from: Data(lockBytes))
            var produced = Set<String>()
            for r in try storedRuns() where r.kind == .stage && r.status == .complete {
                for o in r.outputs { if let h = o.sha256 { produced.insert(o.path + "@" + h) } }
            }
            for s in lock.stages {
                for o in s.outputs where o.sha256 != nil && !produced.contains(o.path + "@" + o.sha256!) {
                    problems.append(
                        redactor.redact("stage \(s.name): output \(redactor.redactPath(o.path)) (\(o.sha256!.prefix(12))) has no recorded run that produced it")
                    )
                }
            }
        }
        return problems
    }

    /// Re-runs a recorded stage run (or every stage run of a pipeline run) in a scratch folder from its recorded
    /// inputs and compares each output's sha256 with the record.
    public func reproduce(_ id: String, into directory: String?) throws -> ReproductionReport {
        let run = try storedRun(id)
        let stages = run.kind == .stage ? [run] : try children(of: run).filter { $0.status == .complete && $0.command != nil }
        if stages.isEmpty { throw LineageError.unknownRun("\(id) (it has no completed stage runs to reproduce)") }
        let dir = directory ?? NSTemporaryDirectory() + "strata-reproduce-" + String(run.runId.prefix(13))
        try Posix.makeDirectories(dir)
        let scratch = repo  // the same store and connection; files are written under `dir`
        // The report is output: its paths are pseudonymised and its messages redacted like every export.
        var report = ReproductionReport(run: redactor.redacted(run), directory: redactor.redactPath(dir), matched: [], differing: [], failures: [])
        for s in stages {
            // Inputs, from the object store by hash.
            for i in s.inputs {
                guard let hex = i.sha256, let oid = ObjectID(hex: hex) else { continue }
                let target = dir + "/" + StageGraph.normalize(i.path)
                if i.files != nil {
                    for (rel, v) in try scratch.flatten(tree: oid) {
                        try write(v.id, to: target + "/" + rel, executable: v.kind == .executable, repo: scratch)
                    }
                } else if (try? scratch.objects.contains(oid)) == true {
                    try write(oid, to: target, executable: false, repo: scratch)
                }
            }
            for o in s.outputs { try? FileManager.default.removeItem(atPath: dir + "/" + StageGraph.normalize(o.path)) }
            for o in s.outputs {
                try Posix.makeDirectories(o.files != nil ? dir + "/" + StageGraph.normalize(o.path) : Posix.dirname(dir + "/" + StageGraph.normalize(o.path)))
            }
            let env = PipelineRunner.commandEnvironment(
                stage: String(s.job.split(separator: ".").last ?? ""), params: s.params ?? [:],
                declared: s.environment ?? [:])
            let cwd = s.workingDirectory.map { dir + "/" + $0 } ?? dir
            // The same executor as repro: supervised, its process group dies with strata.
            let r = try StageExecutor.run("/bin/sh", ["-c", s.command!], environment: env, directory: cwd)
            if r.status != 0 {
                let tail = String(decoding: r.stderr.suffix(2048), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                report.failures.append(redactor.redact("\(s.job): exited with status \(r.status)" + (tail.isEmpty ? "" : "\n" + tail)))
                continue
            }
            // Compare outputs by hashing what the command wrote (no store in the scratch folder).
            let fps = try Repository.fingerprint(s.outputs.map(\.path), in: dir)
            for o in s.outputs {
                let now = fps[o.path]?.sha256
                let shown = redactor.redactPath(o.path)
                if now == o.sha256 { report.matched.append(shown) } else { report.differing.append((shown, o.sha256, now)) }
            }
        }
        return report
    }

    func write(_ id: ObjectID, to path: String, executable: Bool, repo: Repository) throws {
        try Posix.makeDirectories(Posix.dirname(path))
        try? FileManager.default.removeItem(atPath: path)
        FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: executable ? 0o755 : 0o644])
        guard let fh = FileHandle(forWritingAtPath: path) else { throw PosixError("create", path) }
        defer { try? fh.close() }
        try repo.objects.streamFile(id) { fh.write(Data($0)) }
    }
}

/// What a push publishes with a commit so that a server can hold it to `--require-lineage` and show it: the commit's
/// lineage bundle (store/FORMAT.md, "Remotes": `lineage/<commit>.json`).
public struct LineageBundle: Codable, Sendable, Equatable {
    /// Always `strata-lineage`.
    public var format = "strata-lineage"
    /// Layout version.
    public var version = 1
    /// The commit (hex).
    public var commit: String
    /// `verify`'s findings for the commit (redacted); empty when its lineage is complete.
    public var problems: [String]
    /// The run that generated each dataset version of the commit, by content id (a file's SHA-256, or a folder
    /// dataset's tree id) → run id. Ids only, no paths: a bundle carries no names.
    public var generations: [String: String]
    /// The runs named (the commit run and every generating run), redacted as `runs --json` shows them.
    public var runs: [RunRecord]
    /// Their OpenLineage events, redacted as `lineage export` writes them, oldest first.
    public var events: [String]
    /// The commit run's PROV-O document (JSON-LD), redacted.
    public var prov: String
    /// The commit run's id.
    public var commitRun: String

    /// Decodes and checks a bundle (nil when malformed or not a bundle of version 1).
    public static func decode(_ bytes: [UInt8]) -> LineageBundle? {
        guard let b = try? JSONDecoder().decode(LineageBundle.self, from: Data(bytes)), b.format == "strata-lineage", b.version == 1,
            ObjectID(hex: b.commit) != nil
        else { return nil }
        return b
    }

    /// The canonical bytes (sorted keys).
    public func encoded() throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try enc.encode(self))
    }
}

extension LineageService {
    /// The runs behind `commit`: its commit run and the run that produced each file or folder version it holds
    /// (redacted), with those generations by content id; nil when no commit run was recorded for it.
    public func runs(behind commit: ObjectID) throws -> (commitRun: String, generations: [String: String], runs: [RunRecord])? {
        guard let commitRunID = try commitRun(of: commit) else { return nil }
        var generations: [String: String] = [:]
        var runIDs: Set<String> = [commitRunID]
        func walk(_ tree: ObjectID, _ prefix: String) throws {
            for e in try repo.tree(tree).entries {
                let path = prefix + e.name
                if e.kind == .directory {
                    if let p = try producer(of: path + "/@" + e.id.hex) {
                        generations[e.id.hex] = p
                        runIDs.insert(p)
                        continue
                    }
                    try walk(e.id, path + "/")
                } else if let p = try producer(of: path + "@" + e.id.hex) {
                    generations[e.id.hex] = p
                    runIDs.insert(p)
                }
            }
        }
        try walk(try repo.commit(commit).tree, "")
        return (commitRunID, generations, try runIDs.sorted().map { try run($0) })
    }

    /// The lineage bundle of `commit`, or nil when no commit run was recorded for it (committed with lineage off).
    public func bundle(for commit: ObjectID) throws -> LineageBundle? {
        guard let (commitRunID, generations, runs) = try runs(behind: commit) else { return nil }
        var events: [String] = []
        for id in runs.map(\.runId) {
            try repo.db.query("SELECT json FROM lineage_events WHERE run_id = ? ORDER BY seq", [.text(id)]) { r in
                events.append(String(decoding: self.redactor.scrubJSON(Data(r.text(0).utf8)), as: UTF8.self))
            }
        }
        let prov = String(decoding: try prov(try storedRun(commitRunID)), as: UTF8.self)
        return LineageBundle(
            commit: commit.hex, problems: try verify(commit.hex), generations: generations, runs: runs, events: events, prov: prov,
            commitRun: commitRunID)
    }
}
