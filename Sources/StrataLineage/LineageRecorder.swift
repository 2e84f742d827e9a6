import Foundation
import StrataDiff
import StrataModel
import StrataPipeline
import StrataPlatform
import StrataRepository
import StrataTables

extension LineageService {
    /// The CSV header of a table file in the workspace (nil when not a CSV).
    func columns(_ path: String) -> [String]? { schema(path)?.0 }

    /// The CSV header and the column types seen in the first rows (integer, number, boolean, else string).
    func schema(_ path: String) -> ([String], [String])? {
        guard path.hasSuffix(".csv"), let fh = FileHandle(forReadingAtPath: repo.root + "/" + path) else { return nil }
        defer { try? fh.close() }
        // The header and up to 20 rows, read quote-aware (RFC 4180) from the first 64 KiB only.
        let head = fh.readData(ofLength: 64 * 1024)
        let records = CSV.records(in: head, limit: 21, atEnd: head.count < 64 * 1024)
        guard let header = records.first else { return nil }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        var types = [String](repeating: "", count: names.count)
        for row in records.dropFirst() {
            for (i, raw) in row.enumerated() where i < types.count {
                let v = raw.trimmingCharacters(in: .whitespaces)
                if v.isEmpty { continue }
                let t = Int(v) != nil ? "integer" : (Double(v) != nil ? "number" : (["true", "false"].contains(v.lowercased()) ? "boolean" : "string"))
                if types[i].isEmpty || types[i] == t {
                    types[i] = t
                } else if (types[i] == "integer" && t == "number") || (types[i] == "number" && t == "integer") {
                    types[i] = "number"
                } else {
                    types[i] = "string"
                }
            }
        }
        return (names, types.map { $0.isEmpty ? "string" : $0 })
    }

    static func kind(of path: String) -> String {
        if path.hasPrefix("evidence/") || path.contains("/evidence/") || path.hasSuffix(".jsonl") { return "evidence" }
        if path.hasSuffix(".csv") { return "table" }
        return "file"
    }

    /// Records a commit as a run of job `strata.commit`. Dataset versions a stage run produced (directly, or inside
    /// a folder output) are its inputs: the workspace datasets it records. The other changed versions are its outputs
    /// (folders with many changed files as one folder dataset). Its parent is `pipelineRun` (`repro --commit`), else
    /// the pipeline run of the newest stage run it records. Those stage runs, and their pipeline runs, are marked as
    /// recorded in this commit.
    public func recordCommit(_ result: CommitResult, message: String, pipelineRun: RunRecord? = nil) throws -> RunRecord {
        let changed = config.disabled ? [] : try datasets(of: result)  // OPENLINEAGE_DISABLED: nothing is recorded
        var inputs: [DatasetRef] = [], outputs: [DatasetRef] = []
        var stageRuns: [RunRecord] = []
        for d in changed {
            if let producer = try coveringRun(d, in: result.id), let run = try? storedRun(producer), run.kind == .stage {
                inputs.append(d)
                if !stageRuns.contains(where: { $0.runId == run.runId }) { stageRuns.append(run) }
            } else {
                outputs.append(d)
            }
        }
        let commitHex = result.id.hex
        let author = try repo.commit(result.id).author
        let parent = try pipelineRun ?? stageRuns.max { $0.started < $1.started }?.parent.flatMap { try? storedRun($0) }
        var run = try start(
            kind: .commit, job: "strata.commit", parent: parent, inputs: inputs, command: nil, agent: author.email.isEmpty ? author.name : author.email)
        run.commit = commitHex
        let done = try finish(run, status: .complete, outputs: outputs, commit: commitHex, parent: parent)
        if config.disabled { return done }
        // The stage runs behind it (restored ones included), and their pipeline runs.
        let pipelines = [parent].compactMap { $0 } + stageRuns.compactMap { $0.parent.flatMap { try? storedRun($0) } }
        var marked = Set<String>()
        for r in stageRuns + pipelines + (try pipelines.flatMap { try children(of: $0) }.filter { $0.status == .complete })
        where marked.insert(r.runId).inserted {
            try markRecorded(r, in: commitHex)
        }
        return done
    }

    /// Records a merge commit as a run of job `strata.merge`: its outputs are the versions the merge changed (against
    /// the first parent), its inputs the versions of those paths in both parents, so PROV derives each merged version
    /// from both (`prov:wasDerivedFrom`). A commit with one parent is recorded as `recordCommit` does.
    public func recordMerge(_ result: CommitResult, message: String) throws -> RunRecord {
        let c = try repo.commit(result.id)
        guard c.parents.count > 1 else { return try recordCommit(result, message: message) }
        let outputs = try datasets(of: result)
        var inputs: [DatasetRef] = []
        for parent in c.parents {
            for o in outputs {
                let path = o.path.hasSuffix("/") ? String(o.path.dropLast()) : o.path
                guard let e = try repo.entry(at: path, in: parent) else { continue }
                var d = DatasetRef(path: o.path, kind: o.kind, sha256: e.id.hex, size: e.size, commit: parent.hex)
                if e.kind == .directory { d.files = try repo.flatten(tree: e.id).count }
                inputs.append(d)
            }
        }
        let author = c.author
        var run = try start(kind: .commit, job: "strata.merge", parent: nil, inputs: inputs, agent: author.email.isEmpty ? author.name : author.email)
        run.commit = result.id.hex
        return try finish(run, status: .complete, outputs: outputs, commit: result.id.hex)
    }

    /// The run that generated this dataset version, or a folder version that holds it in `commit`.
    func coveringRun(_ d: DatasetRef, in commit: ObjectID) throws -> String? {
        if let key = LineageService.entityKey(d), let p = try producer(of: key) { return p }
        var folder = Posix.dirname(d.path.hasSuffix("/") ? String(d.path.dropLast()) : d.path)
        while !folder.isEmpty {
            if let e = try repo.entry(at: folder, in: commit), let p = try producer(of: folder + "/@" + e.id.hex) { return p }
            folder = Posix.dirname(folder)
        }
        return nil
    }

    /// Records that a run's outputs were recorded in `commit` (first commit wins), and rebuilds its PROV document.
    func markRecorded(_ given: RunRecord, in commit: String) throws {
        let r = try storedRun(given.runId)  // the stored state (the caller's copy may predate its terminal event)
        guard r.recordedIn == nil else { return }
        var updated = r
        updated.recordedIn = commit
        var generated = Set<String>()
        for o in r.outputs { if let k = LineageService.entityKey(o), try producer(of: k) == r.runId { generated.insert(k) } }
        try save(updated, prov: try ProvBuilder(service: self).document(for: updated, generated: generated))
    }

    /// A Delta or Iceberg table folder's dataset at a commit (nil: the workspace): the folder's tree id as content
    /// hash, with the table's own version (Delta: the log version; Iceberg: the current snapshot id) and its schema.
    func tableDataset(_ root: String, commit: ObjectID?) throws -> DatasetRef? {
        let tables = TableService(repo: repo)
        var format = "", version: Int64?, schema: [(name: String, type: String)] = []
        if try tables.isDeltaTable(commit?.hex, root), let snap = try? tables.deltaSnapshot(commit?.hex, root) {
            format = "delta"; version = snap.version; schema = snap.schema
        } else if try tables.isIcebergTable(commit?.hex, root), let snap = try? tables.icebergSnapshot(commit?.hex, root) {
            format = "iceberg"; version = snap.current; schema = snap.schema.map { ($0.name, $0.type) }
        } else {
            return nil
        }
        var id: ObjectID?, size: UInt64 = 0, files = 0
        if let commit, let e = try repo.entry(at: root, in: commit) {
            id = e.id; size = e.size; files = try repo.flatten(tree: e.id).count
        }
        var d = DatasetRef(path: root + "/", kind: "table", sha256: id?.hex, size: size, files: files, commit: commit?.hex)
        d.tableFormat = format; d.tableVersion = version
        d.columns = schema.map(\.name); d.types = schema.map(\.type)
        return d
    }

    /// The dataset versions a commit recorded (`datasets(commit:_:)`), read from it without holding its changes.
    func datasets(of result: CommitResult) throws -> [DatasetRef] {
        try datasets(commit: result.id) { body in try repo.forEachChange(of: result) { c in if c.new != nil { try body(c) } } }
    }

    /// The most changed files a run records as datasets of their own; beyond, each folder is one dataset.
    public static let maxFileDatasets = 1000

    /// The dataset versions among changes that `each` passes (twice; it may stream them): Delta and Iceberg tables
    /// as one dataset each, a folder with more than 50 changed files as one folder dataset, every other file as its
    /// own (every folder as one when that leaves more than `maxFileDatasets` files). Memory grows with the folders and
    /// the files of small folders, not with the change.
    func datasets(commit: ObjectID, _ each: (_ body: (Change) throws -> Void) throws -> Void) throws -> [DatasetRef] {
        var outputs: [DatasetRef] = []
        var roots = Set<String>()
        var perFolder: [String: Int] = [:]
        // One pass finds the table roots and counts changes per folder; a folder inside a table is then dropped (its
        // files belong to the table's dataset).
        try each { c in
            if let root = c.path.range(of: "/_delta_log/").map({ String(c.path[..<$0.lowerBound]) })
                ?? (c.path.hasSuffix(".metadata.json") ? c.path.range(of: "/metadata/", options: .backwards).map { String(c.path[..<$0.lowerBound]) } : nil)
            {
                roots.insert(root)
            }
            perFolder[Posix.dirname(c.path), default: 0] += 1
        }
        func underRoot(_ path: String) -> Bool { !roots.isEmpty && roots.contains { path.hasPrefix($0 + "/") } }
        if !roots.isEmpty { perFolder = perFolder.filter { folder, _ in !roots.contains { folder == $0 || folder.hasPrefix($0 + "/") } } }
        for root in roots.sorted() { if let d = try tableDataset(root, commit: commit) { outputs.append(d) } }
        // Folders with more than 50 changed files are one dataset each; when the files left would still be more than
        // `LineageService.maxFileDatasets`, every folder is (a run's record stays bounded by the folders, not the files).
        var whole = Set(perFolder.filter { $0.value > 50 && !$0.key.isEmpty }.keys)
        if perFolder.filter({ !whole.contains($0.key) }).values.reduce(0, +) > LineageService.maxFileDatasets {
            whole = Set(perFolder.keys.filter { !$0.isEmpty })
        }
        var byFolder: [String: [Change]] = [:]
        try each { c in
            let folder = Posix.dirname(c.path)
            if !whole.contains(folder) && !underRoot(c.path) { byFolder[folder, default: []].append(c) }
        }
        let commitHex = commit.hex
        for folder in perFolder.keys.sorted() {
            if whole.contains(folder), let e = try repo.entry(at: folder, in: commit) {
                var files = 0
                try repo.forEachFile(inTree: e.id) { _, _ in files += 1 }
                outputs.append(
                    DatasetRef(
                        path: folder + "/", kind: LineageService.kind(of: folder + "/x.jsonl") == "evidence" ? "evidence" : "folder",
                        sha256: e.id.hex, size: e.size, files: files, commit: commitHex))
            } else {
                for c in byFolder[folder] ?? [] {
                    var d = DatasetRef(path: c.path, kind: LineageService.kind(of: c.path), sha256: c.new!.id.hex, size: c.new!.size, commit: commitHex)
                    if let (cols, types) = schema(c.path) { d.columns = cols; d.types = types }
                    outputs.append(d)
                }
            }
        }
        return outputs
    }

    /// Records a push as a `publish` run: for every ref moved on the remote at `location`, the files the new commit
    /// adds or changes since the remote's old value (folders of more than 50 changed files as one dataset) are its
    /// inputs in this store and its outputs at the remote address (OpenLineage object-storage naming, PROV
    /// `atLocation`). Returns nil when nothing was published.
    /// A promotion (`job` `strata.promote`) names where the data came from as `source`: its inputs are located there.
    public func recordPublish(
        location: String, updates: [(old: ObjectID?, new: ObjectID)], job: String = "strata.push", source: String? = nil
    ) throws -> RunRecord? {
        var inputs: [DatasetRef] = []
        var seen = Set<String>()
        for u in updates {
            let oldTree = try u.old.flatMap { (try? repo.hasObject($0)) == true ? try repo.commit($0).tree : nil }
            let newTree = try repo.commit(u.new).tree
            // The diff is streamed (twice), never held: a first push of a million files lists a million changes.
            let published = try datasets(commit: u.new) { body in
                try TreeDiff.forEachChange(oldTree, newTree, load: { try self.repo.tree($0) }) { c in if c.new != nil { try body(c) } }
            }
            for var d in published where seen.insert(d.path + "@" + (d.sha256 ?? "")).inserted {
                if let source { d.location = source }
                inputs.append(d)
            }
        }
        if inputs.isEmpty { return nil }
        let outputs = inputs.map { d -> DatasetRef in
            var o = d
            o.location = location
            return o
        }
        var run = try start(kind: .publish, job: job, inputs: inputs)
        run.commit = updates.last?.new.hex
        return try finish(run, status: .complete, outputs: outputs, commit: updates.last?.new.hex)
    }

    /// Marks a started run as aborted (Ctrl-C) or failed.
    public func abort(_ run: RunRecord, reason: String) {
        _ = try? finish(run, status: .abort, outputs: [], error: reason)
    }
}

/// Turns pipeline stage events into lineage runs under a parent pipeline run.
public final class LineageReproObserver: ReproObserver, @unchecked Sendable {
    // `lock` guards `running`.
    private let lock = NSLock()
    private var running: [String: RunRecord] = [:]
    private var sourcesStored = false
    let service: LineageService
    let pipeline: String
    private var parentRun: RunRecord?
    let next: ReproObserver?

    /// Observes stages of `pipeline` under `parent`, forwarding events to `next` (e.g. the console).
    let sources: Set<String>

    /// Observes stages of `pipeline` under `parent`, forwarding events to `next` (e.g. the console). `sources` are the
    /// inputs no stage produces: they are stored once, when the first stage runs, so every run can be reproduced.
    public init(service: LineageService, pipeline: String, sources: Set<String> = [], next: ReproObserver?) {
        self.service = service; self.pipeline = pipeline; self.sources = sources; self.next = next
    }

    /// The pipeline run, started with the first stage that runs (a repro that runs nothing records no run).
    public var parent: RunRecord? { lock.lock(); defer { lock.unlock() }; return parentRun }

    func ensureParent() -> RunRecord? {
        lock.lock(); defer { lock.unlock() }
        if parentRun == nil { parentRun = try? service.start(kind: .pipeline, job: pipeline, command: nil) }
        return parentRun
    }

    func refs(_ paths: [LockedPath], _ stage: StageSpec, outputs: Bool) -> [DatasetRef] {
        paths.map { p in
            let kind = outputs ? (stage.outputs.first { $0.path == p.path }?.kind ?? "file") : LineageService.kind(of: p.path)
            var d = DatasetRef(path: p.path, kind: kind, sha256: p.sha256, size: p.size, files: p.files)
            if outputs, let (cols, types) = service.schema(StageGraph.normalize(p.path)) { d.columns = cols; d.types = types }
            // A folder output holding a Delta table: its own version and schema beside the content hash.
            if outputs, p.files != nil, let t = try? service.tableDataset(StageGraph.normalize(p.path), commit: nil) {
                d.kind = "table"; d.tableFormat = t.tableFormat; d.tableVersion = t.tableVersion; d.columns = t.columns; d.types = t.types
            }
            return d
        }
    }

    /// A stage restored from the run cache is a run too (START and COMPLETE, a `strata_restored` facet naming the
    /// run that originally produced the outputs), whose outputs are the restored dataset versions.
    func restored(_ stage: StageSpec, inputs: [LockedPath], outputs: [LockedPath]) {
        guard let parent = ensureParent() else { return }
        let outs = refs(outputs, stage, outputs: true)
        let original = outs.compactMap(LineageService.entityKey).lazy.compactMap { try? self.service.producer(of: $0) }.first
        guard
            let run = try? service.start(
                kind: .stage, job: "\(pipeline).\(stage.name)", parent: parent, inputs: refs(inputs, stage, outputs: false),
                command: stage.command, params: stage.params.mapValues(\.description), workingDirectory: stage.workingDirectory,
                restoredFrom: original ?? "unknown")
        else { return }
        _ = try? service.finish(run, status: .complete, outputs: outs, parent: parent)
    }

    public func stageStarted(_ stage: StageSpec, inputs: [LockedPath]) {
        next?.stageStarted(stage, inputs: inputs)
        // Keep the exact source inputs in the store, so the run can be reproduced later (stage outputs already are).
        guard let parent = ensureParent() else { return }
        lock.lock(); let first = !sourcesStored; sourcesStored = true; lock.unlock()
        if first, !sources.isEmpty { _ = try? service.repo.storeOutputs(sources.sorted()) }
        let run = try? service.start(
            kind: .stage, job: "\(pipeline).\(stage.name)", parent: parent, inputs: refs(inputs, stage, outputs: false),
            command: stage.command, params: stage.params.mapValues(\.description),
            environment: Dictionary(uniqueKeysWithValues: stage.environment.map { ($0, ProcessInfo.processInfo.environment[$0]) }),
            workingDirectory: stage.workingDirectory)
        if let run { lock.lock(); running[stage.name] = run; lock.unlock() }
    }

    public func stageFinished(_ stage: StageSpec, outcome: StageOutcome, inputs: [LockedPath], outputs: [LockedPath]) {
        next?.stageFinished(stage, outcome: outcome, inputs: inputs, outputs: outputs)
        if outcome.action == .restored {
            restored(stage, inputs: inputs, outputs: outputs)
            return
        }
        lock.lock(); let run = running.removeValue(forKey: stage.name); let parent = parentRun; lock.unlock()
        guard let run else { return }
        let status: RunStatus
        switch outcome.action {
        case .ran, .restored: status = .complete
        case .failed: status = outcome.reason == "interrupted" ? .abort : .fail
        default: status = .abort
        }
        _ = try? service.finish(
            run, status: status, outputs: status == .complete ? refs(outputs, stage, outputs: true) : [],
            error: status == .complete ? nil : outcome.reason + (outcome.stderrTail.map { "\n" + $0 } ?? ""), parent: parent)
    }
}
