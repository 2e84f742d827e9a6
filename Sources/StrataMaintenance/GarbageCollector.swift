import Foundation
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRepository

/// What `gc` did.
public struct GCReport: Sendable {
    /// Commits whose data stays.
    public var liveCommits = 0
    /// Commits whose data was released by prune.
    public var prunedCommits = 0
    /// Objects marked live.
    public var liveObjects = 0
    /// The sweep.
    public var sweep = SweepReport()
    /// Store size before, in bytes (packs).
    public var bytesBefore: Int64 = 0
    /// Store size after.
    public var bytesAfter: Int64 = 0
    /// The grace period used.
    public var grace: RetentionDuration
    /// A stale maintenance lock that was taken over.
    public var staleLock: String?
    /// Whether nothing was deleted.
    public var dryRun: Bool
}

/// Mark and sweep of the objects no live commit reaches. Every commit and tree is always kept (history stays);
/// file data is kept for commits that are not pruned. Memory stays bounded: the live set is a SQLite temp table.
public struct GarbageCollector {
    /// The store.
    public let repo: Repository

    /// Default grace period: objects in packs younger than this are never deleted.
    public static let defaultGrace = try! RetentionDuration(parsing: "1h")

    /// Creates a collector.
    public init(repo: Repository) { self.repo = repo }

    /// Runs gc. The mark runs while commits may still land; the sweep holds the write lock after marking
    /// whatever landed meanwhile, so no object a commit references can be lost.
    /// With `force`, finished pack files that the index does not know are removed too (past the grace period);
    /// without it they are kept and reported, since they may be all that is left of history whose index was lost.
    public func run(grace: RetentionDuration = GarbageCollector.defaultGrace, dryRun: Bool, force: Bool = false) throws -> GCReport {
        let mlock = try MaintenanceLock(storePath: repo.storePath)
        defer { mlock.release() }
        var report = GCReport(grace: grace, staleLock: mlock.staleHolder, dryRun: dryRun)
        report.bytesBefore = repo.objects.packBytes()
        let start = Posix.nowNs() / 1_000_000_000
        let pruneMark = try repo.lastPruneID()
        let live = try LiveSet(store: repo.objects)
        defer { live.close() }
        try markAll(live, &report)
        let r: SweepReport = try repo.withWriteLock(timeout: 300) {
            try markAll(live, &report)  // commits that landed during the first mark
            let cutoff = grace.approximateSeconds == 0 ? start + 1 : start - Int64(grace.approximateSeconds)
            return try live.sweep(cutoff: cutoff, dryRun: dryRun, removeUnindexed: force)
        }
        report.sweep = r
        report.liveObjects = try live.count()
        if !dryRun && pruneMark > 0 { try repo.markPrunesSwept(upTo: pruneMark) }
        report.bytesAfter = dryRun ? report.bytesBefore - r.bytesReclaimed : repo.objects.packBytes()
        return report
    }

    /// Marks every commit not yet marked: its tree closure always, its file data unless pruned.
    func markAll(_ live: LiveSet, _ report: inout GCReport) throws {
        let pruned = try repo.prunedCommits()
        let commits = try live.unmarkedCommits()
        try live.batch {
            for c in commits {
                try live.insert(c)
                let commit = try repo.commit(c)
                let data = !pruned.contains(c)
                if data { report.liveCommits += 1 } else { report.prunedCommits += 1 }
                try walk(commit.tree, data: data, live)
            }
            try markLockfileOutputs(live)
            // A merge in progress needs its result (written to the workspace, not yet committed) and both heads' data.
            if let m = try repo.mergeState() {
                try walk(m.tree, data: true, live)
                for c in [m.origHead, m.mergeHead] { try walk(try repo.commit(c).tree, data: true, live) }
            }
        }
    }

    /// The outputs recorded in the workspace's current Pipeline.lock are roots too (a file id or a folder's tree).
    func markLockfileOutputs(_ live: LiveSet) throws {
        guard let bytes = try? Posix.readFile(repo.root + "/Pipeline.lock"),
            let lock = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            let stages = lock["stages"] as? [[String: Any]]
        else { return }
        for s in stages {
            for o in (s["outputs"] as? [[String: Any]]) ?? [] {
                guard let hex = o["sha256"] as? String, let id = ObjectID(hex: hex), let kind = try repo.objects.kind(of: id) else { continue }
                if kind == .tree { try walk(id, data: true, live) } else { try live.markFile(id) }
            }
        }
    }

    /// Walks a tree: trees and symlink targets always, file data (with all its parts) when `data`.
    func walk(_ tree: ObjectID, data: Bool, _ live: LiveSet) throws {
        guard try live.beginTreeWalk(tree, data: data) else { return }
        try live.insert(tree)
        for e in try repo.tree(tree).entries {
            switch e.kind {
            case .directory: try walk(e.id, data: data, live)
            case .symlink: try live.insert(e.id)
            case .file, .executable: if data { try live.markFile(e.id) }
            }
        }
    }
}
