import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform
import StrataWorkspace

/// The content identity of a workspace path: a file's sha256, or a folder's tree id and file count.
public struct PathFingerprint: Sendable, Equatable, Codable {
    /// What a fingerprinted path is (the raw values are what the run cache and Pipeline.lock store).
    public enum Kind: String, Sendable, Codable { case file, folder, missing }
    /// File, folder or missing.
    public var kind: Kind
    /// sha256 of the file, or the tree id of the folder.
    public var sha256: String?
    /// Bytes (a folder: all files below it).
    public var size: UInt64
    /// Files below a folder (1 for a file).
    public var files: Int

    /// A path that does not exist.
    public static let missing = PathFingerprint(kind: .missing, sha256: nil, size: 0, files: 0)
}

extension Repository {
    /// Fingerprints workspace paths (a trailing `/` or an existing folder means a folder), hashing only what the
    /// stat cache cannot vouch for. With `session`, the files and trees are also stored.
    public func fingerprint(_ paths: [String], session: WriteSession? = nil) throws -> [String: PathFingerprint] {
        var out: [String: PathFingerprint] = [:]
        let clean = paths.map { ($0, $0.slashSeparated().joined(separator: "/")) }
        let (listing, updates) = try snapshot(paths: clean.map(\.1), session: session, progress: nil)
        try? statCache.update(updates)
        for (original, p) in clean {
            let st = try Posix.lstat(p.isEmpty ? root : root + "/" + p)
            let isFolder = original.hasSuffix("/") || (st?.isDirectory ?? false)
            if st == nil { out[original] = .missing; continue }
            if !isFolder, let v = listing[p] {
                out[original] = PathFingerprint(kind: .file, sha256: v.id.hex, size: v.size, files: 1)
                continue
            }
            var sub: [String: FileVersion] = [:]
            for (path, v) in listing where path.hasPrefix(p + "/") { sub[String(path.dropFirst(p.count + 1))] = v }
            let tree = try writeTree(sub, session: session)
            out[original] = PathFingerprint(kind: .folder, sha256: tree.hex, size: sub.values.reduce(0) { $0 + $1.size }, files: sub.count)
        }
        return out
    }

    /// Fingerprints paths below any folder, the same way as `fingerprint(_:)` but without a store (nothing cached,
    /// nothing stored): how reproduced outputs in a scratch folder are compared with the record.
    public static func fingerprint(_ paths: [String], in directory: String) throws -> [String: PathFingerprint] {
        var out: [String: PathFingerprint] = [:]
        for original in paths {
            let p = original.slashSeparated().joined(separator: "/")
            guard let st = try Posix.lstat(p.isEmpty ? directory : directory + "/" + p) else { out[original] = .missing; continue }
            var listing: [String: FileVersion] = [:]
            for e in try Scanner(root: directory).scan(only: [p]) {
                let full = directory + "/" + e.path
                if e.kind == .symlink {
                    let (id, size, _) = try ContentHasher.hashSymlink(full)
                    listing[e.path] = FileVersion(kind: .symlink, id: id, size: size)
                } else {
                    guard let (id, size, s) = try ContentHasher.hashFile(full) else { throw ObjectError.unstableFile(full) }
                    listing[e.path] = FileVersion(kind: s.isExecutable ? .executable : .file, id: id, size: size)
                }
            }
            if !(original.hasSuffix("/") || st.isDirectory), let v = listing[p] {
                out[original] = PathFingerprint(kind: .file, sha256: v.id.hex, size: v.size, files: 1)
                continue
            }
            var sub: [String: FileVersion] = [:]
            for (path, v) in listing where path.hasPrefix(p + "/") { sub[String(path.dropFirst(p.count + 1))] = v }
            let tree = try Repository.treeID(of: sub)
            out[original] = PathFingerprint(kind: .folder, sha256: tree.hex, size: sub.values.reduce(0) { $0 + $1.size }, files: sub.count)
        }
        return out
    }

    /// Stores workspace outputs in the object store (chunked, deduplicated) and returns their fingerprints.
    public func storeOutputs(_ paths: [String]) throws -> [String: PathFingerprint] {
        if paths.isEmpty { return [:] }
        return try withWriteLock {
            let session = objects.beginWrite()
            do {
                let fps = try fingerprint(paths, session: session)
                try session.finishPacks()
                // Relaxed: the packs are durable already; on power loss only these index rows could go (leaving
                // orphan packs for gc), never committed data — commits index their objects with a full fsync.
                try db.relaxedTransaction { try session.recordIndex() }
                return fps
            } catch { session.abort(); throw error }
        }
    }

    /// True when the store holds everything needed to restore these fingerprints.
    public func canRestore(_ fps: [String: PathFingerprint]) -> Bool {
        for (_, f) in fps {
            guard let hex = f.sha256, let id = ObjectID(hex: hex) else { if f.kind == .missing { continue }; return false }
            if f.kind == .file {
                if (try? objects.contains(id)) != true { return false }
            } else if f.kind == .folder {
                if f.files == 0 { continue }
                guard let listing = try? flatten(tree: id) else { return false }
                for v in listing.values where v.kind != .symlink { if (try? objects.contains(v.id)) != true { return false } }
            }
        }
        return true
    }

    /// Writes stored outputs back into the workspace (a folder is replaced as a whole).
    public func restoreOutputs(_ fps: [String: PathFingerprint]) throws {
        let mat = Materializer(root: root)
        var cache: [(String, StatCacheEntry)] = []
        let now = Posix.nowNs()
        for (path, f) in fps.sorted(by: { $0.key < $1.key }) {
            let p = path.slashSeparated().joined(separator: "/")
            guard let hex = f.sha256, let id = ObjectID(hex: hex) else { continue }
            if f.kind == .file {
                let st = try mat.writeFile(p, executable: false) { w in try objects.streamFile(id) { try w($0) } }
                cache.append((p, StatCacheEntry(stat: st, id: id, writtenNs: now)))
            } else {
                if let st = try Posix.lstat(root + "/" + p), st.isDirectory { try mat.removeTree(p) }
                try Posix.makeDirectories(root + "/" + p)
                let listing = f.files == 0 ? [:] : try flatten(tree: id)
                for (rel, v) in listing.sorted(by: { $0.key < $1.key }) {
                    let full = p + "/" + rel
                    try mat.validate(full); try mat.makeParents(full)
                    if v.kind == .symlink {
                        var t: [UInt8] = []
                        try objects.streamFile(v.id) { t.append(contentsOf: $0) }
                        _ = try mat.writeSymlink(full, target: t)
                    } else {
                        let st = try mat.writeFile(full, executable: v.kind == .executable) { w in try objects.streamFile(v.id) { try w($0) } }
                        cache.append((full, StatCacheEntry(stat: st, id: v.id, writtenNs: now)))
                    }
                }
            }
        }
        try statCache.update(cache)
    }
}
