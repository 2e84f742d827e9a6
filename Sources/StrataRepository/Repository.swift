import Foundation
import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRefs
import StrataSQLite
import StrataWorkspace

/// Progress of a long operation: files and bytes done out of the totals.
public struct ProgressReport: Sendable {
    /// What is happening (`hashing`, `writing`, `checking`).
    public var phase: String
    /// Files done.
    public var files: Int
    /// Files in all.
    public var totalFiles: Int
    /// Bytes done.
    public var bytes: UInt64
    /// Bytes in all.
    public var totalBytes: UInt64
}

/// Receives progress reports; called from worker threads.
public typealias ProgressHandler = @Sendable (ProgressReport) -> Void

/// A Strata store and its workspace: the one API the command line (and later layers) call.
///
/// Holds the single SQLite connection of this process; the engines share it. Safe to use from several
/// threads because every engine serialises its own access (see `Database`).
public final class Repository: @unchecked Sendable {
    /// Workspace root (absolute).
    public let root: String
    /// `.strata` folder.
    public let storePath: String
    /// Metadata database: the one SQLite connection of this process for this store. Package-internal: other
    /// clients use the facade's named operations; modules of this package reach only their own tables with it.
    package let db: Database
    /// Object store.
    package let objects: ObjectStore
    /// Branches, tags, HEAD and reflog.
    package let refs: RefStore
    /// Stat cache.
    package let statCache: StatCache
    /// Downloads what a partial store lacks (set by the remote layer).
    let objectSupplier = Locked<(any ObjectSupplier)?>(nil)
    /// Module schemas applied in this process (so `attach` costs one lookup).
    private let attached = Locked<Set<String>>([])

    /// The on-disk format version this build writes and reads.
    public static let formatVersion = 1
    /// The metadata schema version this build writes (`PRAGMA user_version`), listed in store/FORMAT.md. Bumped
    /// whenever any module adds a migration; a store stamped higher is refused.
    public static let schemaVersion = 1
    /// The facade's own tables (owner `repository`): configuration and prune records.
    public static let schema = ModuleSchema(
        owner: "repository",
        migrations: [
            Migration(
                1, "configuration and prune records",
                """
                CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS prunes (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, policy TEXT NOT NULL,
                    swept INTEGER NOT NULL DEFAULT 0, undone INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE IF NOT EXISTS pruned (commit_id BLOB PRIMARY KEY, prune_id INTEGER NOT NULL REFERENCES prunes(id)) WITHOUT ROWID;
                """),
            Migration(
                2, "the merge in progress",
                """
                CREATE TABLE IF NOT EXISTS merge_state (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);
                """),
        ])
    /// The schemas every store has: objects, refs, workspace, repository.
    public static let coreSchemas = [ObjectStore.schema, RefStore.schema, StatCache.schema, Repository.schema]
    /// zstd level used unless `core.compression` (or `STRATA_COMPRESSION`) says otherwise.
    public static let defaultCompressionLevel: Int32 = 2
    /// The levels `core.compression` accepts: 1–19 are zstd's, and 0 stores new objects without compression (for
    /// data that is compressed already, such as Parquet or images: zstd would spend CPU to gain nothing).
    public static let compressionLevels: ClosedRange<Int32> = 0...19

    /// The level a `core.compression` value names; `source` (the setting or variable) is named in the error.
    public static func compressionLevel(_ text: String, from source: String) throws -> Int32 {
        guard let level = Int32(text.trimmingCharacters(in: .whitespaces)), compressionLevels.contains(level) else {
            throw RepositoryError.invalidArgument(
                "\(source) must be a whole number from 0 (no compression) to 19 (zstd's levels), not '\(text)'; nothing was changed")
        }
        return level
    }
    /// Name of the store folder.
    public static let storeFolder = ".strata"

    init(root: String, creating: Bool = false, schemas: [ModuleSchema] = []) throws {
        self.root = root
        storePath = root + "/" + Repository.storeFolder
        let versionText = (try? Posix.readFile(storePath + "/VERSION")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let version = versionText.split(separator: "\n").first.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) }
        guard version == Repository.formatVersion else { throw RepositoryError.unsupportedFormat(versionText.isEmpty ? "unknown" : versionText) }
        // Without its metadata database a store has no refs and no index: opening it would make every pack look
        // like a leftover. Refuse, and never create a fresh database over existing packs.
        let dbPath = storePath + "/strata.db"
        if !creating {
            let st = try Posix.lstat(dbPath)
            guard let st, st.isRegular, st.size > 0 else { throw RepositoryError.metadataMissing(storePath) }
        }
        db = try Database(path: dbPath)
        if !creating {
            let known = (try? db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'config'")) ?? 0
            let created = known == 0 ? 0 : ((try? db.scalarInt("SELECT count(*) FROM config WHERE key = 'store.created'")) ?? 0)
            guard created ?? 0 > 0 else { throw RepositoryError.metadataMissing(storePath) }
        }
        // One transaction brings an older store up to date; a newer one is refused before anything is written.
        let all = Repository.coreSchemas + schemas
        do {
            try Migrator.migrate(db, schemas: all, storeVersion: Repository.schemaVersion, now: Posix.nowNs() / 1_000_000_000)
        } catch let e as SchemaTooNew {
            throw RepositoryError.schemaTooNew(e.message)
        }
        attached.with { $0.formUnion(all.map(\.owner)) }
        // `strata config` checks the setting when it is set; a value an older strata let through, which this one
        // would refuse, is passed over for the default, so that `strata config` can still open the store to mend it.
        var level = Repository.defaultCompressionLevel
        try db.query("SELECT value FROM config WHERE key = 'core.compression'") { r in
            level = (try? Repository.compressionLevel(r.text(0), from: "core.compression")) ?? level
        }
        if let env = ProcessInfo.processInfo.environment["STRATA_COMPRESSION"] { level = try Repository.compressionLevel(env, from: "STRATA_COMPRESSION") }
        objects = try ObjectStore(root: storePath + "/objects", db: db, compressionLevel: level)
        refs = try RefStore(db: db)
        statCache = try StatCache(db: db)
    }

    /// Applies a module's pending migrations (one transaction; nothing when already applied in this process).
    /// Modules above the facade call it when they open, so a store opened without their schema still works.
    public func attach(_ schema: ModuleSchema) throws {
        if attached.with({ $0.contains(schema.owner) }) { return }
        do {
            try Migrator.migrate(db, schemas: [schema], storeVersion: Repository.schemaVersion, now: Posix.nowNs() / 1_000_000_000)
        } catch let e as SchemaTooNew {
            throw RepositoryError.schemaTooNew(e.message)
        }
        attached.with { _ = $0.insert(schema.owner) }
    }

    /// The store's schema: its version stamp and, per module, the newest migration applied.
    public func schemaState() throws -> (version: Int, modules: [String: Int]) {
        (try Migrator.storedVersion(db), try Migrator.applied(db))
    }

    /// Creates a new store in `directory` (created when missing).
    public static func initialize(at directory: String, schemas: [ModuleSchema] = []) throws -> Repository {
        let dir = directory.hasPrefix("/") ? directory : Posix.currentDirectory() + "/" + directory
        try Posix.makeDirectories(dir)
        let root = Posix.realpath(dir) ?? dir
        let store = root + "/" + storeFolder
        if try Posix.lstat(store) != nil { throw RepositoryError.alreadyInitialized(root) }
        try Posix.makeDirectories(store + "/objects/packs")
        try Posix.makeDirectories(store + "/locks")
        let repo = try { () throws -> Repository in
            try Posix.writeAtomically(store + "/VERSION", Array("strata store format \(formatVersion)\n".utf8))
            return try Repository(root: root, creating: true, schemas: schemas)
        }()
        try repo.setConfig("store.created", String(Posix.nowNs() / 1_000_000_000))
        return repo
    }

    /// Finds the store in `directory` or its nearest parent that has one.
    /// `schemas` are the tables of the modules the caller will use, migrated with the core ones in one transaction.
    public static func discover(from directory: String = Posix.currentDirectory(), schemas: [ModuleSchema] = []) throws -> Repository {
        var dir = Posix.realpath(directory) ?? directory
        while true {
            if let st = try Posix.lstat(dir + "/" + storeFolder), st.isDirectory { return try Repository(root: dir, schemas: schemas) }
            if dir == "/" || dir.isEmpty { throw RepositoryError.notAStore(directory) }
            dir = Posix.dirname(dir)
        }
    }

    /// Opens the store whose workspace root is exactly `root`.
    public static func open(at root: String, schemas: [ModuleSchema] = []) throws -> Repository {
        guard let st = try Posix.lstat(root + "/" + storeFolder), st.isDirectory else { throw RepositoryError.notAStore(root) }
        return try Repository(root: Posix.realpath(root) ?? root, schemas: schemas)
    }

    // MARK: Config

    /// A configuration value.
    public func config(_ key: String) throws -> String? {
        var v: String?
        try db.query("SELECT value FROM config WHERE key = ?", [.text(key)]) { r in v = r.text(0) }
        return v
    }

    /// Sets a configuration value (nil removes it). A `core.compression` that is not a level is refused.
    public func setConfig(_ key: String, _ value: String?) throws {
        if var value {
            if key == "core.compression" { value = String(try Repository.compressionLevel(value, from: key)) }
            try db.run("INSERT OR REPLACE INTO config (key, value) VALUES (?, ?)", [.text(key), .text(value)])
        } else {
            try db.run("DELETE FROM config WHERE key = ?", [.text(key)])
        }
    }

    /// True for settings whose values are secret or personal and never shown (`lineage.salt`, the list of names
    /// to redact, anything named like a secret, token, password or key): `strata config` lists them as `<hidden>`
    /// and refuses to print them.
    public static func isSecretSetting(_ key: String) -> Bool {
        let last = key.split(separator: ".").last.map { $0.lowercased() } ?? key.lowercased()
        return ["salt", "secret", "token", "password", "api-key", "apikey", "access-key", "redact-names"].contains { last.contains($0) }
            && last != "redact-names-file"
    }

    /// Every configuration value.
    public func allConfig() throws -> [(String, String)] {
        var out: [(String, String)] = []
        try db.query("SELECT key, value FROM config ORDER BY key") { r in out.append((r.text(0), r.text(1))) }
        return out
    }

    /// The author used when none is given: `STRATA_AUTHOR`, then `user.name`/`user.email` config, then the login name.
    public func defaultAuthor() throws -> Signature {
        if let env = ProcessInfo.processInfo.environment["STRATA_AUTHOR"], !env.isEmpty { return try Signature(parsing: env) }
        if let n = try config("user.name") { return try Signature(name: n, email: try config("user.email") ?? "") }
        let user = ProcessInfo.processInfo.environment["USER"] ?? "strata"
        return try Signature(name: user, email: "\(user)@\(Posix.hostname())")
    }

    // MARK: Locking

    /// Runs `body` holding the store's write lock (waits up to `timeout` seconds for another writer).
    public func withWriteLock<R>(timeout: Double = 60, _ body: () throws -> R) throws -> R {
        try Posix.makeDirectories(storePath + "/locks")
        let path = storePath + "/locks/write.lock"
        guard let lock = try FileLock(path: path, timeout: timeout) else {
            throw RepositoryError.locked(holder: FileLock.holder(path: path))
        }
        defer { withExtendedLifetime(lock) {} }
        return try body()
    }

    // MARK: Revisions

    /// The current branch name, or nil when HEAD is detached.
    public func currentBranch() throws -> BranchName? {
        if case .branch(let b) = try refs.head() { return b }
        return nil
    }

    /// Resolves a revision expression to a commit id.
    public func resolve(_ text: String) throws -> ObjectID {
        let rev = try Revision(parsing: text)
        var id: ObjectID
        switch rev.base {
        case .head:
            guard let h = try refs.headCommit() else { throw RepositoryError.noCommitsYet(branch: try currentBranch()?.rawValue ?? "HEAD") }
            id = h
        case .name(let n):
            if let b = try? BranchName(n), let t = try refs.branch(b) {
                id = t
            } else if let t = try? TagName(n), let r = try refs.tag(t) {
                id = r.target
            } else if n.contains("/"), let t = try refs.get(n.hasPrefix("refs/") ? n : "refs/remotes/" + n) {
                id = t
            } else if let full = ObjectID(hex: n), try objects.kind(of: full) == .commit {
                id = full
            } else if n.count >= 4, n.allSatisfy(\.isHexDigit) {
                let found = try objects.commits(withPrefix: n, limit: 5)
                if found.count > 1 { throw RepositoryError.ambiguousRevision(n, candidates: found) }
                guard let f = found.first else { throw RepositoryError.unknownRevision(text) }
                id = f
            } else {
                throw RepositoryError.unknownRevision(text)
            }
        }
        for _ in 0..<rev.ancestry {
            guard let p = try objects.readCommit(id).parents.first else { throw RepositoryError.noSuchAncestor(text) }
            id = p
        }
        return id
    }

    /// Reads a commit.
    public func commit(_ id: ObjectID) throws -> Commit { try objects.readCommit(id) }

    /// Reads a tree.
    public func tree(_ id: ObjectID) throws -> Tree { try objects.readTree(id) }

    /// Every file below a tree as path → version.
    public func flatten(tree id: ObjectID, prefix: String = "") throws -> [String: FileVersion] {
        var out: [String: FileVersion] = [:]
        out.reserveCapacity(flattenSizeHint)
        try flatten(id, prefix, &out)
        return out
    }

    var flattenSizeHint: Int { 4096 }

    func flatten(_ id: ObjectID, _ prefix: String, _ out: inout [String: FileVersion]) throws {
        for e in try tree(id).entries {
            let p = prefix.isEmpty ? e.name : prefix + "/" + e.name
            if e.kind == .directory { try flatten(e.id, p, &out) } else { out[p] = FileVersion(kind: e.kind, id: e.id, size: e.size) }
        }
    }

    /// The entry at `path` in a commit's tree (nil path or "" → the root folder).
    public func entry(at path: String, in commitID: ObjectID) throws -> TreeEntry? {
        try entry(at: path, inTree: try commit(commitID).tree)
    }

    /// The entry at `path` below the tree `root`, if any.
    public func entry(at path: String, inTree root: ObjectID) throws -> TreeEntry? {
        var lookup = TreePathLookup(self, root: root)
        return try lookup.entry(at: path)
    }
}

/// Looks up many paths below one tree. It keeps the trees along the last path it followed (by id, so a kept tree is
/// always the right one), so paths that come grouped by folder read and decode each folder's tree once: looking up
/// every file of a 1,000-file folder one path at a time decoded that folder 1,000 times.
struct TreePathLookup {
    let repo: Repository
    let root: ObjectID
    /// The trees on the last path followed, the root's first.
    private var chain: [(id: ObjectID, tree: Tree)] = []

    init(_ repo: Repository, root: ObjectID) {
        self.repo = repo; self.root = root
    }

    /// The entry at `path`, if any.
    mutating func entry(at path: String) throws -> TreeEntry? {
        var cur = TreeEntry(name: "", kind: .directory, id: root, size: 0)
        var depth = 0
        for part in path.slashSeparated() {
            guard cur.kind == .directory else { return nil }
            if depth >= chain.count || chain[depth].id != cur.id {
                chain.removeSubrange(min(depth, chain.count)...)
                chain.append((cur.id, try repo.tree(cur.id)))
            }
            guard let e = chain[depth].tree.entry(named: String(part)) else { return nil }
            cur = e
            depth += 1
        }
        return cur
    }
}
