import Foundation
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRepository

/// Failures of push, fetch, pull and clone, each naming the remote, ref or object, with a next step.
public enum RemoteSyncError: StrataError {
    /// The remote ref moved to a commit the local one does not descend from.
    case nonFastForward(ref: String, remote: String)
    /// Someone else moved the remote ref between our read and our write (the compare-and-swap failed).
    case raced(ref: String, remote: String)
    /// A ref to push that does not exist locally.
    case unknownRef(String)
    /// A commit to publish whose file data this store does not have (pruned, or a partial store).
    case missingLocally(ObjectID, path: String)
    /// The remote's index lacks an object its refs need.
    case missingOnRemote(ObjectID, remote: String)
    /// Something on the remote failed its checks (hash, trailer, shape).
    case corruptRemote(remote: String, key: String, reason: String)
    /// The remote changed under a push (a gc collected an object the push relied on); nothing was published.
    case indexChanged(remote: String, object: ObjectID)
    /// Local and remote branch have both moved on.
    case diverged(branch: String, remote: String, ahead: Int, behind: Int)
    /// Lineage is missing for commits a push would publish.
    case lineageMissing([ObjectID])
    /// Another gc holds the remote's lease.
    case leaseHeld(remote: String, until: Int64)
    /// Bad request (clone into a non-empty folder, no such branch on the remote).
    case invalid(String, next: String)

    public var code: String {
        switch self {
        case .nonFastForward: "push.non-fast-forward"
        case .raced: "push.raced"
        case .unknownRef: "push.unknown-ref"
        case .missingLocally: "push.data-missing"
        case .missingOnRemote: "fetch.missing-on-remote"
        case .corruptRemote: "fetch.corrupt"
        case .indexChanged: "push.index-changed"
        case .diverged: "pull.diverged"
        case .lineageMissing: "push.lineage-missing"
        case .leaseHeld: "gc.lease-held"
        case .invalid: "remote.invalid-request"
        }
    }
    public var category: ErrorCategory {
        switch self {
        case .nonFastForward, .raced, .diverged, .indexChanged, .leaseHeld: .conflict
        case .unknownRef, .invalid: .usage
        case .missingLocally: .collected
        case .missingOnRemote, .corruptRemote: .integrity
        case .lineageMissing: .lineage
        }
    }
    public var message: String {
        switch self {
        case .nonFastForward(let r, let rm): "push of \(r) to \(rm) rejected: not a fast-forward (the remote has commits this branch does not)"
        case .raced(let r, let rm): "push of \(r) to \(rm) lost a race: another push moved it first; nothing of theirs or yours was lost"
        case .unknownRef(let r): "'\(r)' is not a local branch or tag"
        case .missingLocally(let id, let p): "cannot publish '\(p)' (\(id.short)): its data is not in this store (pruned, or never downloaded)"
        case .missingOnRemote(let id, let rm): "the remote \(rm) has no object \(id.hex) although its refs need it"
        case .corruptRemote(let rm, let k, let why): "'\(k)' on the remote \(rm) is corrupt: \(why); nothing was stored"
        case .indexChanged(let rm, let id): "the remote \(rm) dropped object \(id.short) while this push ran (a remote gc); nothing was published"
        case .diverged(let b, let rm, let a, let bh): "branch '\(b)' and \(rm)/\(b) have diverged: ahead \(a), behind \(bh)"
        case .lineageMissing(let ids):
            "no lineage is recorded for \(ids.count) commit\(ids.count == 1 ? "" : "s") to publish: \(ids.prefix(5).map(\.short).joined(separator: ", "))"
        case .leaseHeld(let rm, let t): "another gc holds the lease on \(rm) until \(t) (seconds since the epoch)"
        case .invalid(let m, _): m
        }
    }
    public var nextStep: String? {
        switch self {
        case .nonFastForward: "fetch and merge, or --force-with-lease"
        case .raced: "fetch, then push again"
        case .unknownRef: "see 'strata branch' and 'strata tag'"
        case .missingLocally: "push from a store that still has the data, or fetch it first ('strata fetch --all-data')"
        case .missingOnRemote: "the remote lost data: push again from a store that has it, then run 'strata fsck'"
        case .corruptRemote: "push the object again from a store that has it; check the storage for faults"
        case .indexChanged: "push again"
        case .diverged: "merge them (issue 12), or reset to the remote with 'strata reset --hard REMOTE/BRANCH'"
        case .lineageMissing: "record lineage with 'strata commit' or 'strata repro' (lineage on), or push without --require-lineage"
        case .leaseHeld: "wait for it to finish (a killed gc's lease expires by itself)"
        case .invalid(_, let n): n
        }
    }
}

/// What happened to one ref in a push or fetch.
public struct RefUpdate: Sendable, Equatable {
    /// How the ref moved.
    public enum Outcome: String, Sendable {
        case upToDate = "up-to-date"
        case created
        case fastForward = "fast-forward"
        case forced, deleted
    }
    /// Full ref name (`refs/heads/main`).
    public var ref: String
    /// Where it was (nil: new).
    public var old: ObjectID?
    /// Where it is now.
    public var new: ObjectID?
    /// How it moved.
    public var outcome: Outcome
}

/// What a push or fetch did.
public struct SyncReport: Sendable {
    /// Ref movements.
    public var updates: [RefUpdate] = []
    /// Objects sent or received.
    public var objects = 0
    /// Packs written (push) or ranges read (fetch).
    public var packs = 0
    /// Requests, bytes up and down.
    public var transfer = TransferStats()
    /// Index fragments downloaded.
    public var fragmentsRead = 0
}

/// Push, fetch and the lazy download of a partial store, over any `RemoteBackend` (store/FORMAT.md, "Remotes").
///
/// Write order is packs → index fragment → ref, so a reader never sees a ref whose objects are missing, and a push
/// killed at any moment leaves only packs no ref needs. Every frame read from a remote is verified against the ids it
/// holds before it is stored; a chunked file is read whole and checked against its id before any ref moves to it.
public final class RemoteSync: @unchecked Sendable {
    /// The store.
    public let repo: Repository
    /// The remote's name in the store (`origin`).
    public let name: String
    let backend: CountingBackend
    let index: RemoteIndexCache
    /// Parallel connections.
    public let connections: Int
    /// Target size of a pack (bytes).
    public var packTarget: Int64 = 32 << 20
    /// Objects a push sends per batch of packs and index fragment (`push`): memory holds one batch.
    public var pushBatch = 65536
    /// Longest ranged read (bytes): with 8 connections, 4 MiB keeps a clone of 1 GB under 150 MB of memory.
    public var rangeLimit: Int64 = 4 << 20

    /// A sync with `backend` as the remote `name` of `repo`.
    public init(repo: Repository, name: String, backend: any RemoteBackend, connections: Int = 8) throws {
        self.repo = repo; self.name = name; self.backend = CountingBackend(backend)
        self.connections = max(1, min(64, connections))
        index = try RemoteIndexCache(repo: repo, remote: name)
    }

    /// The storage (counting requests).
    public var storage: any RemoteBackend { backend }

    /// Forgets a remote's cached index (when the remote is removed from the store's config).
    public static func forget(_ repo: Repository, remote: String) throws {
        try RemoteIndexCache(repo: repo, remote: remote).forget()
    }

    /// Requests and bytes so far.
    public var transfer: TransferStats { backend.stats.with { $0 } }

    // MARK: Remote refs

    /// Every branch and tag on the remote with its entity tag.
    public func remoteRefs() throws -> [String: (target: ObjectID, etag: String)] {
        let keys = try backend.list(prefix: "refs/").filter { $0.hasPrefix("refs/heads/") || $0.hasPrefix("refs/tags/") }
        let out = Locked<[String: (ObjectID, String)]>([:])
        let display = backend.displayName
        try concurrently(keys.count, width: connections) { [backend] i in
            guard let obj = try backend.get(keys[i]) else { return }
            guard let t = RemoteRefValue.decode(obj.bytes) else {
                throw RemoteSyncError.corruptRemote(remote: display, key: keys[i], reason: "not a ref value")
            }
            out.with { $0[keys[i]] = (t, obj.etag) }
        }
        return out.with { $0 }.mapValues { (target: $0.0, etag: $0.1) }
    }

    func remoteRef(_ full: String) throws -> (target: ObjectID, etag: String)? {
        guard let obj = try backend.get(RemoteLayout.refKey(full)) else { return nil }
        guard let t = RemoteRefValue.decode(obj.bytes) else {
            throw RemoteSyncError.corruptRemote(remote: backend.displayName, key: full, reason: "not a ref value")
        }
        return (t, obj.etag)
    }

    /// The remote-tracking name of a remote ref (`refs/heads/main` → `refs/remotes/origin/main`; tags stay tags).
    public func trackingRef(_ full: String) -> String {
        full.hasPrefix("refs/heads/") ? "refs/remotes/\(name)/" + full.dropFirst("refs/heads/".count) : full
    }

    // MARK: Push

    /// Publishes `refs` (full names): uploads what the remote lacks, then moves each remote ref by compare-and-swap.
    /// A ref that is not a fast-forward is refused unless `forceWithLease` and the remote still holds what this store
    /// last fetched. `checkCommits` sees the commits about to be published first (e.g. to require lineage).
    /// `sources` gives a ref's commit when it is not the local ref of the same name (`promote` publishes a fetched
    /// commit under a branch of the destination).
    /// `lineage` gives the lineage bundle of a new commit (nil: none recorded); each is uploaded create-only as
    /// `lineage/<commit>.json` before any ref moves, so a server can hold the push to `--require-lineage`.
    public func push(
        _ refs: [String], forceWithLease: Bool = false, sources: [String: ObjectID] = [:], checkCommits: (([ObjectID]) throws -> Void)? = nil,
        lineage: ((ObjectID) throws -> [UInt8]?)? = nil
    ) throws -> SyncReport {
        var report = SyncReport()
        report.fragmentsRead = try index.sync(backend, width: connections).downloaded
        // 1. Decide every ref's move before sending anything.
        var plan: [(ref: String, local: ObjectID, remote: (target: ObjectID, etag: String)?, outcome: RefUpdate.Outcome)] = []
        for ref in refs {
            guard let local = try sources[ref] ?? repo.ref(ref) else { throw RemoteSyncError.unknownRef(ref) }
            let remote = try remoteRef(ref)
            var outcome: RefUpdate.Outcome = .created
            if let remote {
                if remote.target == local {
                    outcome = .upToDate
                } else if ref.hasPrefix("refs/heads/"), try repo.hasObject(remote.target), try repo.isAncestor(remote.target, of: local) {
                    outcome = .fastForward
                } else if forceWithLease, try repo.ref(trackingRef(ref)) == remote.target {
                    outcome = .forced
                } else {
                    throw RemoteSyncError.nonFastForward(ref: ref, remote: name)
                }
            }
            plan.append((ref, local, remote, outcome))
        }
        // 2. What the remote lacks: new commits, and the trees and files below them it has not got.
        var commits: [ObjectID] = []
        var relied: [ObjectID: RemoteObject] = [:]  // what the remote has and the push counts on, where it is
        var seen: Set<ObjectID> = []
        var stack = plan.filter { $0.outcome != .upToDate }.map(\.local)
        while let c = stack.popLast() {
            guard seen.insert(c).inserted else { continue }
            if let at = try index.location(c) { relied[c] = at; continue }
            commits.append(c)
            stack.append(contentsOf: try repo.commit(c).parents)
        }
        try checkCommits?(commits)
        // 3. Packs and index fragments, a batch of objects at a time (memory holds one batch, whatever the push's
        // size): each batch's packs, then its fragment, which is recorded here at once, so the walk finds what an
        // earlier batch sent as on the remote and never sends it again. The last fragment also lists where the objects
        // this push relied on are. Listing those again pins them: a gc counts the objects of a push's fragment younger
        // than its grace period as live, so an object this push relies on cannot lose its index entry between the
        // check below and the move of the refs.
        var needed: [ObjectID: (FrameRef, FrameMember)] = [:]
        var lastFragment: String?
        var packs = Set<String>()
        func flush(final: Bool) throws {
            guard !needed.isEmpty || (final && !relied.isEmpty) else { return }
            let (name, fragment, sent) = try upload(needed, pinned: final ? Array(relied.values) : [])
            try index.record(name, fragment)
            report.objects += sent.count
            packs.formUnion(sent.map(\.pack))
            lastFragment = name
            needed.removeAll(keepingCapacity: true)
        }
        func need(_ id: ObjectID, path: String) throws {
            guard needed[id] == nil else { return }
            guard let f = try repo.objects.frameRef(of: id) else { throw RemoteSyncError.missingLocally(id, path: path) }
            needed[id] = f
            if needed.count >= pushBatch { try flush(final: false) }
        }
        var seenTrees: Set<ObjectID> = []
        func walk(_ tree: ObjectID, _ path: String) throws {
            guard seenTrees.insert(tree).inserted else { return }
            if tree == Tree.empty.id { return }
            if let at = try index.location(tree) { relied[tree] = at; return }
            for e in try repo.tree(tree).entries {
                let p = path.isEmpty ? e.name : path + "/" + e.name
                if e.kind == .directory { try walk(e.id, p); continue }
                if let at = try index.location(e.id) { relied[e.id] = at; continue }
                guard try repo.hasObject(e.id) else { throw RemoteSyncError.missingLocally(e.id, path: p) }
                if try repo.objects.kind(of: e.id) == .chunked {
                    for c in try repo.objects.chunkList(e.id).chunks where try !index.has(c.id) { try need(c.id, path: p) }
                }
                try need(e.id, path: p)
            }
            try need(tree, path: path.isEmpty ? "/" : path)
        }
        // Everything below an object is sent before it (chunks before their file, files and folders before their
        // folder, the tree and the parents before a commit), so every batch's fragment, and so every prefix of them a
        // killed push leaves, lists only closed sets: a fragment that lists a commit or a tree lists everything below
        // it (store/FORMAT.md, "Closure"), and a later push that stops at a listed tree loses nothing.
        for c in try RemoteSync.parentsFirst(commits, parents: { try repo.commit($0).parents }) {
            try walk(try repo.commit(c).tree, "")
            try need(c, path: "commit \(c.short)")
        }
        try flush(final: true)
        report.packs = packs.count
        if let lastFragment {
            // 4. Before any ref moves: everything this push relied on is still listed by another fragment (a gc that
            // read the fragments before the last one was written may have dropped it).
            _ = try index.sync(backend, width: connections)
            for id in relied.keys where try !index.has(id, besides: lastFragment) {
                throw RemoteSyncError.indexChanged(remote: self.name, object: id)
            }
        }
        // 5. Lineage bundles of the new commits (an existing one is the same commit's: it stays).
        if let lineage {
            for c in commits {
                guard let bytes = try lineage(c) else { continue }
                _ = try backend.create(RemoteLayout.lineageKey(c.hex), bytes)
            }
        }
        // 6. Refs by compare-and-swap.
        for p in plan {
            if p.outcome != .upToDate {
                let value = RemoteRefValue(target: p.local).encoded()
                let outcome = try p.remote.map { try backend.put(p.ref, value, ifMatch: $0.etag) } ?? backend.create(p.ref, value)
                guard case .written = outcome else { throw RemoteSyncError.raced(ref: p.ref, remote: name) }
            }
            let tracking = trackingRef(p.ref)
            if tracking.hasPrefix("refs/remotes/") {
                let old = try repo.ref(tracking)
                if old != p.local { try repo.updateRef(tracking, expected: old, new: p.local, message: "push: \(p.outcome.rawValue)") }
            }
            report.updates.append(RefUpdate(ref: p.ref, old: p.remote?.target, new: p.local, outcome: p.outcome))
        }
        // The remote's default branch, set once by the first push of a branch: the pusher's checked-out branch when it
        // is pushed, else main, else the first (a clone checks it out; a server's pages and API show it as HEAD).
        let current = (try? repo.currentBranch()).flatMap { $0.map { "refs/heads/" + $0.rawValue } }
        let heads = plan.filter { $0.ref.hasPrefix("refs/heads/") }
        if let chosen = heads.first(where: { $0.ref == current }) ?? heads.first(where: { $0.ref == "refs/heads/main" }) ?? heads.first,
            try backend.head(RemoteLayout.headKey) == nil
        {
            _ = try backend.create(RemoteLayout.headKey, Array("\(chosen.ref)\n".utf8))
        }
        report.transfer = transfer
        return report
    }

    /// `commits` ordered so that each comes after those of its parents that are among them (a depth-first post-order).
    static func parentsFirst(_ commits: [ObjectID], parents: (ObjectID) throws -> [ObjectID]) throws -> [ObjectID] {
        let among = Set(commits)
        var done = Set<ObjectID>(), out: [ObjectID] = []
        for start in commits where !done.contains(start) {
            var stack: [(id: ObjectID, expanded: Bool)] = [(start, false)]
            while let (c, expanded) = stack.popLast() {
                if done.contains(c) { continue }
                if expanded {
                    done.insert(c); out.append(c)
                    continue
                }
                stack.append((c, true))
                for p in try parents(c) where among.contains(p) && !done.contains(p) { stack.append((p, false)) }
            }
        }
        return out
    }

    /// Writes the frames holding `needed` into packs of about `packTarget` bytes (copied as stored, no recompression),
    /// uploads them create-only in parallel, then the index fragment, which also lists `pinned` (the objects the push
    /// relies on, where the remote has them); returns it with the objects sent. Packs are named by their SHA-256 and
    /// unique (the trailer has a nonce): a push repeated after an interruption ignores what the killed one left, which gc reclaims
    /// after the grace period, and never counts on a pack a gc may be deleting.
    func upload(_ needed: [ObjectID: (FrameRef, FrameMember)], pinned: [RemoteObject] = []) throws -> (
        name: String, fragment: IndexFragment, sent: [RemoteObject]
    ) {
        var byFrame: [FrameRef: [FrameMember]] = [:]
        for (_, (f, m)) in needed { byFrame[f, default: []].append(m) }
        let objects = repo.objects
        let entries =
            byFrame.isEmpty
            ? []
            : try uploadPacks(byFrame.keys.sorted(), length: \.length, scratch: "push") { [byFrame] f in
                (try objects.storedFrame(f), byFrame[f]!)
            }
        let fragment = IndexFragment(entries: entries + pinned)
        let bytes = fragment.encoded()
        let name = ObjectID.hash(bytes).hex
        let key = RemoteLayout.indexKey(name)
        if case .conditionFailed = try backend.create(key, bytes), !pinned.isEmpty, let etag = try? backend.head(key) {
            // The same bytes were written before (the same pins): written again, so that its time says it is young and a
            // gc keeps its pins. Should that fail, the check after it still guards the push.
            _ = try? backend.put(key, bytes, ifMatch: etag)
        }
        return (name, fragment, entries)
    }

    /// Writes `frames` (in order) into packs of about `packTarget` bytes under `.strata/tmp/`, each as magic, the
    /// frames as stored, then the trailer, hashing as it goes; uploads each create-only (streamed); `frame` gives a
    /// frame's stored bytes and the objects to index in it. Returns every object at its new place. Runs `connections`
    /// packs at a time.
    func uploadPacks<Frame: Sendable>(
        _ frames: [Frame], length: @escaping @Sendable (Frame) -> Int64, scratch: String,
        frame: @escaping @Sendable (Frame) throws -> (stored: [UInt8], members: [FrameMember])
    ) throws -> [RemoteObject] {
        var groups: [[Frame]] = [[]]
        var size: Int64 = 0
        for f in frames {
            if size >= packTarget { groups.append([]); size = 0 }
            groups[groups.count - 1].append(f)
            size += length(f)
        }
        let tmpDir = repo.storePath + "/tmp/\(scratch)-" + Posix.randomHex(8)
        try Posix.makeDirectories(tmpDir)
        defer {
            for f in (try? Posix.listDirectory(tmpDir)) ?? [] { try? Posix.unlink(tmpDir + "/" + f) }
            _ = Posix.rmdir(tmpDir)
        }
        let out = Locked<[RemoteObject]>([])
        try concurrently(groups.count, width: connections) { [backend, groups] g in
            let path = tmpDir + "/\(g).pack"
            let w = try HashingFile(path: path)
            var list: [RemoteObject] = []
            do {
                try w.write(ObjectStore.packMagic)
                for f in groups[g] {
                    let (stored, members) = try frame(f)
                    for m in members {
                        list.append(
                            RemoteObject(
                                id: m.id, kind: m.kind, pack: "", frameOffset: w.offset, frameLength: Int64(stored.count), offset: m.offset,
                                length: m.length))
                    }
                    try w.write(stored)
                }
                try w.write(RemoteLayout.packTrailer(list))
            } catch {
                w.close(); throw error
            }
            let id = w.finish()
            // A name taken already can only be this very pack (its bytes are unique): a retried upload that had landed.
            _ = try backend.createFile(RemoteLayout.packKey(id), path: path, sha256: id, size: w.offset)
            try? Posix.unlink(path)
            out.with {
                $0.append(
                    contentsOf: list.map {
                        var e = $0; e.pack = id; return e
                    })
            }
        }
        return out.with { $0 }
    }

    // MARK: Fetch

    /// Downloads the remote's refs and what they need, then moves the remote-tracking refs (`refs/remotes/NAME/*`)
    /// and creates tags this store lacks. A partial store (or `historyOnly`) takes commits and trees only.
    /// With `prune`, remote-tracking refs of branches the remote no longer has are deleted (`git fetch --prune`).
    public func fetch(historyOnly: Bool = false, allData: Bool = false, prune: Bool = false) throws -> SyncReport {
        var report = SyncReport()
        let (refs, newCommits) = try fetchHistory(&report)
        // File data of the new commits (or of every commit with `allData`).
        let partial = try repo.partialRemote() != nil
        if !historyOnly && (!partial || allData) {
            // Downloaded a batch at a time while the trees are walked: memory holds one batch of ids, not one per file.
            var files: [ObjectID] = []
            func flush() throws {
                report.objects += try supplyFiles(files)
                files.removeAll(keepingCapacity: true)
            }
            var seenCommits: Set<ObjectID> = [], seenTrees: Set<ObjectID> = []
            var stack = refs.values.map(\.target)
            // Data a remote prune released is not fetched; those commits are recorded as pruned here too.
            let remotePruned = try remotePruned()
            let releasedHere = newCommits.intersection(remotePruned)
            if !releasedHere.isEmpty {
                _ = try repo.markPruned(Array(releasedHere), policy: "pruned on remote \(name)", time: Posix.nowNs() / 1_000_000_000)
            }
            let pruned = try repo.prunedCommits().union(remotePruned)
            while let c = stack.popLast() {
                guard seenCommits.insert(c).inserted, allData || newCommits.contains(c) else { continue }
                let commit = try repo.commit(c)
                stack.append(contentsOf: commit.parents)
                if pruned.contains(c) { continue }
                try collectFiles(commit.tree, seen: &seenTrees) { id in
                    files.append(id)
                    if files.count >= RemoteSync.fileBatch { try flush() }
                }
            }
            try flush()
            if allData { try repo.setConfig(Repository.partialKey, nil) }
        }
        // Remote-tracking refs and tags.
        for (ref, r) in refs.sorted(by: { $0.key < $1.key }) {
            let local = trackingRef(ref)
            let old = try repo.ref(local)
            if old == r.target { continue }
            if ref.hasPrefix("refs/tags/") && old != nil { continue }  // a tag this store has stays as it is
            try repo.updateRef(local, expected: old, new: r.target, message: "fetch: \(old == nil ? "storing head" : "forced-update or fast-forward")")
            report.updates.append(RefUpdate(ref: local, old: old, new: r.target, outcome: old == nil ? .created : .fastForward))
        }
        if prune {
            for r in try repo.refs(prefix: "refs/remotes/\(name)/") where refs["refs/heads/" + r.name.dropFirst("refs/remotes/\(name)/".count)] == nil {
                try repo.updateRef(r.name, expected: r.target, new: nil, message: "fetch: pruned (gone on the remote)")
                report.updates.append(RefUpdate(ref: r.name, old: r.target, new: nil, outcome: .deleted))
            }
        }
        report.transfer = transfer
        return report
    }

    /// Deletes branches or tags on the remote (`push --delete`). Each must still point where this store last saw it
    /// (its remote-tracking ref, or for a tag the local tag); its objects stay until `gc --remote` finds them
    /// unreachable. Storage has no conditional delete, so a push landing between the check and the delete is lost
    /// from the remote ref (not from the pusher's store); the check keeps that window to one request.
    public func deleteRemote(_ refs: [String]) throws -> SyncReport {
        var report = SyncReport()
        for ref in refs {
            guard let remote = try remoteRef(ref) else { throw RemoteSyncError.unknownRef(ref + " on " + name) }
            let seen = try repo.ref(trackingRef(ref))
            guard seen == remote.target else { throw RemoteSyncError.nonFastForward(ref: ref, remote: name) }
            try backend.delete(RemoteLayout.refKey(ref))
            if ref.hasPrefix("refs/heads/"), let t = try repo.ref(trackingRef(ref)) {
                try repo.updateRef(trackingRef(ref), expected: t, new: nil, message: "push: deleted on the remote")
            }
            report.updates.append(RefUpdate(ref: ref, old: remote.target, new: nil, outcome: .deleted))
        }
        report.transfer = transfer
        return report
    }

    /// Syncs the index, reads the refs and downloads every commit and tree the remote lists that this store lacks, in
    /// one round. A ref that moved after the index was read (a push landing meanwhile) makes it read again.
    func fetchHistory(_ report: inout SyncReport) throws -> (refs: [String: (target: ObjectID, etag: String)], newCommits: Set<ObjectID>) {
        var newCommits = Set<ObjectID>()
        for attempt in 0..<4 {
            report.fragmentsRead += try index.sync(backend, width: connections).downloaded
            let refs = try remoteRefs()
            var history: [RemoteObject] = []
            for o in try index.objects(kinds: [.commit, .tree]) where try !repo.objects.contains(o.id) { history.append(o) }
            newCommits.formUnion(history.filter { $0.kind == .commit }.map(\.id))
            report.objects += try download(history)
            guard let (ref, r) = try refs.first(where: { !(try repo.objects.contains($0.value.target)) }) else { return (refs, newCommits) }
            if attempt == 3 { throw RemoteSyncError.missingOnRemote(r.target, remote: backend.displayName + " (" + ref + ")") }
        }
        return ([:], newCommits)
    }

    /// Downloads every commit and tree the remote's index lists that this store lacks, each verified against its id
    /// (the server's mirror of a namespace uses it before a ref moves). Returns how many objects came.
    public func downloadHistory() throws -> Int {
        _ = try index.sync(backend, width: connections)
        var history: [RemoteObject] = []
        for o in try index.objects(kinds: [.commit, .tree]) where try !repo.objects.contains(o.id) { history.append(o) }
        return try download(history)
    }

    /// Whether the remote's index, as last synced, lists `id`.
    public func remoteHas(_ id: ObjectID) throws -> Bool { try index.has(id) }

    /// Files a fetch downloads per batch (`supplyFiles`): ranges still merge across a batch's packs, and memory holds
    /// one batch's locations and frames.
    static let fileBatch = 32768

    /// Calls `body` with every file below `tree` (depth first) that this store lacks, skipping trees in `seen`. A file
    /// downloaded by an earlier call of `body` is not lacked any more, so a batch is never asked for twice.
    func collectFiles(_ tree: ObjectID, seen: inout Set<ObjectID>, _ body: (ObjectID) throws -> Void) throws {
        guard seen.insert(tree).inserted, tree != Tree.empty.id else { return }
        for e in try repo.tree(tree).entries {
            if e.kind == .directory { try collectFiles(e.id, seen: &seen, body) } else if try !repo.hasObject(e.id) { try body(e.id) }
        }
    }

    /// Downloads files (blobs, and chunked files with their chunks). Chunk lists are indexed in the same transaction
    /// as their last chunks, after every chunk was verified, and each chunked file is read whole and checked against
    /// its id: the store's completeness invariant holds at every moment.
    func supplyFiles(_ ids: [ObjectID]) throws -> Int {
        if ids.isEmpty { return 0 }
        var first: [RemoteObject] = []
        for id in Set(ids) {
            guard let o = try index.location(id) else { throw RemoteSyncError.missingOnRemote(id, remote: backend.displayName) }
            first.append(o)
        }
        // Round 1: blobs and chunk lists (lists held back).
        let held = Locked<[(stored: [UInt8], members: [FrameMember], lists: [ObjectID: ChunkList])]>([])
        var count = try download(first, holdLists: held)
        let lists = held.with { $0 }
        if lists.isEmpty { return count }
        // Round 2: the chunks the lists name, then the lists themselves, in one session.
        var chunks: [RemoteObject] = []
        var seen = Set<ObjectID>()
        for h in lists {
            for (_, list) in h.lists {
                for c in list.chunks where seen.insert(c.id).inserted {
                    if try repo.objects.contains(c.id) { continue }
                    guard let o = try index.location(c.id) else { throw RemoteSyncError.missingOnRemote(c.id, remote: backend.displayName) }
                    chunks.append(o)
                }
            }
        }
        count += try download(chunks, then: lists.map { ($0.stored, $0.members) })
        let newFiles = lists.flatMap { $0.lists.keys }
        // The whole-file check; a file that fails loses its index row again (its chunks are valid blobs).
        let objects = repo.objects, display = backend.displayName
        try concurrently(newFiles.count, width: ProcessInfo.processInfo.activeProcessorCount) { i in
            do { try objects.verifyFile(newFiles[i]) } catch {
                _ = try? objects.db.run("DELETE FROM objects WHERE id = ?", [.blob(newFiles[i].bytes)])
                throw RemoteSyncError.corruptRemote(remote: display, key: "chunked file \(newFiles[i].hex)", reason: "\(error)")
            }
        }
        return count
    }

    /// Reads the frames holding `objects` with ranged GETs (adjacent frames of a pack merged up to `rangeLimit`),
    /// verifies every frame against the ids it holds, and stores them. Chunk lists go to `holdLists` instead when given;
    /// `then` frames are appended last, in the same index transaction.
    @discardableResult
    func download(
        _ objects: [RemoteObject], holdLists: Locked<[(stored: [UInt8], members: [FrameMember], lists: [ObjectID: ChunkList])]>? = nil,
        then extra: [([UInt8], [FrameMember])] = []
    ) throws -> Int {
        if objects.isEmpty && extra.isEmpty { return 0 }
        struct FrameKey: Hashable { var pack: String; var offset: Int64 }
        var frames: [FrameKey: (length: Int64, members: [RemoteObject])] = [:]
        var listed = Set<ObjectID>()
        for o in objects where listed.insert(o.id).inserted {
            frames[FrameKey(pack: o.pack, offset: o.frameOffset), default: (o.frameLength, [])].members.append(o)
        }
        // Ranges: per pack, frames in order, merged while the gap is small and the range stays under the limit.
        var ranges: [(pack: String, start: Int64, end: Int64, frames: [FrameKey])] = []
        for (pack, keys) in Dictionary(grouping: frames.keys, by: \.pack).sorted(by: { $0.key < $1.key }) {
            for k in keys.sorted(by: { $0.offset < $1.offset }) {
                let end = k.offset + frames[k]!.length
                if var last = ranges.last, last.pack == pack, k.offset - last.end <= 256 << 10, end - last.start <= rangeLimit {
                    last.end = max(last.end, end); last.frames.append(k)
                    ranges[ranges.count - 1] = last
                } else {
                    ranges.append((pack, k.offset, end, [k]))
                }
            }
        }
        let session = repo.objects.beginWrite()
        let display = backend.displayName
        let frozen = frames
        do {
            try concurrently(ranges.count, width: connections) { [backend, ranges] i in
                let r = ranges[i]
                let key = RemoteLayout.packKey(r.pack)
                let bytes = try backend.getRange(key, offset: r.start, length: Int(r.end - r.start))
                guard Int64(bytes.count) == r.end - r.start else {
                    throw RemoteSyncError.corruptRemote(
                        remote: display, key: key, reason: "it is shorter than its index says (\(bytes.count) of \(r.end - r.start) bytes at \(r.start))")
                }
                for k in r.frames {
                    let f = frozen[k]!
                    let lo = Int(k.offset - r.start)
                    let stored = Array(bytes[lo..<lo + Int(f.length)])
                    let members = f.members.map(\.member)
                    do { try ObjectStore.verifyFrame(stored, members: members, source: "remote pack \(r.pack)") } catch {
                        throw RemoteSyncError.corruptRemote(remote: display, key: key, reason: "\(error)")
                    }
                    let lists = members.filter { $0.kind == .chunked }
                    let plain = members.filter { $0.kind != .chunked }
                    if !plain.isEmpty { try session.appendStoredFrame(stored, members: plain) }
                    if !lists.isEmpty {
                        guard let holdLists else { continue }
                        var decoded: [ObjectID: ChunkList] = [:]
                        let raw = try ObjectStore.verifiedRaw(stored)
                        for m in lists { decoded[m.id] = ChunkList.decode(Array(raw[Int(m.offset)..<Int(m.offset + m.length)])) }
                        holdLists.with { $0.append((stored, lists, decoded)) }
                    }
                }
            }
            for (stored, members) in extra { try session.appendStoredFrame(stored, members: members) }
            try session.finishPacks()
            try session.recordIndex()
        } catch {
            session.abort()
            throw error
        }
        repo.objects.dropCaches()
        return frames.values.reduce(0) { $0 + $1.members.count }
    }
}

/// A file written once, front to back, hashed as it goes.
final class HashingFile {
    let path: String
    let fd: Int32
    var hasher = SHA256Hasher()
    private(set) var offset: Int64 = 0
    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw PosixError("create", path) }
    }
    func write(_ b: [UInt8]) throws {
        try Posix.writeAll(fd, b, path: path)
        b.withUnsafeBytes { hasher.update($0) }
        offset += Int64(b.count)
    }
    func close() { Glibc.close(fd) }
    /// Closes the file and returns the hex SHA-256 of what was written.
    func finish() -> String {
        close()
        var h = SHA256Hasher()
        swap(&h, &hasher)
        return h.finalize().hex
    }
}

/// The supplier a partial store uses: downloads the file data checkout or cat needs from its remote.
public struct RemoteSupplier: ObjectSupplier {
    /// The remote's name.
    public let name: String
    let backend: any RemoteBackend
    let connections: Int
    /// A supplier for the remote `name` reached through `backend`.
    public init(name: String, backend: any RemoteBackend, connections: Int = 8) {
        self.name = name; self.backend = backend; self.connections = connections
    }
    public func supply(_ ids: [ObjectID], into repo: Repository) throws {
        let sync = try RemoteSync(repo: repo, name: name, backend: backend, connections: connections)
        _ = try sync.index.sync(sync.backend, width: connections)
        _ = try sync.supplyFiles(ids)
    }
}
