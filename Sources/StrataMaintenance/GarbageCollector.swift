import Foundation
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRepository
import StrataSQLite

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
        let db = repo.db
        var report = GCReport(grace: grace, staleLock: mlock.staleHolder, dryRun: dryRun)
        report.bytesBefore = packBytes()
        let start = Posix.nowNs() / 1_000_000_000
        let pruneMark = try repo.lastPruneID()
        try db.execute("""
            CREATE TEMP TABLE IF NOT EXISTS gc_live (id BLOB PRIMARY KEY) WITHOUT ROWID;
            CREATE TEMP TABLE IF NOT EXISTS gc_meta (id BLOB PRIMARY KEY) WITHOUT ROWID;
            CREATE TEMP TABLE IF NOT EXISTS gc_data (id BLOB PRIMARY KEY) WITHOUT ROWID;
            DELETE FROM gc_live; DELETE FROM gc_meta; DELETE FROM gc_data;
            """)
        defer { try? db.execute("DROP TABLE IF EXISTS gc_live; DROP TABLE IF EXISTS gc_meta; DROP TABLE IF EXISTS gc_data;") }
        try markAll(&report)
        let r: SweepReport = try repo.withWriteLock(timeout: 300) {
            try markAll(&report)   // commits that landed during the first mark
            let cutoff = grace.approximateSeconds == 0 ? start + 1 : start - Int64(grace.approximateSeconds)
            return try repo.objects.sweep(liveTable: "gc_live", cutoff: cutoff, dryRun: dryRun, removeUnindexed: force)
        }
        report.sweep = r
        report.liveObjects = Int(try db.scalarInt("SELECT count(*) FROM gc_live") ?? 0)
        if !dryRun && pruneMark > 0 { try repo.markPrunesSwept(upTo: pruneMark) }
        report.bytesAfter = dryRun ? report.bytesBefore - r.bytesReclaimed : packBytes()
        return report
    }

    func packBytes() -> Int64 {
        ((try? Posix.listDirectory(repo.objects.packsPath)) ?? []).reduce(Int64(0)) {
            $0 + Int64((try? Posix.lstat(repo.objects.packsPath + "/" + $1))??.size ?? 0)
        }
    }

    /// Marks every commit not yet marked: its tree closure always, its file data unless pruned.
    func markAll(_ report: inout GCReport) throws {
        let db = repo.db
        let pruned = try repo.prunedCommits()
        var commits: [ObjectID] = []
        try db.query("SELECT o.id FROM objects o WHERE o.kind = 4 AND NOT EXISTS (SELECT 1 FROM gc_live l WHERE l.id = o.id)") { r in
            commits.append(try ObjectID(validating: r.blob(0), what: "objects index"))
        }
        // One deferred transaction: fast temp-table inserts without taking the store's write lock.
        try db.transaction(deferred: true) {
            for c in commits { try mark(c, pruned: pruned, &report) }
            try markLockfileOutputs()
        }
    }

    /// The outputs recorded in the workspace's current Pipeline.lock are roots too (a file id or a folder's tree).
    func markLockfileOutputs() throws {
        guard let bytes = try? Posix.readFile(repo.root + "/Pipeline.lock"),
              let lock = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let stages = lock["stages"] as? [[String: Any]] else { return }
        for s in stages {
            for o in (s["outputs"] as? [[String: Any]]) ?? [] {
                guard let hex = o["sha256"] as? String, let id = ObjectID(hex: hex), let kind = try repo.objects.kind(of: id) else { continue }
                if kind == .tree { try walk(id, data: true) } else { try repo.objects.markLive(id, table: "gc_live") }
            }
        }
    }

    func mark(_ c: ObjectID, pruned: Set<ObjectID>, _ report: inout GCReport) throws {
        do {
            try insert("gc_live", c)
            let commit = try repo.commit(c)
            if pruned.contains(c) {
                report.prunedCommits += 1
                try walk(commit.tree, data: false)
            } else {
                report.liveCommits += 1
                try walk(commit.tree, data: true)
            }
        }
    }

    @discardableResult
    func insert(_ table: String, _ id: ObjectID) throws -> Bool {
        try repo.db.run("INSERT OR IGNORE INTO \(table) (id) VALUES (?)", [.blob(id.bytes)]) > 0
    }

    func seen(_ table: String, _ id: ObjectID) throws -> Bool {
        (try repo.db.scalarInt("SELECT count(*) FROM \(table) WHERE id = ?", [.blob(id.bytes)]) ?? 0) > 0
    }

    /// Walks a tree: trees and symlink targets always, file data (and chunks) when `data`.
    func walk(_ tree: ObjectID, data: Bool) throws {
        if data { guard try insert("gc_data", tree) else { return } }
        else {
            if try seen("gc_data", tree) { return }
            guard try insert("gc_meta", tree) else { return }
        }
        try insert("gc_live", tree)
        for e in try repo.tree(tree).entries {
            switch e.kind {
            case .directory: try walk(e.id, data: data)
            case .symlink: try insert("gc_live", e.id)
            case .file, .executable:
                if data { try repo.objects.markLive(e.id, table: "gc_live") }
            }
        }
    }
}
