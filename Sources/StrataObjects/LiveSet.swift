import StrataModel
import StrataPlatform
import StrataSQLite

/// The objects gc keeps, held in SQLite temp tables so that memory stays bounded however large the store is.
///
/// This is the object engine's reachability API: gc's mark adds roots and walks trees through it, and `sweep`
/// removes everything it does not hold. Marking a file marks its parts with it (`markFile`), which is what keeps
/// the completeness invariant of store/FORMAT.md. One live set exists per gc run; `close()` drops its tables.
public final class LiveSet {
    let store: ObjectStore
    /// Name of the temp table of live ids (one `id` column).
    let table = "gc_live"

    /// Creates (or empties) the temp tables.
    public init(store: ObjectStore) throws {
        self.store = store
        try store.db.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS gc_live (id BLOB PRIMARY KEY) WITHOUT ROWID;
            CREATE TEMP TABLE IF NOT EXISTS gc_meta (id BLOB PRIMARY KEY) WITHOUT ROWID;
            CREATE TEMP TABLE IF NOT EXISTS gc_data (id BLOB PRIMARY KEY) WITHOUT ROWID;
            DELETE FROM gc_live; DELETE FROM gc_meta; DELETE FROM gc_data;
            """)
    }

    /// Drops the temp tables.
    public func close() {
        try? store.db.execute("DROP TABLE IF EXISTS gc_live; DROP TABLE IF EXISTS gc_meta; DROP TABLE IF EXISTS gc_data;")
    }

    /// Marks one object (a commit, a tree, a symlink target) live; false when it was already.
    @discardableResult
    public func insert(_ id: ObjectID) throws -> Bool {
        try store.db.run("INSERT OR IGNORE INTO gc_live (id) VALUES (?)", [.blob(id.bytes)]) > 0
    }

    /// Marks file data live together with its parts (a chunked file's chunk list and chunks).
    public func markFile(_ id: ObjectID) throws { try store.markLive(id, table: table) }

    /// Whether `id` is marked live.
    public func contains(_ id: ObjectID) throws -> Bool {
        (try store.db.scalarInt("SELECT count(*) FROM gc_live WHERE id = ?", [.blob(id.bytes)]) ?? 0) > 0
    }

    /// Records that a tree is being walked, for history only (`data` false) or with its file data; returns false
    /// when that walk (or a data walk, which covers a history walk) was already done.
    public func beginTreeWalk(_ tree: ObjectID, data: Bool) throws -> Bool {
        if data { return try store.db.run("INSERT OR IGNORE INTO gc_data (id) VALUES (?)", [.blob(tree.bytes)]) > 0 }
        if (try store.db.scalarInt("SELECT count(*) FROM gc_data WHERE id = ?", [.blob(tree.bytes)]) ?? 0) > 0 { return false }
        return try store.db.run("INSERT OR IGNORE INTO gc_meta (id) VALUES (?)", [.blob(tree.bytes)]) > 0
    }

    /// Commits in the index that are not marked yet.
    public func unmarkedCommits() throws -> [ObjectID] {
        var out: [ObjectID] = []
        try store.db.query(
            "SELECT o.id FROM objects o WHERE o.kind = ? AND NOT EXISTS (SELECT 1 FROM gc_live l WHERE l.id = o.id)",
            [.int(ObjectKind.commit.rawValue)]
        ) { r in out.append(try ObjectID(validating: r.blob(0), what: "objects index")) }
        return out
    }

    /// How many objects are marked.
    public func count() throws -> Int { Int(try store.db.scalarInt("SELECT count(*) FROM gc_live") ?? 0) }

    /// Runs `body` in one deferred transaction: fast temp-table inserts without taking the store's write lock.
    public func batch<R>(_ body: () throws -> R) throws -> R { try store.db.transaction(deferred: true, body) }

    /// Removes every object this set does not hold (see `ObjectStore.sweep`).
    public func sweep(cutoff: Int64, dryRun: Bool, removeUnindexed: Bool) throws -> SweepReport {
        try store.sweep(liveTable: table, cutoff: cutoff, dryRun: dryRun, removeUnindexed: removeUnindexed)
    }
}

extension ObjectStore {
    /// Every commit in the index (for retention's history).
    public func commitIDs() throws -> [ObjectID] {
        var out: [ObjectID] = []
        try db.query("SELECT id FROM objects WHERE kind = ?", [.int(ObjectKind.commit.rawValue)]) { r in
            out.append(try ObjectID(validating: r.blob(0), what: "objects index"))
        }
        return out
    }

    /// Total size of the pack files on disk.
    public func packBytes() -> Int64 {
        packFilesOnDisk().reduce(Int64(0)) { $0 + Int64((try? Posix.lstat(packsPath + "/" + $1))??.size ?? 0) }
    }
}
