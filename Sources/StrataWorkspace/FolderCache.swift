import Foundation
import StrataModel
import StrataPlatform
import StrataSQLite

/// What the folder cache remembers of a folder: its stat when it was listed, and the listing itself as its
/// difference from HEAD's tree of the folder at the time (git's untracked cache, kept small by storing only what the
/// tree does not already say).
///
/// A folder's mtime and ctime change whenever a name is added to it, removed from it or renamed in it, so while they
/// (and its inode, and the ignore rules) are as recorded, the names in it are as recorded too: the walk then takes
/// them from the tree and skips reading the folder. Files are still `lstat`ed one by one (an edit of a file does not
/// touch its folder).
public struct FolderCacheEntry: Sendable, Equatable {
    /// The folder's mtime in ns when it was listed.
    public var mtimeNs: Int64
    /// The folder's ctime in ns.
    public var ctimeNs: Int64
    /// The folder's inode.
    public var inode: UInt64
    /// Fingerprint of the ignore rules the listing was filtered by (`Scanner.rulesFingerprint`).
    public var rules: Int64
    /// HEAD's tree of the folder when it was listed (nil when HEAD had none).
    public var tree: ObjectID?
    /// Keys listed that the tree lacks (a file's name, a folder's name and "/"), in byte order.
    public var extra: [String]
    /// Keys of the tree that were not listed, in byte order.
    public var missing: [String]
    /// When the listing was read (ns); a folder whose mtime is less than `StatCacheEntry.racyWindowNs` before that is
    /// not recorded.
    public var writtenNs: Int64
    /// The SHA-256 of the folder's files as they were when every one of them was found equal to HEAD's tree
    /// (`fold`), or nil. While the row stands and the digest of the files' stats is the same again, the
    /// folder's files are all as in HEAD, without a look at the stat cache ("Folder cache rule").
    public var clean: ObjectID?

    /// Creates an entry.
    public init(
        stat: FileStat, rules: Int64, tree: ObjectID?, extra: [String], missing: [String], writtenNs: Int64, clean: ObjectID? = nil
    ) {
        mtimeNs = stat.mtimeNs; ctimeNs = stat.ctimeNs; inode = stat.inode
        self.rules = rules; self.tree = tree; self.extra = extra; self.missing = missing; self.writtenNs = writtenNs
        self.clean = clean
    }

    init(
        mtimeNs: Int64, ctimeNs: Int64, inode: UInt64, rules: Int64, tree: ObjectID?, extra: [String], missing: [String], writtenNs: Int64,
        clean: ObjectID?
    ) {
        self.mtimeNs = mtimeNs; self.ctimeNs = ctimeNs; self.inode = inode; self.rules = rules; self.tree = tree
        self.extra = extra; self.missing = missing; self.writtenNs = writtenNs; self.clean = clean
    }

    /// Adds one file to a folder's clean digest: its name, a NUL, then its size, mtime, ctime, inode and mode as
    /// little-endian 64-bit integers. A folder's digest folds its files (not its folders) in byte order of paths.
    public static func fold(_ h: inout SHA256Hasher, name: String, stat: FileStat) {
        var n = name
        n.withUTF8 { h.update(UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(0)) { h.update($0) }
        let words: (UInt64, UInt64, UInt64, UInt64, UInt64) = (
            stat.size.littleEndian, UInt64(bitPattern: stat.mtimeNs).littleEndian, UInt64(bitPattern: stat.ctimeNs).littleEndian,
            stat.inode.littleEndian, UInt64(stat.mode).littleEndian
        )
        withUnsafeBytes(of: words) { h.update($0) }
    }

    /// Most keys a row keeps (`extra` and `missing` together): a folder with more untracked names is read each time,
    /// as reading it costs no more than reading them back.
    public static let maxKeys = 256

    /// Whether a folder listed under `stat`, at `nowNs`, may be recorded: its mtime is older than the racy window
    /// (a name added in the same clock tick as the listing would leave the mtime where it was). The same rule decides
    /// whether a file's stat may go into a clean digest (an edit in the clock tick of the stat could leave every field
    /// as it was). A later change sets
    /// the mtime to its own time, so it cannot equal an mtime that old; ctime, compared too, catches an mtime set back
    /// by hand (`touch -d`, `rsync -a`).
    public static func recordable(_ stat: FileStat, nowNs: Int64) -> Bool {
        stat.mtimeNs < nowNs - StatCacheEntry.racyWindowNs
    }

    /// True when this row still describes the folder: same mtime, ctime and inode, same ignore rules, same tree in
    /// HEAD, and not racily recorded.
    public func matches(_ stat: FileStat, rules: Int64, tree: ObjectID?) -> Bool {
        stat.mtimeNs == mtimeNs && stat.ctimeNs == ctimeNs && stat.inode == inode && rules == self.rules && tree == self.tree
            && mtimeNs < writtenNs - StatCacheEntry.racyWindowNs
    }

    /// The folder's children (keys in byte order of paths, as `Tree.inPathOrder` gives them): the tree's keys
    /// (`treeKeys`, in that order) without `missing`, with `extra` merged in.
    public func listing(treeKeys: [String]) -> [(key: String, isDirectory: Bool)] {
        var out: [(key: String, isDirectory: Bool)] = []
        out.reserveCapacity(treeKeys.count + extra.count)
        var m = 0, x = 0
        for k in treeKeys {
            while m < missing.count, Tree.less(missing[m], k) { m += 1 }
            if m < missing.count, missing[m] == k { m += 1; continue }
            while x < extra.count, Tree.less(extra[x], k) { out.append((extra[x], extra[x].hasSuffix("/"))); x += 1 }
            out.append((k, k.hasSuffix("/")))
        }
        while x < extra.count { out.append((extra[x], extra[x].hasSuffix("/"))); x += 1 }
        return out
    }

    /// The difference between a folder's listing and its tree's keys, both in byte order: (extra, missing), or nil
    /// when it holds more than `maxKeys` keys.
    public static func delta(listing: [(key: String, isDirectory: Bool)], treeKeys: [String]) -> (extra: [String], missing: [String])? {
        var extra: [String] = [], missing: [String] = []
        var i = 0, j = 0
        while i < listing.count || j < treeKeys.count {
            if i < listing.count, j < treeKeys.count, listing[i].key == treeKeys[j] {
                i += 1; j += 1
            } else if i < listing.count, j == treeKeys.count || Tree.less(listing[i].key, treeKeys[j]) {
                extra.append(listing[i].key); i += 1
            } else {
                missing.append(treeKeys[j]); j += 1
            }
            if extra.count + missing.count > maxKeys { return nil }
        }
        return (extra, missing)
    }
}

/// The folder cache: per folder, `FolderCacheEntry`, in the stat cache's database (table `foldercache`, keyed by the
/// folder's path and "/", the root by ""; so keys sort in the order a walk visits folders).
public struct FolderCache: Sendable {
    /// The shared metadata database.
    public let db: Database

    /// Uses the folder-cache table of `db` (created by the store's migrator from `StatCache.schema`).
    public init(db: Database) { self.db = db }

    /// The key of the folder `rel` ("" for the root).
    public static func key(_ rel: String) -> String { rel.isEmpty ? "" : rel + "/" }

    static let columns = "path, mtime, ctime, inode, rules, tree, extra, missing, written, clean"

    /// The row of one folder, if any.
    public func entry(for rel: String) throws -> FolderCacheEntry? {
        var out: FolderCacheEntry?
        try db.query("SELECT \(FolderCache.columns) FROM foldercache WHERE path = ?", [.text(FolderCache.key(rel))]) { r in
            out = FolderCache.entry(r)
        }
        return out
    }

    /// The rows of `rel` and the folders below it, stepped in the order a walk visits them.
    public func cursor(below rel: String) throws -> PathCursor<FolderCacheEntry> {
        let select = "SELECT \(FolderCache.columns) FROM foldercache"
        let c =
            rel.isEmpty
            ? try db.cursor(select + " ORDER BY path")
            : try db.cursor(select + " WHERE path >= ? AND path < ? ORDER BY path", [.text(rel + "/"), .text(rel + "0")])
        return PathCursor(c) { r in (r.text(0), FolderCache.entry(r)) }
    }

    static func entry(_ r: borrowing Row) -> FolderCacheEntry {
        let tree: ObjectID? = r.isNull(5) ? nil : r.withBlob(5) { $0.count == 32 ? ObjectID(bytes: $0) : nil }
        func keys(_ i: Int32) -> [String] {
            let t = r.text(i)
            return t.isEmpty ? [] : t.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        let clean: ObjectID? = r.isNull(9) ? nil : r.withBlob(9) { $0.count == 32 ? ObjectID(bytes: $0) : nil }
        return FolderCacheEntry(
            mtimeNs: r.int(1), ctimeNs: r.int(2), inode: UInt64(bitPattern: r.int(3)), rules: r.int(4), tree: tree, extra: keys(6),
            missing: keys(7), writtenNs: r.int(8), clean: clean)
    }

    /// Writes or replaces rows (folder paths, "" for the root) and removes those of `removed`, in one relaxed
    /// transaction (a cache: a lost row only means listing that folder again).
    public func update(_ entries: [(String, FolderCacheEntry)], removed: [String] = []) throws {
        if entries.isEmpty && removed.isEmpty { return }
        try db.relaxedTransaction {
            for (rel, e) in entries {
                try db.run(
                    "INSERT OR REPLACE INTO foldercache (\(FolderCache.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(FolderCache.key(rel)), .int(e.mtimeNs), .int(e.ctimeNs), .int(Int64(bitPattern: e.inode)), .int(e.rules),
                        e.tree.map { .blob($0.bytes) } ?? .null, .text(e.extra.joined(separator: "\n")),
                        .text(e.missing.joined(separator: "\n")), .int(e.writtenNs), e.clean.map { .blob($0.bytes) } ?? .null,
                    ])
            }
            for rel in removed { try db.run("DELETE FROM foldercache WHERE path = ?", [.text(FolderCache.key(rel))]) }
        }
    }

    /// Forgets every row.
    public func clear() throws { try db.run("DELETE FROM foldercache") }
}

/// Rows of a cache table read in byte order of their paths: `entry(for:)` answers for paths asked in that same
/// order. Rows are read 256 at a time.
public final class PathCursor<Entry> {
    // Inlinable, so that a walk in another module steps a cursor specialised for its entry type: the generic one
    // looked up the metadata of `(path: String, entry: Entry)` on every row.
    @usableFromInline let cursor: Cursor
    @usableFromInline let decode: (borrowing Row) -> (String, Entry)
    /// The query's values for a lower bound (`skip(to:)`), or nil when the cursor cannot start again.
    @usableFromInline let bounds: ((String) -> [SQLValue])?
    @usableFromInline var buffer: [(path: String, entry: Entry)] = []
    @usableFromInline var at = 0
    @usableFromInline var ended = false

    init(_ cursor: Cursor, bounds: ((String) -> [SQLValue])? = nil, decode: @escaping (borrowing Row) -> (String, Entry)) {
        self.cursor = cursor
        self.bounds = bounds
        self.decode = decode
    }

    /// The entry of `path`, if the table has one; paths must be asked in increasing byte order (rows passed over
    /// belong to paths the walk did not find).
    @inlinable
    public func entry(for path: String) throws -> Entry? {
        while true {
            if at == buffer.count {
                if ended { return nil }
                buffer.removeAll(keepingCapacity: true)
                at = 0
                if try cursor.next(upTo: 256, { r in buffer.append(decode(r)) }) < 256 { ended = true }
                if buffer.isEmpty { return nil }
            }
            let c = buffer[at]
            if c.path == path { at += 1; return c.entry }
            if Tree.less(path, c.path) { return nil }
            at += 1
        }
    }

    /// Passes over every row before `low` without reading them (a walk that needs none of a folder's rows): rows
    /// already read are skipped, and beyond them the query starts again from `low`. Later asks must not be below it.
    @inlinable
    public func skip(to low: String) throws {
        while at < buffer.count, Tree.less(buffer[at].path, low) { at += 1 }
        if at < buffer.count || ended { return }
        guard let bounds, buffer.last.map({ Tree.less($0.path, low) }) ?? true else { return }
        try cursor.restart(bounds(low))
        buffer.removeAll(keepingCapacity: true)
        at = 0
    }
}
