import StrataModel
import StrataPlatform
import StrataSQLite
#if canImport(Glibc)
import Glibc
#endif

/// What a sweep removed (or, in a dry run, would remove).
public struct SweepReport: Sendable, Equatable {
    /// Objects whose index rows were removed.
    public var objectsRemoved = 0
    /// Pack files deleted whole.
    public var packsDeleted = 0
    /// Pack files rewritten without their dead frames.
    public var packsRewritten = 0
    /// Bytes of pack files freed on disk.
    public var bytesReclaimed: Int64 = 0
    /// Packs left alone because they are younger than the grace period.
    public var packsInGrace = 0
    /// Leftover files (temporary or unindexed packs) removed.
    public var strayFilesRemoved = 0
    /// Packs left as they are because less than 5 % of them is unused.
    public var packsMostlyLive = 0
    /// Pack files the index does not know, kept because nothing can vouch that their objects are elsewhere
    /// (removed only with `force`).
    public var unindexedPacksKept: [String] = []
    /// Creates an empty report.
    public init() {}
}

extension ObjectStore {
    /// Removes every object that is not in the temp table `liveTable` (one `id` column), pack by pack:
    /// a pack with no live object is deleted, a pack with dead frames is rewritten with its live frames only
    /// (copied verbatim). Packs created at or after `cutoff` (seconds) are never touched. Crash-safe: a new pack
    /// is durable before the index moves to it in one transaction, and an old pack is deleted only afterwards.
    ///
    /// The completeness invariant holds after every transaction of a sweep: an object that stays indexed keeps all
    /// its parts. Objects in packs still in their grace period stay, so their chunks are marked live first; an
    /// object that is not live loses its index row even when its frame stays (because a neighbour in the frame is
    /// live), so a chunk list can never outlive its chunks in the index.
    public func sweep(liveTable: String, cutoff: Int64, dryRun: Bool, removeUnindexed: Bool = false) throws -> SweepReport {
        var report = SweepReport()
        var packs: [(Int64, String, Int64)] = []
        try db.query("SELECT id, name, created FROM packs ORDER BY id") { r in packs.append((r.int(0), r.text(1), r.int(2))) }
        // Objects in grace-period packs are kept whole: their chunks are live too, wherever they are.
        var young: [ObjectID] = []
        try db.query(
            "SELECT o.id FROM objects o JOIN packs p ON p.id = o.pack WHERE o.kind = ? AND p.created >= ?",
            [.int(ObjectKind.chunked.rawValue), .int(cutoff)]
        ) { r in young.append(try ObjectID(validating: r.blob(0), what: "objects index")) }
        for id in young { try markLive(id, table: liveTable) }
        // Dead chunk lists lose their index rows first, in one transaction, before any pack is swept: their chunks may
        // sit in an earlier pack, and sweeping that one first would leave, if the sweep stopped there, an indexed chunk
        // list without its chunks (seen under fault injection when a commit's chunks and chunk list landed in two
        // packs).
        if !dryRun {
            try db.transaction {
                report.objectsRemoved += try db.run(
                    "DELETE FROM objects WHERE kind = ? AND id NOT IN (SELECT id FROM \(liveTable)) AND pack IN (SELECT id FROM packs WHERE created < ?)",
                    [.int(ObjectKind.chunked.rawValue), .int(cutoff)])
                // Their saved SHA-256 states go with them (a cache of files no longer stored).
                try db.run("DELETE FROM chunkstates WHERE id NOT IN (SELECT id FROM objects)")
            }
        }
        for (pack, name, created) in packs {
            if created >= cutoff { report.packsInGrace += 1; continue }
            var total = 0, live = 0
            try db.query(
                "SELECT count(*), coalesce(sum(l.id IS NOT NULL), 0) FROM objects o LEFT JOIN \(liveTable) l ON l.id = o.id WHERE o.pack = ?", [.int(pack)]
            ) { r in
                total = Int(r.int(0)); live = Int(r.int(1))
            }
            if live == total && total > 0 { continue }

            let path = packsPath + "/" + name
            let size = Int64((try Posix.lstat(path))?.size ?? 0)
            if live == 0 {
                report.objectsRemoved += total; report.packsDeleted += 1; report.bytesReclaimed += size
                if dryRun { continue }
                try db.transaction {
                    try db.run("DELETE FROM objects WHERE pack = ?", [.int(pack)])
                    try db.run("DELETE FROM packs WHERE id = ?", [.int(pack)])
                }
                try Posix.unlink(path)
                continue
            }
            // Frames: keep a frame when any object in it is live.
            var frames: [(offset: Int64, length: Int64, live: Bool, objects: Int)] = []
            try db.query(
                """
                SELECT o.frame_offset, o.frame_length, max(l.id IS NOT NULL), count(*) FROM objects o LEFT JOIN \(liveTable) l ON l.id = o.id
                WHERE o.pack = ? GROUP BY o.frame_offset ORDER BY o.frame_offset
                """, [.int(pack)]
            ) { r in frames.append((r.int(0), r.int(1), r.int(2) != 0, Int(r.int(3)))) }
            let deadBytes = frames.filter { !$0.live }.reduce(Int64(0)) { $0 + $1.length }
            report.objectsRemoved += total - live
            // Dead objects lose their rows even when their frame stays for a live neighbour (or the pack is not
            // worth rewriting): the bytes may linger, but the index never vouches for an object gc did not keep whole.
            if !dryRun {
                try db.run("DELETE FROM objects WHERE pack = ? AND id NOT IN (SELECT id FROM \(liveTable))", [.int(pack)])
            }
            if deadBytes == 0 { continue }
            // Like restic's max-unused: copying a pack to reclaim a sliver of it costs more than the sliver is worth.
            if deadBytes * 20 < size { report.packsMostlyLive += 1; continue }
            let newSize = Int64(ObjectStore.packMagic.count) + frames.filter(\.live).reduce(Int64(0)) { $0 + $1.length }
            report.packsRewritten += 1
            report.bytesReclaimed += size - newSize
            if dryRun { continue }
            try rewrite(pack: pack, name: name, created: created, frames: frames.filter(\.live).map { ($0.offset, $0.length) })
        }
        // Stray files: temporary packs of killed writers, once past the grace period. A finished pack the index does
        // not know may be all that is left of history whose index was lost: it stays unless the caller forces it.
        let indexed = Set(packs.map(\.1))
        for f in (try? Posix.listDirectory(packsPath)) ?? [] where !indexed.contains(f) {
            let p = packsPath + "/" + f
            guard let st = try Posix.lstat(p), st.mtimeNs / 1_000_000_000 < cutoff else { continue }
            if try packIsIndexed(f) { continue }
            if !f.hasPrefix("tmp-") && !removeUnindexed { report.unindexedPacksKept.append(f); continue }
            report.strayFilesRemoved += 1
            report.bytesReclaimed += Int64(st.size)
            if !dryRun { try Posix.unlink(p) }
        }
        if !dryRun { dropCaches() }
        return report
    }

    /// Marks `id` live in the temp table `table` (one `id` column) together with its parts: a chunked file's chunk
    /// list and its chunks are live or dead together. This is the one place that decides what an object's
    /// liveness covers; gc's mark and the sweep's grace rule both call it. Returns false when `id` was marked already.
    @discardableResult
    public func markLive(_ id: ObjectID, table: String) throws -> Bool {
        guard try db.run("INSERT OR IGNORE INTO \(table) (id) VALUES (?)", [.blob(id.bytes)]) > 0 else { return false }
        if try kind(of: id) == .chunked {
            for c in try chunkList(id).chunks { try db.run("INSERT OR IGNORE INTO \(table) (id) VALUES (?)", [.blob(c.id.bytes)]) }
        }
        return true
    }

    func packIsIndexed(_ name: String) throws -> Bool {
        (try db.scalarInt("SELECT count(*) FROM packs WHERE name = ?", [.text(name)]) ?? 0) > 0
    }

    /// Copies the given frames of a pack into a new pack and moves the index to it.
    func rewrite(pack: Int64, name: String, created: Int64, frames: [(Int64, Int64)]) throws {
        let oldPath = packsPath + "/" + name
        let newName = "pack-" + Posix.randomHex(16) + ".pack"
        let tmp = packsPath + "/tmp-" + newName
        let src = open(oldPath, O_RDONLY | O_CLOEXEC)
        if src < 0 { throw PosixError("open", oldPath) }
        defer { close(src) }
        let dst = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        if dst < 0 { throw PosixError("create", tmp) }
        var moves: [(old: Int64, new: Int64)] = []
        do {
            try Posix.writeAll(dst, ObjectStore.packMagic, path: tmp)
            var offset = Int64(ObjectStore.packMagic.count)
            var buf = [UInt8]()
            for (fo, fl) in frames {
                buf = [UInt8](repeating: 0, count: Int(fl))
                let got = try buf.withUnsafeMutableBytes { try Posix.pread(src, into: $0, offset: fo, path: oldPath) }
                guard got == Int(fl) else { throw PosixError("read", oldPath, code: EIO) }
                try Posix.writeAll(dst, buf, path: tmp)
                moves.append((fo, offset))
                offset += fl
            }
            if fsync(dst) != 0 { throw PosixError("fsync", tmp) }
            close(dst)
            try Posix.rename(tmp, packsPath + "/" + newName)
            Posix.fsyncDirectory(packsPath)
        } catch {
            close(dst); unlink(tmp); throw error
        }
        try db.transaction {
            try db.run("INSERT INTO packs (name, created) VALUES (?, ?)", [.text(newName), .int(created)])
            let newID = try db.scalarInt("SELECT id FROM packs WHERE name = ?", [.text(newName)]) ?? 0
            for m in moves {
                try db.run(
                    "UPDATE objects SET pack = ?, frame_offset = ? WHERE pack = ? AND frame_offset = ?", [.int(newID), .int(m.new), .int(pack), .int(m.old)])
            }
            try db.run("DELETE FROM objects WHERE pack = ?", [.int(pack)])
            try db.run("DELETE FROM packs WHERE id = ?", [.int(pack)])
        }
        try Posix.unlink(oldPath)
    }
}
