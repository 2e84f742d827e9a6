import Foundation
import StrataModel
import StrataPlatform
import StrataSQLite

/// What the stat cache remembers of a file: its stat fields when it was last hashed, and the id.
public struct StatCacheEntry: Sendable, Equatable {
    /// Size in bytes.
    public var size: UInt64
    /// mtime in ns.
    public var mtimeNs: Int64
    /// ctime in ns.
    public var ctimeNs: Int64
    /// Inode.
    public var inode: UInt64
    /// st_mode.
    public var mode: UInt32
    /// Content id.
    public var id: ObjectID
    /// When the entry was written (ns); a file modified within `racyWindowNs` of this is re-hashed.
    public var writtenNs: Int64

    /// Creates an entry from a stat and an id.
    public init(stat: FileStat, id: ObjectID, writtenNs: Int64) {
        size = stat.size; mtimeNs = stat.mtimeNs; ctimeNs = stat.ctimeNs; inode = stat.inode; mode = stat.mode
        self.id = id; self.writtenNs = writtenNs
    }

    init(size: UInt64, mtimeNs: Int64, ctimeNs: Int64, inode: UInt64, mode: UInt32, id: ObjectID, writtenNs: Int64) {
        self.size = size; self.mtimeNs = mtimeNs; self.ctimeNs = ctimeNs; self.inode = inode; self.mode = mode
        self.id = id; self.writtenNs = writtenNs
    }

    /// Files modified less than this long before the cache entry was written count as racily clean.
    public static let racyWindowNs: Int64 = 1_000_000_000

    /// True when `stat` matches and the entry is not racily clean (git's racy-git rule).
    public func matches(_ stat: FileStat) -> Bool {
        stat.size == size && stat.mtimeNs == mtimeNs && stat.ctimeNs == ctimeNs && stat.inode == inode && stat.mode == mode
            && mtimeNs < writtenNs - StatCacheEntry.racyWindowNs
    }
}

/// The stat cache: per path, the stat fields of the last hashing and the resulting id, in SQLite.
public struct StatCache: Sendable {
    /// The shared metadata database.
    public let db: Database

    /// The stat cache's table (owner `workspace`).
    public static let schema = ModuleSchema(
        owner: "workspace",
        migrations: [
            Migration(
                1, "the stat cache",
                """
                CREATE TABLE IF NOT EXISTS statcache (path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER, ctime INTEGER, inode INTEGER,
                    mode INTEGER, id BLOB NOT NULL, written INTEGER NOT NULL) WITHOUT ROWID;
                """),
            Migration(
                2, "the folder cache",
                """
                CREATE TABLE IF NOT EXISTS foldercache (path TEXT PRIMARY KEY, mtime INTEGER, ctime INTEGER, inode INTEGER, rules INTEGER,
                    tree BLOB, extra TEXT NOT NULL, missing TEXT NOT NULL, written INTEGER NOT NULL) WITHOUT ROWID;
                """),
            // The folder cache is a cache: made anew with the column (its rows are recorded again by the next walk),
            // which also keeps the step repeatable for a store made before migrations were recorded.
            Migration(
                3, "the folder cache's digest of clean files",
                """
                DROP TABLE IF EXISTS foldercache;
                CREATE TABLE foldercache (path TEXT PRIMARY KEY, mtime INTEGER, ctime INTEGER, inode INTEGER, rules INTEGER,
                    tree BLOB, extra TEXT NOT NULL, missing TEXT NOT NULL, written INTEGER NOT NULL, clean BLOB) WITHOUT ROWID;
                """),
        ])

    /// Uses the cache table of `db` (created by the store's migrator from `StatCache.schema`).
    public init(db: Database) throws {
        self.db = db
    }

    /// Loads every entry.
    public func load() throws -> [String: StatCacheEntry] {
        var out: [String: StatCacheEntry] = [:]
        out.reserveCapacity(Int(try db.scalarInt("SELECT count(*) FROM statcache") ?? 0))
        try db.query("SELECT path, size, mtime, ctime, inode, mode, id, written FROM statcache") { r in out[r.text(0)] = StatCache.entry(r) }
        return out
    }

    /// The entries below the folder `rel` ("" for all), from `from` on when given, in byte order of paths, stepped
    /// by the caller (a merge-join with a walk of the workspace in the same order, without loading the cache).
    public func cursor(below rel: String, from: String? = nil) throws -> StatCacheCursor {
        // Every path below `rel/` sorts between "rel/" and "rel0" ("0" follows "/").
        let low = from ?? (rel.isEmpty ? "" : rel + "/")
        let select = "SELECT path, size, mtime, ctime, inode, mode, id, written FROM statcache"
        if rel.isEmpty {
            return PathCursor(try db.cursor(select + " WHERE path >= ? ORDER BY path", [.text(low)]), bounds: { [.text($0)] }) { r in
                (r.text(0), StatCache.entry(r))
            }
        }
        let high = rel + "0"
        return PathCursor(
            try db.cursor(select + " WHERE path >= ? AND path < ? ORDER BY path", [.text(low), .text(high)]), bounds: { [.text($0), .text(high)] }
        ) { r in (r.text(0), StatCache.entry(r)) }
    }

    /// The entry of one path, if any.
    public func entry(for path: String) throws -> StatCacheEntry? {
        var out: StatCacheEntry?
        try db.query("SELECT path, size, mtime, ctime, inode, mode, id, written FROM statcache WHERE path = ?", [.text(path)]) { r in
            out = StatCache.entry(r)
        }
        return out
    }

    /// A row of the cache's table as an entry.
    static func entry(_ r: borrowing Row) -> StatCacheEntry {
        let id = r.withBlob(6) { $0.count == 32 ? ObjectID(bytes: $0) : ObjectID.empty }
        return StatCacheEntry(
            size: UInt64(r.int(1)), mtimeNs: r.int(2), ctimeNs: r.int(3), inode: UInt64(bitPattern: r.int(4)), mode: UInt32(truncatingIfNeeded: r.int(5)),
            id: id, writtenNs: r.int(7))
    }

    /// Writes or replaces entries and removes `removed` paths, in one relaxed transaction (it is a cache: losing the
    /// newest rows on power failure only means hashing those files again).
    public func update(_ entries: [(String, StatCacheEntry)], removed: [String] = []) throws {
        if entries.isEmpty && removed.isEmpty { return }
        try db.relaxedTransaction {
            for (p, e) in entries { try put(p, e) }
            for p in removed { try db.run("DELETE FROM statcache WHERE path = ?", [.text(p)]) }
        }
    }

    /// Forgets every entry (a workspace emptied of its files vouches for nothing).
    public func clear() throws { try db.run("DELETE FROM statcache") }

    /// Writes the entries a spill holds, reading them back in order (memory stays bounded), in one relaxed
    /// transaction.
    public func update(from spill: StatCacheSpill) throws {
        if spill.count == 0 { return }
        try db.relaxedTransaction { try spill.forEachEntry { try put($0, $1) } }
    }

    private func put(_ p: String, _ e: StatCacheEntry) throws {
        try db.run(
            "INSERT OR REPLACE INTO statcache (path, size, mtime, ctime, inode, mode, id, written) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(p), .int(Int64(e.size)), .int(e.mtimeNs), .int(e.ctimeNs), .int(Int64(bitPattern: e.inode)),
                .int(Int64(e.mode)), .blob(e.id.bytes), .int(e.writtenNs),
            ])
    }
}

/// The stat cache read in byte order of paths (`StatCache.cursor(below:from:)`).
public typealias StatCacheCursor = PathCursor<StatCacheEntry>

/// Stat-cache entries gathered by a walk of any size (a first commit of millions of files), kept in a spill file
/// rather than in memory until `StatCache.update(from:)` writes them. `lock` guards the file: workers append at once.
public final class StatCacheSpill: @unchecked Sendable {
    private let lock = NSLock()
    private let file: SpillFile

    /// A spill in `directory` (the store's scratch area).
    public init(directory: String) throws { file = try SpillFile(directory: directory) }

    /// Entries appended.
    public var count: Int { lock.withLock { file.records } }

    /// Appends one entry: the path's length and bytes, then size, mtime, ctime, inode, mode and written time as
    /// little-endian 64-bit integers, then the id.
    public func append(_ path: String, _ e: StatCacheEntry) throws {
        var r: [UInt8] = []
        r.reserveCapacity(path.utf8.count + 88)
        r.appendInt64(Int64(path.utf8.count))
        r.append(contentsOf: path.utf8)
        for v in [Int64(e.size), e.mtimeNs, e.ctimeNs, Int64(bitPattern: e.inode), Int64(e.mode), e.writtenNs] { r.appendInt64(v) }
        r.append(contentsOf: e.id.bytes)
        try lock.withLock { try file.append(r) }
    }

    /// Every entry, in the order appended.
    public func forEachEntry(_ body: (String, StatCacheEntry) throws -> Void) throws {
        try lock.withLock {
            try file.read { r in
                let path = String(decoding: try r.take(Int(try r.int64())), as: UTF8.self)
                let size = try r.int64(), mtime = try r.int64(), ctime = try r.int64(), inode = try r.int64(), mode = try r.int64()
                let written = try r.int64()
                let id = try r.take(32).withUnsafeBytes { ObjectID(bytes: $0) }
                try body(
                    path,
                    StatCacheEntry(
                        size: UInt64(size), mtimeNs: mtime, ctimeNs: ctime, inode: UInt64(bitPattern: inode), mode: UInt32(truncatingIfNeeded: mode), id: id,
                        writtenNs: written))
            }
        }
    }
}
