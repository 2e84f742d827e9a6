import ArgumentParser
import StrataMaintenance
import StrataRepository
import StrataWorkflows

/// `strata gc`.
struct GcCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Delete the objects that no live commit reaches (after 'strata prune'), never touching packs younger than the grace period.",
        discussion: "Safe while other commands run: commits keep landing during the mark; the sweep waits for them. Default grace: 1h.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Never delete objects written less than this long ago (e.g. 1h, 0s).") var grace = "1h"
    @Flag(help: "Report what would be deleted; delete nothing.") var dryRun = false
    @Flag(
        help:
            "Also delete pack files the index does not know (past the grace period). Without it they are kept: they may be all that is left of history whose index was lost. Run 'strata fsck' first."
    ) var force = false
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "With --remote: how long the gc lease lasts if this gc is killed (others wait that long).") var lease = "15m"
    @Option(help: ArgumentHelp("Collect on this remote instead, under its gc lease (safe while others push).", valueName: "name")) var remote: String?

    struct JSONRemoteGC: Encodable {
        var version = 1
        var remote: String; var dry_run: Bool; var grace: String; var live_commits: Int; var pruned_commits: Int; var live_objects: Int
        var objects_dropped: Int; var packs_dropped: Int; var packs_deleted: Int; var bytes_deleted: Int64; var packs_in_grace: Int
        var packs_restored: Int; var fragments_compacted: Int; var took_over_lease: Bool; var requests: Int
    }

    func runRemote(_ repo: Repository, _ name: String) throws {
        let g = try RetentionDuration(parsing: grace)
        let l = try RetentionDuration(parsing: lease)
        let r = try RemoteRetentionWorkflow.gc(
            repo, remote: name, graceSeconds: Int64(g.approximateSeconds), leaseSeconds: Int64(max(1, l.approximateSeconds)), dryRun: dryRun)
        if json {
            try Out.json(
                JSONRemoteGC(
                    remote: name, dry_run: dryRun, grace: g.description, live_commits: r.liveCommits, pruned_commits: r.prunedCommits,
                    live_objects: r.liveObjects, objects_dropped: r.objectsDropped, packs_dropped: r.packsDropped, packs_deleted: r.packsDeleted,
                    bytes_deleted: r.bytesDeleted, packs_in_grace: r.packsInGrace, packs_restored: r.packsRestored,
                    fragments_compacted: r.fragmentsCompacted, took_over_lease: r.tookOverLease, requests: r.transfer.requests))
            return
        }
        if r.tookOverLease { Out.err("strata: note: took over the expired gc lease of a gc that did not finish") }
        if global.quiet { return }
        Out.line(
            "remote \(name): \(dryRun ? "would drop" : "dropped") \(r.objectsDropped) objects (\(r.packsDropped) packs no longer indexed), "
                + "deleted \(r.packsDeleted) packs (\(Format.bytes(UInt64(max(0, r.bytesDeleted))))) dropped or unreferenced for longer than \(g); "
                + "\(r.packsInGrace) packs in grace kept, \(r.packsRestored) indexed again")
        Out.line("\(r.liveCommits) commits reachable, \(r.prunedCommits) pruned; \(r.transfer.requests) requests")
        Out.flush()
    }

    struct JSONGC: Encodable {
        var version = 1
        var dry_run: Bool; var grace: String; var live_commits: Int; var pruned_commits: Int; var live_objects: Int
        var objects_removed: Int; var packs_deleted: Int; var packs_rewritten: Int; var packs_in_grace: Int; var stray_files_removed: Int
        var bytes_reclaimed: Int64; var bytes_before: Int64; var bytes_after: Int64; var stale_lock: String?; var packs_mostly_live: Int
        var unindexed_packs_kept: [String]
    }

    func run() throws {
        let repo = try global.repository()
        if let remote { return try runRemote(repo, remote) }
        let r = try GarbageCollector(repo: repo).run(grace: try RetentionDuration(parsing: grace), dryRun: dryRun, force: force)
        if json {
            try Out.json(
                JSONGC(
                    dry_run: dryRun, grace: r.grace.description, live_commits: r.liveCommits, pruned_commits: r.prunedCommits,
                    live_objects: r.liveObjects, objects_removed: r.sweep.objectsRemoved, packs_deleted: r.sweep.packsDeleted,
                    packs_rewritten: r.sweep.packsRewritten, packs_in_grace: r.sweep.packsInGrace,
                    stray_files_removed: r.sweep.strayFilesRemoved, bytes_reclaimed: r.sweep.bytesReclaimed,
                    bytes_before: r.bytesBefore, bytes_after: r.bytesAfter, stale_lock: r.staleLock, packs_mostly_live: r.sweep.packsMostlyLive,
                    unindexed_packs_kept: r.sweep.unindexedPacksKept))
            return
        }
        if let s = r.staleLock { Out.err("strata: note: took over a stale maintenance lock (\(s))") }
        if !r.sweep.unindexedPacksKept.isEmpty {
            Out.err(
                "strata: warning: kept \(r.sweep.unindexedPacksKept.count) pack files the index does not know (\(r.sweep.unindexedPacksKept.prefix(3).joined(separator: ", "))\(r.sweep.unindexedPacksKept.count > 3 ? ", …" : "")); run 'strata fsck', and 'strata gc --force' only once you are sure nothing is missing"
            )
        }
        if global.quiet { return }
        Out.line(
            "\(dryRun ? "would remove" : "removed") \(r.sweep.objectsRemoved) objects, \(Format.bytes(UInt64(max(0, r.sweep.bytesReclaimed)))) "
                + "(\(r.sweep.packsDeleted) packs deleted, \(r.sweep.packsRewritten) rewritten, \(r.sweep.strayFilesRemoved) leftover files); "
                + "\(r.sweep.packsInGrace) packs younger than \(r.grace) kept, \(r.sweep.packsMostlyLive) packs less than 5 % unused left as they are")
        Out.line(
            "store: \(Format.bytes(UInt64(r.bytesBefore))) -> \(Format.bytes(UInt64(max(0, r.bytesAfter)))); \(r.liveCommits) commits with data, \(r.prunedCommits) pruned"
        )
        Out.flush()
    }
}
