import StrataModel
import StrataPlatform

/// One `strata prune` run that forgot commits.
public struct PruneRecord: Sendable, Equatable {
    /// Sequence number.
    public var id: Int64
    /// When it ran (seconds since the epoch).
    public var time: Int64
    /// The policy, as flags.
    public var policy: String
    /// Whether gc has since collected the released data (then it cannot be undone).
    public var swept: Bool
}

extension Repository {

    /// Commits whose file data was released by `prune` (their metadata stays).
    public func prunedCommits() throws -> Set<ObjectID> {
        var out = Set<ObjectID>()
        try db.query("SELECT commit_id FROM pruned") { r in out.insert(try ObjectID(validating: r.blob(0), what: "prune record")) }
        return out
    }

    /// Marks commits as forgotten in one transaction; returns the prune record (nil when nothing new was forgotten).
    public func markPruned(_ ids: [ObjectID], policy: String, time: Int64) throws -> PruneRecord? {
        try db.transaction {
            let already = try prunedCommits()
            let fresh = ids.filter { !already.contains($0) }
            if fresh.isEmpty { return nil }
            try db.run("INSERT INTO prunes (time, policy) VALUES (?, ?)", [.int(time), .text(policy)])
            let id = try db.scalarInt("SELECT max(id) FROM prunes") ?? 0
            for c in fresh { try db.run("INSERT OR IGNORE INTO pruned (commit_id, prune_id) VALUES (?, ?)", [.blob(c.bytes), .int(id)]) }
            return PruneRecord(id: id, time: time, policy: policy, swept: false)
        }
    }

    /// Restores every commit forgotten by prunes that gc has not swept yet; returns (prunes, commits) undone.
    public func undoPrunes() throws -> (prunes: Int, commits: Int) {
        try db.transaction {
            let commits = try db.scalarInt("SELECT count(*) FROM pruned WHERE prune_id IN (SELECT id FROM prunes WHERE swept = 0 AND undone = 0)") ?? 0
            try db.run("DELETE FROM pruned WHERE prune_id IN (SELECT id FROM prunes WHERE swept = 0 AND undone = 0)")
            let n = try db.run("UPDATE prunes SET undone = 1 WHERE swept = 0 AND undone = 0")
            return (n, Int(commits))
        }
    }

    /// Marks the prunes up to `id` as swept (their data may now be gone).
    public func markPrunesSwept(upTo id: Int64) throws {
        try db.run("UPDATE prunes SET swept = 1 WHERE id <= ? AND undone = 0", [.int(id)])
    }

    /// The newest prune id (0 when none).
    public func lastPruneID() throws -> Int64 { try db.scalarInt("SELECT coalesce(max(id), 0) FROM prunes") ?? 0 }

    /// The prune that forgot `commit`, if any.
    public func pruneRecord(for commit: ObjectID) throws -> PruneRecord? {
        var out: PruneRecord?
        try db.query("SELECT p.id, p.time, p.policy, p.swept FROM pruned x JOIN prunes p ON p.id = x.prune_id WHERE x.commit_id = ?", [.blob(commit.bytes)]) {
            r in
            out = PruneRecord(id: r.int(0), time: r.int(1), policy: r.text(2), swept: r.int(3) != 0)
        }
        return out
    }

    /// Every prune, newest first.
    public func pruneHistory() throws -> [PruneRecord] {
        var out: [PruneRecord] = []
        try db.query("SELECT id, time, policy, swept FROM prunes WHERE undone = 0 ORDER BY id DESC") { r in
            out.append(PruneRecord(id: r.int(0), time: r.int(1), policy: r.text(2), swept: r.int(3) != 0))
        }
        return out
    }

    func collectedError(path: String, id: ObjectID, commit: ObjectID) -> RepositoryError {
        let record = (try? pruneRecord(for: commit)) ?? nil
        let how = record.map { "prune #\($0.id) (\($0.policy)) at \($0.time)" } ?? "gc"
        return .dataCollected(path: path, id: id, by: how)
    }
}
