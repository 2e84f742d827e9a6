import Foundation
import StrataModel
import StrataPlatform
import StrataRepository
import StrataSQLite

/// The outcome of `strata prune`.
public struct PruneResult: Sendable {
    /// Every decision, newest first.
    public var plan: RetentionPlan
    /// The prune record written (nil on a dry run or when nothing new was forgotten).
    public var record: PruneRecord?
    /// Commits already forgotten by earlier prunes.
    public var alreadyPruned: Set<ObjectID>
    /// The policies applied.
    public var policies: [RetentionPolicy]
}

/// Retention for a store: saved policies, planning and marking prunes.
public struct Retention {
    /// The store.
    public let repo: Repository

    /// Retention's table of saved policies (owner `retention`).
    public static let schema = ModuleSchema(
        owner: "retention",
        migrations: [
            Migration(1, "saved retention policies", "CREATE TABLE IF NOT EXISTS retention (name TEXT PRIMARY KEY, policy TEXT NOT NULL);")
        ])

    /// Opens retention for a store (applying its schema when the store was opened without it).
    public init(repo: Repository) throws {
        self.repo = repo
        try repo.attach(Retention.schema)
    }

    /// Saves a named policy (replacing one of the same name).
    public func save(_ name: String, _ policy: RetentionPolicy) throws {
        if policy.isEmpty { throw RetentionError.emptyPolicy }
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        try repo.db.run(
            "INSERT OR REPLACE INTO retention (name, policy) VALUES (?, ?)", [.text(name), .text(String(decoding: try enc.encode(policy), as: UTF8.self))])
    }

    /// Saved policies by name.
    public func saved() throws -> [(name: String, policy: RetentionPolicy)] {
        var out: [(String, RetentionPolicy)] = []
        try repo.db.query("SELECT name, policy FROM retention ORDER BY name") { r in
            if let p = try? JSONDecoder().decode(RetentionPolicy.self, from: Data(r.text(1).utf8)) { out.append((r.text(0), p)) }
        }
        return out
    }

    /// Removes a saved policy.
    public func remove(_ name: String) throws {
        if try repo.db.run("DELETE FROM retention WHERE name = ?", [.text(name)]) == 0 { throw RetentionError.unknownPolicy(name) }
    }

    /// Gathers the history the policy engine decides on.
    public func input() throws -> RetentionInput {
        var commits: [ObjectID: HistoryCommit] = [:]
        for id in try repo.objects.commitIDs() {
            let c = try repo.commit(id)
            commits[id] = HistoryCommit(id: id, time: c.time, parents: c.parents)
        }
        var reflog: [ReflogRoot] = []
        for e in try repo.refs.reflog(nil) {
            for id in [e.old, e.new].compactMap({ $0 }) { reflog.append(ReflogRoot(ref: e.ref, commit: id, time: e.time)) }
        }
        return RetentionInput(
            commits: commits,
            branches: try repo.refs.branches().map { ($0.name.rawValue, $0.target) },
            tags: try repo.refs.tags().map { ($0.name.rawValue, $0.target) },
            head: try repo.refs.headCommit(), reflog: reflog)
    }

    /// Plans (and unless `dryRun`, records) a prune under `policies` (the saved ones when empty).
    /// Without `given` rules, the saved policies and those `declared` in Pipeline.swift apply.
    public func prune(
        policies given: [RetentionPolicy], declared: [RetentionPolicy] = [], now: Date, timeZone: TimeZone,
        reflogExpire: RetentionDuration, dryRun: Bool, protected: [ObjectID: String] = [:]
    ) throws -> PruneResult {
        let policies = given.isEmpty ? try saved().map(\.policy) + declared : given
        if policies.isEmpty { throw RetentionError.emptyPolicy }
        let mlock = try MaintenanceLock(storePath: repo.storePath)
        defer { mlock.release() }
        var input = try input()
        input.protected = protected
        if let m = try repo.mergeState() {
            input.protected[m.origHead] = input.protected[m.origHead] ?? "the merge in progress (HEAD before it)"
            input.protected[m.mergeHead] = input.protected[m.mergeHead] ?? "the merge in progress (MERGE_HEAD)"
            if let b = m.base { input.protected[b] = input.protected[b] ?? "the merge in progress (its base)" }
        }
        let plan = try PolicyEngine(now: now, timeZone: timeZone, reflogExpire: reflogExpire).plan(input, policies: policies)
        let already = try repo.prunedCommits()
        var record: PruneRecord?
        if !dryRun {
            record = try repo.markPruned(
                plan.forget, policy: policies.map(\.summary).joined(separator: " | "),
                time: Int64(Date().timeIntervalSince1970))
        }
        return PruneResult(plan: plan, record: record, alreadyPruned: already, policies: policies)
    }
}
