import Foundation
import StrataDiff
import StrataModel
import StrataPipeline
import StrataPlatform
import StrataRepository

extension LineageService {
    /// The CSV header of a table file in the workspace (nil when not a CSV).
    func columns(_ path: String) -> [String]? {
        guard path.hasSuffix(".csv"), let fh = FileHandle(forReadingAtPath: repo.root + "/" + path) else { return nil }
        defer { try? fh.close() }
        let head = fh.readData(ofLength: 64 * 1024)
        guard let line = String(decoding: head, as: UTF8.self).split(separator: "\n", maxSplits: 1).first else { return nil }
        return line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: "\""))) }
    }

    static func kind(of path: String) -> String {
        if path.hasPrefix("evidence/") || path.contains("/evidence/") || path.hasSuffix(".jsonl") { return "evidence" }
        if path.hasSuffix(".csv") { return "table" }
        return "file"
    }

    /// Records a commit as a run of job `strata.commit`: its outputs are the dataset versions it changed
    /// (folders with many changed files are reported as one folder dataset).
    public func recordCommit(_ result: CommitResult, message: String) throws -> RunRecord {
        let changed = result.changes.filter { $0.new != nil }
        var byFolder: [String: [Change]] = [:]
        for c in changed { byFolder[Posix.dirname(c.path), default: []].append(c) }
        var outputs: [DatasetRef] = []
        let commitHex = result.id.hex
        let tree = try repo.commit(result.id).tree
        for (folder, list) in byFolder.sorted(by: { $0.key < $1.key }) {
            if list.count > 50, !folder.isEmpty, let e = try repo.entry(at: folder, in: result.id) {
                let files = try repo.flatten(tree: e.id).count
                outputs.append(DatasetRef(path: folder + "/", kind: LineageService.kind(of: folder + "/x.jsonl") == "evidence" ? "evidence" : "folder",
                                          sha256: e.id.hex, size: e.size, files: files, commit: commitHex))
            } else {
                for c in list {
                    outputs.append(DatasetRef(path: c.path, kind: LineageService.kind(of: c.path), sha256: c.new!.id.hex, size: c.new!.size,
                                              columns: columns(c.path), commit: commitHex))
                }
            }
        }
        _ = tree
        let author = try repo.commit(result.id).author
        var run = try start(kind: "commit", job: "strata.commit", command: nil, agent: author.email.isEmpty ? author.name : author.email)
        run.commit = commitHex
        return try finish(run, status: "COMPLETE", outputs: outputs, commit: commitHex)
    }

    /// Marks a started run as aborted (Ctrl-C) or failed.
    public func abort(_ run: RunRecord, reason: String) {
        _ = try? finish(run, status: "ABORT", outputs: [], error: reason)
    }
}

/// Turns pipeline stage events into lineage runs under a parent pipeline run.
public final class LineageReproObserver: ReproObserver, @unchecked Sendable {
    // `lock` guards `running`.
    private let lock = NSLock()
    private var running: [String: RunRecord] = [:]
    let service: LineageService
    let parent: RunRecord
    let pipeline: String
    let next: ReproObserver?

    /// Observes stages of `pipeline` under `parent`, forwarding events to `next` (e.g. the console).
    public init(service: LineageService, parent: RunRecord, pipeline: String, next: ReproObserver?) {
        self.service = service; self.parent = parent; self.pipeline = pipeline; self.next = next
    }

    func refs(_ paths: [LockedPath], _ stage: StageSpec, outputs: Bool) -> [DatasetRef] {
        paths.map { p in
            let kind = outputs ? (stage.outputs.first { $0.path == p.path }?.kind ?? "file") : LineageService.kind(of: p.path)
            return DatasetRef(path: p.path, kind: kind, sha256: p.sha256, size: p.size, files: p.files,
                              columns: outputs ? service.columns(StageGraphPath.normalize(p.path)) : nil)
        }
    }

    public func stageStarted(_ stage: StageSpec, inputs: [LockedPath]) {
        next?.stageStarted(stage, inputs: inputs)
        // Keep the exact inputs in the store, so the run can be reproduced later.
        _ = try? service.repo.storeOutputs(stage.inputs.filter { $0.keys == nil }.map(\.path))
        let run = try? service.start(kind: "stage", job: "\(pipeline).\(stage.name)", parent: parent, inputs: refs(inputs, stage, outputs: false),
                                     command: stage.command, params: stage.params.mapValues(\.description),
                                     environment: Dictionary(uniqueKeysWithValues: stage.environment.map { ($0, ProcessInfo.processInfo.environment[$0]) }),
                                     workingDirectory: stage.workingDirectory)
        if let run { lock.lock(); running[stage.name] = run; lock.unlock() }
    }

    public func stageFinished(_ stage: StageSpec, outcome: StageOutcome, inputs: [LockedPath], outputs: [LockedPath]) {
        next?.stageFinished(stage, outcome: outcome, inputs: inputs, outputs: outputs)
        lock.lock(); let run = running.removeValue(forKey: stage.name); lock.unlock()
        guard let run else { return }
        let status: String
        switch outcome.action {
        case .ran, .restored: status = "COMPLETE"
        case .failed: status = outcome.reason == "interrupted" ? "ABORT" : "FAIL"
        default: status = "ABORT"
        }
        _ = try? service.finish(run, status: status, outputs: status == "COMPLETE" ? refs(outputs, stage, outputs: true) : [],
                                error: status == "COMPLETE" ? nil : outcome.reason + (outcome.stderrTail.map { "\n" + $0 } ?? ""), parent: parent)
    }
}

/// Path normalisation shared with the pipeline engine's conventions.
enum StageGraphPath {
    static func normalize(_ p: String) -> String { p.split(separator: "/").joined(separator: "/") }
}
