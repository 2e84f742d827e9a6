import Foundation
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRepository

/// What a remote gc did (or, with `dryRun`, would do).
public struct RemoteGCReport: Sendable {
    /// Commits reachable from the remote's branches and tags.
    public var liveCommits = 0
    /// Of them, commits whose file data a remote prune released.
    public var prunedCommits = 0
    /// Objects reachable (with data).
    public var liveObjects = 0
    /// Packs no longer indexed this run (deleted by a later gc after the grace period).
    public var packsDropped = 0
    /// Packs mostly dead whose live frames were copied to a new pack (the old one is dropped).
    public var packsRewritten = 0
    /// Packs deleted this run.
    public var packsDeleted = 0
    /// Their bytes.
    public var bytesDeleted: Int64 = 0
    /// Unindexed packs kept because they are younger than the grace period (an interrupted or running push).
    public var packsInGrace = 0
    /// Dropped packs that held live objects after all (a push relied on them meanwhile), indexed again.
    public var packsRestored = 0
    /// Index fragments compacted into one.
    public var fragmentsCompacted = 0
    /// Objects no longer indexed.
    public var objectsDropped = 0
    /// The lease expired and was taken over from a killed gc.
    public var tookOverLease = false
    /// Requests and bytes.
    public var transfer = TransferStats()
}

/// A remote prune record: `prunes/<sha256>.json`, create-only, never changed.
struct RemotePruneRecord: Codable {
    var format = "strata-prune"
    var version = 1
    var time: Int64
    var policy: String
    var commits: [String]
}

extension RemoteSync {
    /// Records on the remote that `commits` lose their file data (their history stays); the next remote gc collects it.
    public func recordPrune(_ commits: [ObjectID], policy: String) throws -> String? {
        if commits.isEmpty { return nil }
        let rec = RemotePruneRecord(time: Posix.nowNs() / 1_000_000_000, policy: policy, commits: commits.map(\.hex).sorted())
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let bytes = [UInt8](try enc.encode(rec)) + [10]
        let id = ObjectID.hash(bytes).hex
        _ = try backend.create("prunes/\(id).json", bytes)
        return id
    }

    /// Commits whose file data remote prunes released.
    public func remotePruned() throws -> Set<ObjectID> {
        var out = Set<ObjectID>()
        for key in try backend.list(prefix: "prunes/") where key.hasSuffix(".json") {
            guard let obj = try backend.get(key) else { continue }
            guard ObjectID.hash(obj.bytes).hex + ".json" == String(key.dropFirst("prunes/".count)),
                let rec = try? JSONDecoder().decode(RemotePruneRecord.self, from: Data(obj.bytes)), rec.format == "strata-prune"
            else { throw RemoteSyncError.corruptRemote(remote: backend.displayName, key: key, reason: "not a prune record") }
            for h in rec.commits { if let id = ObjectID(hex: h) { out.insert(id) } }
        }
        return out
    }

    /// The remote's history as the retention engine sees it: every commit reachable from its branches and tags
    /// (fetched first, history only), with the refs.
    public func remoteHistory() throws -> (commits: [ObjectID: Commit], branches: [(String, ObjectID)], tags: [(String, ObjectID)]) {
        var scratch = SyncReport()
        let refs = try fetchHistory(&scratch).refs
        var commits: [ObjectID: Commit] = [:]
        var stack = refs.values.map(\.target)
        while let c = stack.popLast() {
            guard commits[c] == nil else { continue }
            let commit = try repo.commit(c)
            commits[c] = commit
            stack.append(contentsOf: commit.parents)
        }
        let heads = refs.filter { $0.key.hasPrefix("refs/heads/") }.map { (String($0.key.dropFirst("refs/heads/".count)), $0.value.target) }
        let tags = refs.filter { $0.key.hasPrefix("refs/tags/") }.map { (String($0.key.dropFirst("refs/tags/".count)), $0.value.target) }
        return (commits, heads, tags)
    }

    /// Takes the gc lease (`locks/gc.lease`, create-only, with an expiry); an expired lease is taken over by
    /// compare-and-swap. Pushes and fetches never look at it.
    func takeLease(seconds: Int64) throws -> (etag: String, tookOver: Bool) {
        let now = Posix.nowNs() / 1_000_000_000
        let value = Array("{\"expires\":\(now + seconds),\"holder\":\"\(Posix.randomHex(8))\"}\n".utf8)
        if case .written(let etag) = try backend.create(RemoteLayout.leaseKey, value) { return (etag, false) }
        guard let current = try backend.get(RemoteLayout.leaseKey) else { return try takeLease(seconds: seconds) }
        let obj = try? JSONSerialization.jsonObject(with: Data(current.bytes)) as? [String: Any]
        let expires = (obj?["expires"] as? NSNumber)?.int64Value ?? 0
        guard expires <= now else { throw RemoteSyncError.leaseHeld(remote: backend.displayName, until: expires) }
        guard case .written(let etag) = try backend.put(RemoteLayout.leaseKey, value, ifMatch: current.etag) else {
            throw RemoteSyncError.leaseHeld(remote: backend.displayName, until: expires)
        }
        return (etag, true)
    }

    /// Reads the entries a pack's trailer lists (to check a pack before it is deleted, or to index it again).
    func packEntries(_ pack: String, size: Int64) throws -> [RemoteObject] {
        let key = RemoteLayout.packKey(pack)
        let fixed = Int64(RemoteLayout.trailerFixed)
        guard size >= fixed else { throw RemoteSyncError.corruptRemote(remote: backend.displayName, key: key, reason: "no trailer") }
        let tail = try backend.getRange(key, offset: size - fixed, length: Int(fixed))
        guard let count = RemoteLayout.trailerCount(tail), Int64(RemoteLayout.trailerSize(count)) <= size else {
            throw RemoteSyncError.corruptRemote(remote: backend.displayName, key: key, reason: "no trailer index")
        }
        let whole = Int64(RemoteLayout.trailerSize(count))
        let trailer = try backend.getRange(key, offset: size - whole, length: Int(whole))
        guard let entries = RemoteLayout.decodePackTrailer(trailer, pack: pack) else {
            throw RemoteSyncError.corruptRemote(remote: backend.displayName, key: key, reason: "its trailer index fails its checksum")
        }
        return entries
    }

    /// Garbage-collects the remote while others push: marks everything its branches and tags reach (re-reading the
    /// refs until they hold still) and everything a push's fragment younger than `grace` pins, writes one index
    /// fragment with the live objects that supersedes every other fragment it read, stops indexing packs with nothing
    /// live ("dropped"), and deletes only packs that no current fragment indexes, or that it drops, and that were
    /// dropped, or written, more than `grace` seconds ago, after checking each one's trailer for live objects (a push
    /// that relied on a dropped pack gets it indexed again instead).
    public func gc(grace: Int64, leaseSeconds: Int64 = 900, dryRun: Bool = false) throws -> RemoteGCReport {
        var report = RemoteGCReport()
        let lease = dryRun ? nil : try takeLease(seconds: leaseSeconds)
        report.tookOverLease = lease?.tookOver ?? false
        defer { if lease != nil { try? backend.delete(RemoteLayout.leaseKey) } }
        let now = Posix.nowNs() / 1_000_000_000
        let state = try index.sync(backend, width: connections)
        // Mark, until the refs hold still.
        let pruned = try remotePruned()
        var live = Set<ObjectID>()
        var lastRefs: [String: ObjectID] = [:]
        for _ in 0..<10 {
            let (commits, _, _) = try remoteHistory()
            let refs = try remoteRefs().mapValues(\.target)
            var seenTrees: [ObjectID: Bool] = [:]
            for (id, c) in commits {
                live.insert(id)
                try markTree(c.tree, data: !pruned.contains(id), live: &live, seen: &seenTrees)
            }
            report.liveCommits = commits.count
            report.prunedCommits = commits.keys.filter { pruned.contains($0) }.count
            let again = try remoteRefs().mapValues(\.target)
            if again == refs && again == lastRefs { break }
            lastRefs = again
        }
        // A push's fragment younger than the grace period pins what it lists: the push may still be about to move a ref
        // to a commit that needs an object no ref reaches yet. Such a fragment is neither superseded nor deleted here.
        let fragments = state.listed
        let pinning = try index.pushFragments(among: fragments).filter { now - (state.written[$0] ?? now) < grace }
        try markPinned(try index.objects(inFragments: pinning), pruned: pruned, live: &live)
        let replaced = fragments.filter { !pinning.contains($0) }
        report.liveObjects = live.count
        // What the current fragments index, per pack.
        var byPack: [String: [RemoteObject]] = [:]
        for o in try index.all() { byPack[o.pack, default: []].append(o) }
        let listed = try backend.listDetailed(prefix: "packs/")
        var sizes: [String: Int64] = [:]
        for o in listed where o.key.hasSuffix(".pack") { sizes[String(o.key.dropFirst("packs/".count).dropLast(".pack".count))] = o.size }
        var keep: [RemoteObject] = []
        var newlyDropped: [(pack: String, time: Int64)] = []
        var repack: [RemoteObject] = []
        for (pack, objects) in byPack {
            let alive = objects.filter { live.contains($0.id) }
            report.objectsDropped += objects.count - alive.count
            // A pack a young push fragment kept indexed after an earlier gc dropped it keeps its first drop time.
            let firstDropped = state.dropped[pack] ?? now
            if alive.isEmpty { newlyDropped.append((pack, firstDropped)); continue }
            // A pack mostly dead is rewritten: its live frames go to a new pack, the old one is dropped.
            var frames: [Int64: Int64] = [:]
            for o in alive { frames[o.frameOffset] = o.frameLength }
            let liveBytes = frames.values.reduce(0, +)
            if let size = sizes[pack], liveBytes * 2 < size, !dryRun {
                repack += alive
                newlyDropped.append((pack, firstDropped))
                report.packsRewritten += 1
            } else {
                keep += alive
            }
        }
        if !repack.isEmpty { keep += try rewrite(repack) }
        var kept = Set(keep.map(\.id))
        let keptPacks = Set(keep.map(\.pack))
        report.packsDropped = newlyDropped.count
        // Packs nobody indexes: delete after the grace period, unless their trailer shows live objects.
        var stillDropped: [(pack: String, time: Int64)] = newlyDropped
        var toDelete: [(String, Int64)] = []
        // Packs this gc stops indexing count from when they were first dropped (now, unless an earlier gc dropped them
        // while a young push fragment still indexed them).
        let emptied = Dictionary(newlyDropped.map { ($0.pack, $0.time) }, uniquingKeysWith: min)
        for obj in listed where obj.key.hasSuffix(".pack") {
            let pack = String(obj.key.dropFirst("packs/".count).dropLast(".pack".count))
            guard byPack[pack] == nil || emptied[pack] != nil, !keptPacks.contains(pack) else { continue }
            let since = emptied[pack] ?? state.dropped[pack] ?? obj.modified
            if now - since < grace {
                report.packsInGrace += 1
                if emptied[pack] == nil, let t = state.dropped[pack] { stillDropped.append((pack, t)) }
                continue
            }
            let entries = (try? packEntries(pack, size: obj.size)) ?? []
            let orphaned = entries.filter { live.contains($0.id) && !kept.contains($0.id) }
            if !orphaned.isEmpty {
                keep += orphaned
                kept.formUnion(orphaned.map(\.id))
                report.packsRestored += 1
                continue
            }
            toDelete.append((obj.key, obj.size))
            stillDropped.removeAll { $0.pack == pack }
        }
        // One fragment for everything live; it supersedes every fragment this gc read.
        let changed =
            !newlyDropped.isEmpty || report.packsRestored > 0 || replaced.count > 1 || report.objectsDropped > 0
            || stillDropped.count != state.dropped.count
        if !dryRun && changed {
            // It supersedes every fragment listed (superseded ones too: were one of those left behind by a killed gc and
            // the fragment that superseded it deleted, it would count again), except the pinning ones.
            let fragment = IndexFragment(supersedes: replaced, dropped: stillDropped, entries: keep)
            let bytes = fragment.encoded()
            let name = ObjectID.hash(bytes).hex
            _ = try backend.create(RemoteLayout.indexKey(name), bytes)
            try index.record(name, fragment)
            for old in replaced where old != name { try backend.delete(RemoteLayout.indexKey(old)) }
            report.fragmentsCompacted = state.current.count
        }
        if !dryRun {
            try concurrently(toDelete.count, width: connections) { [backend, toDelete] i in try backend.delete(toDelete[i].0) }
        }
        report.packsDeleted = toDelete.count
        report.bytesDeleted = toDelete.reduce(0) { $0 + $1.1 }
        report.transfer = transfer
        return report
    }

    /// Copies the frames holding `objects` (verified) into new packs of about `packTarget` bytes and uploads them;
    /// returns the objects' new places.
    func rewrite(_ objects: [RemoteObject]) throws -> [RemoteObject] {
        struct Key: Hashable { var pack: String; var offset: Int64 }
        var frames: [Key: [RemoteObject]] = [:]
        for o in objects { frames[Key(pack: o.pack, offset: o.frameOffset), default: []].append(o) }
        let keys = frames.keys.sorted { ($0.pack, $0.offset) < ($1.pack, $1.offset) }
        let display = backend.displayName
        return try uploadPacks(keys, length: { [frames] in frames[$0]![0].frameLength }, scratch: "repack") { [backend, frames] k in
            let members = frames[k]!
            let stored = try backend.getRange(RemoteLayout.packKey(k.pack), offset: k.offset, length: Int(members[0].frameLength))
            do { try ObjectStore.verifyFrame(stored, members: members.map(\.member), source: "remote pack \(k.pack)") } catch {
                throw RemoteSyncError.corruptRemote(remote: display, key: RemoteLayout.packKey(k.pack), reason: "\(error)")
            }
            return (stored, members.map(\.member))
        }
    }

    /// Marks what young push fragments list, with everything those objects need: a commit with its ancestors and their
    /// trees (file data unless pruned), a tree with what it holds, a chunked file with its chunks. The commits and trees
    /// are in this store: `remoteHistory` downloaded every commit and tree the index lists.
    func markPinned(_ pinned: [RemoteObject], pruned: Set<ObjectID>, live: inout Set<ObjectID>) throws {
        var seenTrees: [ObjectID: Bool] = [:]
        var commits: [ObjectID] = []
        for o in pinned {
            switch o.kind {
            case .commit: commits.append(o.id)
            case .tree: try markTree(o.id, data: true, live: &live, seen: &seenTrees)
            case .chunked:
                if live.insert(o.id).inserted { for c in try chunks(of: o.id, at: o).chunks { live.insert(c.id) } }
            default: live.insert(o.id)
            }
        }
        var seenCommits = Set<ObjectID>()
        while let c = commits.popLast() {
            guard seenCommits.insert(c).inserted, try repo.objects.contains(c) else { continue }
            live.insert(c)
            let commit = try repo.commit(c)
            try markTree(commit.tree, data: !pruned.contains(c), live: &live, seen: &seenTrees)
            commits.append(contentsOf: commit.parents)
        }
    }

    /// Marks a tree and what it holds; file data only when `data` (its commit was not pruned). A tree seen before
    /// without data is walked again when a commit that keeps its data reaches it.
    func markTree(_ id: ObjectID, data: Bool, live: inout Set<ObjectID>, seen: inout [ObjectID: Bool]) throws {
        if let before = seen[id], before || !data { return }
        seen[id] = data
        live.insert(id)
        if id == Tree.empty.id { return }
        for e in try repo.tree(id).entries {
            if e.kind == .directory { try markTree(e.id, data: data, live: &live, seen: &seen); continue }
            guard data || e.kind == .symlink else { continue }
            guard live.insert(e.id).inserted, let loc = try index.location(e.id), loc.kind == .chunked else { continue }
            for c in try chunks(of: e.id, at: loc).chunks { live.insert(c.id) }
        }
    }

    /// A chunked file's list: from this store when it has it, else read from the remote (verified by its checksum).
    func chunks(of id: ObjectID, at loc: RemoteObject) throws -> ChunkList {
        if try repo.objects.kind(of: id) == .chunked { return try repo.objects.chunkList(id) }
        let stored = try backend.getRange(RemoteLayout.packKey(loc.pack), offset: loc.frameOffset, length: Int(loc.frameLength))
        try ObjectStore.verifyFrame(stored, members: [loc.member], source: "remote pack \(loc.pack)")
        let raw = try ObjectStore.verifiedRaw(stored)
        guard let list = ChunkList.decode(Array(raw[Int(loc.offset)..<Int(loc.offset + loc.length)])) else {
            throw RemoteSyncError.corruptRemote(remote: backend.displayName, key: RemoteLayout.packKey(loc.pack), reason: "chunk list of \(id.short)")
        }
        return list
    }
}
