import Foundation
import StrataModel
import StrataLineage
import StrataObjects
import StrataPlatform
import StrataRemote
import StrataRepository
import StrataWorkflows

/// What a store request asks of a namespace, as the policy sees it.
enum KeyClass: Equatable {
    /// `refs/heads/NAME` or `refs/tags/NAME`: the name matched against patterns (`main`, `tags/v1`).
    case ref(full: String, short: String, isTag: Bool)
    /// `packs/<sha256>.pack`.
    case pack(String)
    /// `index/<sha256>.idx`.
    case index(String)
    /// `HEAD`, the remote's default branch.
    case head
    /// `STRATA`, the remote's marker (the server writes it).
    case marker
    /// `locks/gc.lease`.
    case lease
    /// `.strata-probe/…`, written and deleted by the capability probe of `remote add`.
    case probe
    /// `prunes/<sha256>.json`, a remote prune record.
    case prune(String)
    /// `lineage/<commit>.json`, a commit's lineage bundle.
    case lineage(String)
    /// `checks/<commit>-<16 hex>.json`, a verification check the server signs.
    case check(String)

    init(_ key: String) throws {
        try RemoteError.check(key)
        if key.hasPrefix("refs/heads/") || key.hasPrefix("refs/tags/") {
            let isTag = key.hasPrefix("refs/tags/")
            let name = String(key.dropFirst(isTag ? "refs/tags/".count : "refs/heads/".count))
            guard (try? BranchName(name)) != nil else { throw ServerError.badRequest("'\(key)' is not a valid ref name") }
            self = .ref(full: key, short: isTag ? "tags/" + name : name, isTag: isTag)
        } else if key.hasPrefix("packs/"), key.hasSuffix(".pack"), IndexFragment.isHex64(key.dropFirst(6).dropLast(5)) {
            self = .pack(String(key.dropFirst(6).dropLast(5)))
        } else if key.hasPrefix("index/"), key.hasSuffix(".idx"), IndexFragment.isHex64(key.dropFirst(6).dropLast(4)) {
            self = .index(String(key.dropFirst(6).dropLast(4)))
        } else if key == RemoteLayout.headKey {
            self = .head
        } else if key == "STRATA" {
            self = .marker
        } else if key == RemoteLayout.leaseKey {
            self = .lease
        } else if key.hasPrefix("prunes/"), key.hasSuffix(".json"), IndexFragment.isHex64(key.dropFirst(7).dropLast(5)) {
            self = .prune(String(key.dropFirst(7).dropLast(5)))
        } else if key.hasPrefix("lineage/"), key.hasSuffix(".json"), IndexFragment.isHex64(key.dropFirst(8).dropLast(5)) {
            self = .lineage(String(key.dropFirst(8).dropLast(5)))
        } else if key.hasPrefix("checks/"), key.hasSuffix(".json"), key.utf8.count == 7 + 64 + 1 + 16 + 5,
            IndexFragment.isHex64(key.dropFirst(7).prefix(64)), key.dropFirst(7 + 64).first == "-"
        {
            self = .check(String(key.dropFirst(7).prefix(64)))
        } else if key.hasPrefix(".strata-probe/"), key.split(separator: "/").count == 2 {
            self = .probe
        } else {
            throw ServerError.badRequest("'\(key)' is not a key of the remote layout")
        }
    }
}

/// One namespace of the server: its remote (the layout clients push to and fetch from, in a folder or on S3) and a
/// mirror store that holds its history (commits and trees, verified on arrival) and fetches file data on demand. The
/// mirror lets the server check a ref move (the commit and everything below it were pushed and verified; fast-forward;
/// protection) and answer the JSON API with the repository facade, as the command line does.
final class Namespace: @unchecked Sendable {
    let name: String
    let backend: any RemoteBackend
    let mirror: Repository
    let sync: RemoteSync
    /// Serialises ref moves and mirror updates: the check and the compare-and-swap happen as one step.
    let lock = NSLock()
    /// Serialises catalogue builds (each may evaluate the commit's Pipeline.swift).
    let catalogLock = NSLock()
    /// Trees whose every file is known to be on the remote (bounded; cleared when it grows too large).
    var verifiedTrees = Set<ObjectID>()
    /// Commits whose trees were checked.
    var verifiedCommits = Set<ObjectID>()

    init(root: String, name: String, storage: String, environment: [String: String]) throws {
        self.name = name
        let location = try RemoteLocation(url: storage)
        backend = try location.backend(environment: environment)
        _ = try RemoteMarker.ensure(backend)
        let dir = root + "/ns/" + name + "/mirror"
        if (try? Posix.lstat(dir + "/.strata")) ?? nil == nil {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let repo = try StoreSchemas.initialize(at: dir)
            try repo.setConfig("remote.origin.url", storage)
            try repo.setConfig(Repository.partialKey, "origin")
            mirror = repo
        } else {
            mirror = try StoreSchemas.discover(from: dir)
        }
        mirror.setObjectSupplier(RemoteSupplier(name: "origin", backend: backend, connections: 8))
        sync = try RemoteSync(repo: mirror, name: "origin", backend: backend, connections: 8)
        try refresh()
    }

    /// Brings the mirror up to date with the remote: history, then refs (branches and tags as the remote has them).
    func refresh() throws {
        lock.lock()
        defer { lock.unlock() }
        try mirror.withWriteLock {
            _ = try sync.downloadHistory()
            let remote = try sync.remoteRefs()
            for r in try mirror.refs(prefix: "refs/heads/") + mirror.refs(prefix: "refs/tags/") where remote[r.name] == nil {
                try mirror.updateRef(r.name, expected: r.target, new: nil, message: "server: gone on the remote")
            }
            for (ref, v) in remote where try mirror.ref(ref) != v.target {
                guard try mirror.objects.contains(v.target) else { continue }
                try mirror.updateRef(ref, expected: try mirror.ref(ref), new: v.target, message: "server: refreshed from the remote")
            }
        }
    }

    /// Checks that `target` is a commit whose history and files were all pushed (each pack was verified on arrival):
    /// every commit and tree is in the mirror, every file is listed in the remote's index.
    /// The lineage bundle a push stored for `commit` (`lineage/<commit>.json`), as stored; nil when none was pushed.
    func lineageBundle(_ commit: ObjectID) throws -> [UInt8]? { try backend.get(RemoteLayout.lineageKey(commit.hex))?.bytes }

    func checkComplete(_ target: ObjectID, ref: String) throws {
        _ = try sync.downloadHistory()
        guard try mirror.objects.contains(target), try mirror.objects.kind(of: target) == .commit else {
            throw ServerError.verification(key: ref, reason: "commit \(target.hex) is in no pack pushed here; push its objects first")
        }
        var stack = [target]
        var fresh: [ObjectID] = []
        var seen = Set<ObjectID>()
        while let c = stack.popLast() {
            guard seen.insert(c).inserted, !verifiedCommits.contains(c) else { continue }
            guard try mirror.objects.contains(c) else {
                throw ServerError.verification(key: ref, reason: "commit \(c.hex), an ancestor of \(target.short), is in no pack pushed here")
            }
            let commit = try mirror.commit(c)
            fresh.append(c)
            stack.append(contentsOf: commit.parents)
        }
        if verifiedTrees.count > 2_000_000 { verifiedTrees.removeAll() }
        func walk(_ tree: ObjectID, _ path: String) throws {
            guard tree != Tree.empty.id, !verifiedTrees.contains(tree) else { return }
            guard try mirror.objects.contains(tree) else {
                throw ServerError.verification(key: ref, reason: "folder '\(path)' (tree \(tree.hex)) was not pushed")
            }
            for e in try mirror.tree(tree).entries {
                let p = path.isEmpty ? e.name : path + "/" + e.name
                if e.kind == .directory {
                    try walk(e.id, p)
                } else if try !sync.remoteHas(e.id) {
                    throw ServerError.verification(key: ref, reason: "file '\(p)' (\(e.id.hex)) is in no pack pushed here")
                }
            }
            verifiedTrees.insert(tree)
        }
        for c in fresh.reversed() {
            try walk(try mirror.commit(c).tree, "")
            verifiedCommits.insert(c)
        }
    }

    /// The commits `new` brings that `old` does not have (all of them when `old` is nil), newest first.
    func newCommits(from new: ObjectID, since old: ObjectID?) throws -> [ObjectID] {
        var out: [ObjectID] = []
        var stack = [new]
        var seen = Set<ObjectID>()
        while let c = stack.popLast(), out.count < 100_000 {
            guard seen.insert(c).inserted else { continue }
            if let old, try c == old || mirror.isAncestor(c, of: old) { continue }
            out.append(c)
            stack.append(contentsOf: try mirror.commit(c).parents)
        }
        return out
    }

    /// Checks `commit`'s lineage bundle on the remote the way `strata lineage verify` checks a commit: a bundle that
    /// reports no problem, a COMPLETE commit run with a PROV document, and a COMPLETE generating run for every file
    /// (or the folder dataset holding it) in the commit's tree. Returns what is wrong ("" when nothing).
    func lineageProblem(_ commit: ObjectID) throws -> String {
        guard let bytes = try lineageBundle(commit) else { return "commit \(commit.short) has no lineage bundle" }
        guard let b = LineageBundle.decode(bytes), b.commit == commit.hex else { return "commit \(commit.short)'s lineage bundle is malformed" }
        if let first = b.problems.first { return "commit \(commit.short): \(first)" }
        let complete = Set(b.runs.filter { $0.status == .complete }.map(\.runId))
        guard complete.contains(b.commitRun), !b.prov.isEmpty else { return "commit \(commit.short) has no COMPLETE commit run with PROV" }
        var missing = 0
        func walk(_ tree: ObjectID) throws {
            for e in try mirror.tree(tree).entries {
                if let run = b.generations[e.id.hex], complete.contains(run) { continue }
                if e.kind == .directory { try walk(e.id) } else { missing += 1 }
            }
        }
        try walk(try mirror.commit(commit).tree)
        return missing == 0 ? "" : "commit \(commit.short): \(missing) file version(s) without a completed producing run"
    }

    /// The checks signed with `key` that `commit` has passed.
    func passedChecks(_ commit: ObjectID, key: [UInt8]) throws -> Set<String> {
        var out = Set<String>()
        for k in try backend.list(prefix: "checks/\(commit.hex)-") {
            guard let obj = try backend.get(k), let r = CheckRecord.decode(obj.bytes), r.commit == commit.hex, let sig = r.signature,
                ServerStore.constantTimeEqual(Array(sig.utf8), Array(try r.signature(key: key).utf8))
            else { continue }
            out.formUnion(r.checks)
        }
        return out
    }

    /// The first-parent commits from `new` back to (not including) `old`.
    func firstParentChain(from new: ObjectID, to old: ObjectID?) throws -> [ObjectID] {
        var out: [ObjectID] = []
        var c: ObjectID? = new
        while let id = c, id != old, out.count < 100_000 {
            out.append(id)
            c = try mirror.commit(id).parents.first
        }
        return out
    }
}
