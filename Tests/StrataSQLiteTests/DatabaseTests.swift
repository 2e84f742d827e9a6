import Foundation
import Testing
import StrataPlatform
@testable import StrataSQLite

func scratchDB() throws -> Database {
    let dir = NSTemporaryDirectory() + "sqlite-\(Posix.randomHex(5))"
    try Posix.makeDirectories(dir)
    return try Database(path: dir + "/t.db")
}

@Suite("SQLite connection") struct DatabaseTests {
    @Test func walModeAndRoundTripOfEveryValueKind() throws {
        let db = try scratchDB()
        var mode = ""
        try db.query("PRAGMA journal_mode") { r in mode = r.text(0) }
        #expect(mode == "wal")
        try db.execute("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n TEXT)")
        try db.run("INSERT INTO t VALUES (?, ?, ?, ?)", [.int(-7), .text("héllo"), .blob([0, 1, 255]), .null])
        var got: (Int64, String, [UInt8], Bool) = (0, "", [], false)
        try db.query("SELECT i, s, b, n FROM t") { r in got = (r.int(0), r.text(1), r.blob(2), r.isNull(3)) }
        #expect(got.0 == -7 && got.1 == "héllo" && got.2 == [0, 1, 255] && got.3)
        // Prepared statements are reused with new bindings.
        for k in 0..<5 { try db.run("INSERT INTO t VALUES (?, ?, ?, ?)", [.int(Int64(k)), .text("x"), .blob([]), .null]) }
        #expect(try db.scalarInt("SELECT count(*) FROM t WHERE s = ?", [.text("x")]) == 5)
    }

    @Test func failedTransactionLeavesNothingAndNestedOnesJoin() throws {
        let db = try scratchDB()
        try db.execute("CREATE TABLE t (i INTEGER PRIMARY KEY)")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES (1)")
                try db.transaction { try db.run("INSERT INTO t VALUES (2)") }  // joins the outer one
                throw Boom()
            }
        }
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 0)
        try db.transaction { try db.run("INSERT INTO t VALUES (3)") }
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 1)
    }

    /// A read snapshot: statements from several threads read one state, a write by another connection meanwhile is
    /// not seen until it ends, and the connection is usable afterwards.
    @Test func readSnapshotIsOneStateForEveryThread() throws {
        let db = try scratchDB()
        try db.execute("CREATE TABLE t (i INTEGER PRIMARY KEY)")
        for i in 0..<100 { try db.run("INSERT INTO t VALUES (?)", [.int(Int64(i))]) }
        let other = try Database(path: db.path)
        let counts = try db.readSnapshot { () -> [Int64] in
            let first = try db.scalarInt("SELECT count(*) FROM t") ?? -1
            try other.run("INSERT INTO t VALUES (1000)")
            final class Box: @unchecked Sendable { var v: [Int64] = []; let l = NSLock() }
            let box = Box()
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                let n = (try? db.scalarInt("SELECT count(*) FROM t")) ?? -1
                box.l.lock(); box.v.append(n ?? -1); box.l.unlock()
            }
            return [first] + box.v
        }
        #expect(counts == [100, 100, 100, 100, 100])
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 101)
        try db.transaction { try db.run("INSERT INTO t VALUES (2000)") }
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 102)
    }

    @Test func relaxedTransactionRestoresFullSync() throws {
        let db = try scratchDB()
        try db.execute("CREATE TABLE t (i INTEGER)")
        try db.relaxedTransaction { try db.run("INSERT INTO t VALUES (1)") }
        #expect(try db.scalarInt("PRAGMA synchronous") == 2)  // FULL
    }

    @Test func errorsAreTypedWithCategories() throws {
        let db = try scratchDB()
        do { try db.execute("SELECT * FROM missing"); Issue.record("no error") } catch {
            #expect(error.code == "database.error")
            #expect(error.category == .failure)
            #expect(error.description.contains("missing"))
        }
        let busy = SQLiteError(code: 5, message: "database is locked", sql: "BEGIN")
        #expect(busy.isBusy && busy.category == .locked && busy.nextStep != nil)
    }

    @Test func migratorAppliesInOrderOnceAndRefusesNewer() throws {
        let db = try scratchDB()
        let v1 = ModuleSchema(owner: "m", migrations: [Migration(1, "t", "CREATE TABLE IF NOT EXISTS t (a INTEGER);")])
        let v2 = ModuleSchema(owner: "m", migrations: v1.migrations + [Migration(2, "column b", "ALTER TABLE t ADD COLUMN b TEXT;")])
        #expect(try Migrator.migrate(db, schemas: [v1], storeVersion: 1, now: 0).count == 1)
        #expect(try Migrator.migrate(db, schemas: [v1], storeVersion: 1, now: 0).isEmpty)
        #expect(try Migrator.migrate(db, schemas: [v2], storeVersion: 2, now: 0).map(\.migration.version) == [2])
        try db.run("INSERT INTO t (a, b) VALUES (1, 'x')")
        #expect(try Migrator.storedVersion(db) == 2)
        #expect(throws: SchemaTooNew.self) { try Migrator.migrate(db, schemas: [v1], storeVersion: 1, now: 0) }
        // A migration that fails leaves nothing half-applied.
        let bad = ModuleSchema(owner: "n", migrations: [Migration(1, "ok", "CREATE TABLE u (a);")])
        let worse = ModuleSchema(owner: "o", migrations: [Migration(1, "broken", "CREATE TABLE t (a);")])  // t exists
        #expect(throws: (any Error).self) { try Migrator.migrate(db, schemas: [bad, worse], storeVersion: 2, now: 0) }
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'u'") == 0)
        #expect(try Migrator.applied(db)["n"] == nil)
    }
}
