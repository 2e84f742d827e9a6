import StrataModel
import StrataObjects
import StrataPlatform
import StrataSQLite

/// What kind of problem fsck found (the raw value is what `fsck` and `fsck --json` print).
public enum FsckProblemKind: String, Sendable, Equatable, CaseIterable {
    /// Bytes that do not hash to their id, a damaged frame or pack.
    case corrupt
    /// An object a reachable commit needs is not in the store.
    case missing
    /// A chunked file whose chunk list names a missing chunk.
    case incomplete
    /// A value that does not decode (an index row, a tree, a commit).
    case malformed
    /// A tree entry checkout refuses (`..`, `.strata`, a NUL).
    case unsafeName = "unsafe-name"
    /// A ref naming a commit the store does not have.
    case danglingRef = "dangling-ref"
    /// A pack the index lists is not on disk.
    case missingPack = "missing-pack"
}

/// One problem `fsck` found.
public struct FsckProblem: Sendable, Equatable {
    /// What kind of problem.
    public var kind: FsckProblemKind
    /// The object concerned, if any.
    public var object: ObjectID?
    /// Where it was reached from (ref, commit and path).
    public var location: String
    /// What is wrong.
    public var message: String
}

/// The result of `fsck`.
public struct FsckReport: Sendable {
    /// Objects whose bytes were re-hashed.
    public var objectsChecked: Int
    /// Commits reachable from refs, HEAD and the reflog.
    public var commitsChecked: Int
    /// Bytes re-read.
    public var bytesChecked: UInt64
    /// Problems (empty when the store is sound).
    public var problems: [FsckProblem]
    /// Harmless leftovers (temporary packs of interrupted writes).
    public var notes: [String]
    /// True when there are no problems.
    public var isClean: Bool { problems.isEmpty }
}

extension Repository {
    /// Re-hashes every stored object and checks every reachable commit and tree.
    public func fsck(progress: ProgressHandler? = nil) throws -> FsckReport {
        var problems: [FsckProblem] = []
        var notes: [String] = []
        let orphans = try db.scalarInt("SELECT count(*) FROM objects WHERE pack NOT IN (SELECT id FROM packs)") ?? 0
        if orphans > 0 {
            problems.append(
                FsckProblem(kind: .malformed, object: nil, location: "objects index", message: "\(orphans) index rows name a pack the index does not list"))
        }
        var packs: [String] = []
        try db.query("SELECT name FROM packs ORDER BY id") { r in packs.append(r.text(0)) }
        let onDisk = Set(objects.packFilesOnDisk())
        for p in packs where !onDisk.contains(p) {
            problems.append(FsckProblem(kind: .missingPack, object: nil, location: "objects/packs/\(p)", message: "pack file is missing"))
        }
        for p in packs where onDisk.contains(p) {
            do { try objects.verifyPackMagic(p) } catch {
                problems.append(FsckProblem(kind: .corrupt, object: nil, location: "objects/packs/\(p)", message: "\(error)"))
            }
        }
        for p in onDisk.sorted() where !packs.contains(p) {
            notes.append("pack \(p) is not indexed (left by an interrupted write, or its index was lost); gc keeps it unless run with --force")
        }
        let tmp = ((try? Posix.listDirectory(objects.packsPath)) ?? []).filter { $0.hasPrefix("tmp-") }
        for t in tmp { notes.append("temporary pack \(t) left by an interrupted write (gc removes it)") }
        // 1. Every indexed object: its bytes hash to its id. Read in pack and frame order (each frame is
        // decompressed once) while the index streams by: no list of the index is held (10⁶ objects: 40 MB).
        var bytes: UInt64 = 0
        var checked = 0
        var chunkedKinds: [ObjectID] = []
        let total = Int(try db.scalarInt("SELECT count(*) FROM objects") ?? 0)
        var i = 0
        try db.query("SELECT o.id, o.kind FROM objects o ORDER BY o.pack, o.frame_offset, o.offset") { r in
            defer { i += 1 }
            let id: ObjectID
            do { id = try ObjectID(validating: r.blob(0), what: "objects index") } catch {
                problems.append(FsckProblem(kind: .malformed, object: nil, location: "objects index", message: "\(error)")); return
            }
            guard let kind = ObjectKind(rawValue: r.int(1)) else {
                problems.append(FsckProblem(kind: .malformed, object: id, location: "objects index", message: "unknown object kind \(r.int(1))")); return
            }
            do {
                if kind == .chunked { chunkedKinds.append(id); return }
                let (_, b) = try objects.readPayload(id)
                bytes += UInt64(b.count)
                checked += 1
            } catch {
                problems.append(FsckProblem(kind: kindOf(error), object: id, location: "objects index", message: "\(error)"))
            }
            if i % 512 == 0 { progress?(ProgressReport(phase: "checking objects", files: i, totalFiles: total, bytes: bytes, totalBytes: 0)) }
        }
        // The completeness invariant: an indexed chunked file has every chunk, and they reassemble to its id.
        for id in chunkedKinds {
            do {
                try objects.streamFile(id) { bytes += UInt64($0.count) }
                checked += 1
            } catch {
                problems.append(FsckProblem(kind: kindOf(error), object: id, location: "objects index", message: "\(error)"))
            }
        }
        // 2. Reachability from refs, HEAD and the reflog.
        var roots: [(String, ObjectID)] = []
        for (b, t) in try refs.branches() { roots.append(("branch \(b)", t)) }
        for t in try refs.tags() { roots.append(("tag \(t.name)", t.target)) }
        if let h = try refs.headCommit() { roots.append(("HEAD", h)) }
        for e in try refs.reflog(nil) { if let n = e.new { roots.append(("reflog \(e.ref)@\(e.sequence)", n)) } }
        var seenCommits = Set<ObjectID>(), seenTrees = Set<ObjectID>()
        let pruned = (try? prunedCommits()) ?? []
        let partial = try partialRemote()
        var promised = Set<ObjectID>()
        var stack = roots
        while let (from, id) = stack.popLast() {
            guard seenCommits.insert(id).inserted else { continue }
            let c: Commit
            do { c = try commit(id) } catch {
                problems.append(FsckProblem(kind: kindOf(error), object: id, location: from, message: "commit: \(error)"))
                continue
            }
            for p in c.parents { stack.append(("\(id.short)^", p)) }
            checkTree(
                c.tree, location: "commit \(id.short)", path: "", dataRequired: !pruned.contains(id), partial: partial != nil, seen: &seenTrees,
                promised: &promised, problems: &problems)
        }
        if let partial, !promised.isEmpty {
            notes.append(
                "partial store: \(promised.count) files are not downloaded yet; checkout fetches them from '\(partial)' ('strata fetch --all-data' takes all)")
        }
        return FsckReport(objectsChecked: checked, commitsChecked: seenCommits.count, bytesChecked: bytes, problems: problems, notes: notes)
    }

    func kindOf(_ error: Error) -> FsckProblemKind {
        switch error {
        case ObjectError.missing: return .missing
        case ObjectError.corrupt, ObjectError.corruptPack, ObjectError.packMissing: return .corrupt
        case ObjectError.incomplete: return .incomplete
        case ModelError.unsafeEntryName: return .unsafeName
        default: return .malformed
        }
    }

    func checkTree(
        _ id: ObjectID, location: String, path: String, dataRequired: Bool, partial: Bool, seen: inout Set<ObjectID>, promised: inout Set<ObjectID>,
        problems: inout [FsckProblem]
    ) {
        guard seen.insert(id).inserted else { return }
        let t: Tree
        do { t = try tree(id) } catch {
            problems.append(FsckProblem(kind: kindOf(error), object: id, location: "\(location):\(path.isEmpty ? "/" : path)", message: "tree: \(error)"))
            return
        }
        for e in t.entries {
            let p = path.isEmpty ? e.name : path + "/" + e.name
            if path.isEmpty && WorkspacePath.reserved.contains(e.name) {
                problems.append(
                    FsckProblem(
                        kind: .unsafeName, object: id, location: "\(location):\(p)",
                        message: "entry '\(e.name)' names the store or .git folder; checkout refuses it"))
                continue
            }
            if e.kind == .directory {
                checkTree(
                    e.id, location: location, path: p, dataRequired: dataRequired, partial: partial, seen: &seen, promised: &promised, problems: &problems)
            } else if dataRequired || e.kind == .symlink {
                let kind = try? objects.kind(of: e.id)
                if kind == nil && partial {
                    promised.insert(e.id)
                } else if kind == nil {
                    problems.append(FsckProblem(kind: .missing, object: e.id, location: "\(location):\(p)", message: "file data is missing"))
                } else if kind == .chunked, let gone = try? objects.missingPart(of: e.id) {
                    problems.append(
                        FsckProblem(kind: .incomplete, object: e.id, location: "\(location):\(p)", message: "chunk \(gone.short) of the file is missing"))
                } else if kind != .blob && kind != .chunked {
                    problems.append(
                        FsckProblem(kind: .malformed, object: e.id, location: "\(location):\(p)", message: "entry points at a \(kind!), not file data"))
                }
            }
        }
    }
}
