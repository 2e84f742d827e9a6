import StrataPlatform
/// One append-only step of one module's tables. Once released, a migration is never edited: a change is a new
/// migration with the next version.
public struct Migration: Sendable, Equatable {
    /// Its version within its owner, starting at 1 and increasing by 1.
    public let version: Int
    /// What it does, for `strata fsck --schema`-style listings and the migration record.
    public let summary: String
    /// The statements; `CREATE … IF NOT EXISTS` in baselines, so stores made before migrations existed upgrade cleanly.
    public let sql: String

    /// Creates a migration.
    public init(_ version: Int, _ summary: String, _ sql: String) {
        self.version = version; self.summary = summary; self.sql = sql
    }
}

/// The tables of one module: its name and its ordered migrations. Each module declares its own and reaches its
/// tables only through its own types.
public struct ModuleSchema: Sendable {
    /// The module that owns the tables (`objects`, `refs`, `lineage`, …).
    public let owner: String
    /// Migrations in version order.
    public let migrations: [Migration]

    /// Declares a module's schema; versions must be 1, 2, 3, … in order.
    public init(owner: String, migrations: [Migration]) {
        precondition(
            migrations.enumerated().allSatisfy { $0.offset + 1 == $0.element.version }, "migrations of \(owner) must be numbered 1, 2, 3, … (this is a bug)")
        self.owner = owner; self.migrations = migrations
    }

    /// The newest version this build knows.
    public var latest: Int { migrations.last?.version ?? 0 }
}

/// A store whose schema is newer than this build: refused before anything is written.
public struct SchemaTooNew: StrataError, Equatable {
    /// The store's schema version (`PRAGMA user_version`).
    public let found: Int
    /// The newest this build knows.
    public let supported: Int
    /// The module whose recorded migrations are newer, when that is how it was found.
    public let owner: String?
    public var code: String { "store.schema-too-new" }
    public var category: ErrorCategory { .tooNew }
    public var message: String {
        "this store's schema is version \(found)\(owner.map { " (\($0) tables)" } ?? ""), newer than this strata knows (\(supported)); nothing was changed"
    }
    public var nextStep: String? { "upgrade strata" }
}

/// Applies pending migrations. The store's schema version lives in `PRAGMA user_version`; what each module has
/// applied lives in `schema_migrations (owner, version, summary, applied)`.
public enum Migrator {
    /// Creates the bookkeeping table (itself the migrator's own baseline).
    static let bookkeeping = """
        CREATE TABLE IF NOT EXISTS schema_migrations (owner TEXT NOT NULL, version INTEGER NOT NULL, summary TEXT NOT NULL,
            applied INTEGER NOT NULL, PRIMARY KEY (owner, version)) WITHOUT ROWID;
        """

    /// The schema version stamped in the file (`PRAGMA user_version`; 0 for stores made before migrations).
    public static func storedVersion(_ db: Database) throws -> Int {
        Int(try db.scalarInt("PRAGMA user_version") ?? 0)
    }

    /// Applies every pending migration of `schemas` in **one** transaction and stamps `storeVersion` (when higher than
    /// the file's). Refuses, changing nothing, a store whose stamp is newer than `storeVersion` or whose record shows a
    /// migration of a known module that this build does not have. Returns the migrations applied.
    @discardableResult
    public static func migrate(_ db: Database, schemas: [ModuleSchema], storeVersion: Int, now: Int64) throws -> [(owner: String, migration: Migration)] {
        let found = try storedVersion(db)
        if found > storeVersion { throw SchemaTooNew(found: found, supported: storeVersion, owner: nil) }
        var applied: [String: Int] = [:]
        let hasTable = (try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") ?? 0) > 0
        if hasTable {
            try db.query("SELECT owner, max(version) FROM schema_migrations GROUP BY owner") { r in applied[r.text(0)] = Int(r.int(1)) }
        }
        for s in schemas where (applied[s.owner] ?? 0) > s.latest {
            throw SchemaTooNew(found: applied[s.owner] ?? 0, supported: s.latest, owner: s.owner)
        }
        let pending = schemas.flatMap { s in s.migrations.filter { $0.version > applied[s.owner] ?? 0 }.map { (s.owner, $0) } }
        if pending.isEmpty && found == storeVersion && hasTable { return [] }
        try db.transaction {
            try db.execute(bookkeeping)
            for (owner, m) in pending {
                try db.execute(m.sql)
                try db.run(
                    "INSERT INTO schema_migrations (owner, version, summary, applied) VALUES (?, ?, ?, ?)",
                    [.text(owner), .int(Int64(m.version)), .text(m.summary), .int(now)])
            }
            if found < storeVersion { try db.execute("PRAGMA user_version = \(storeVersion)") }
        }
        return pending.map { (owner: $0.0, migration: $0.1) }
    }

    /// What the store has applied, per module (for fsck and tests).
    public static func applied(_ db: Database) throws -> [String: Int] {
        var out: [String: Int] = [:]
        let hasTable = (try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") ?? 0) > 0
        guard hasTable else { return out }
        try db.query("SELECT owner, max(version) FROM schema_migrations GROUP BY owner") { r in out[r.text(0)] = Int(r.int(1)) }
        return out
    }
}
