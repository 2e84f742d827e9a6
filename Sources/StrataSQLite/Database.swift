import StrataPlatform
import CSQLite
import Foundation

/// An error from SQLite, with the statement and SQLite's own message.
public struct SQLiteError: StrataError {
    /// SQLite's result code.
    public let resultCode: Int32
    /// SQLite's message.
    public let sqliteMessage: String
    /// The SQL that failed.
    public let sql: String
    /// True when the database was busy or locked by another process.
    public var isBusy: Bool { resultCode == SQLITE_BUSY || resultCode == SQLITE_LOCKED }
    /// Creates an error from a result code, SQLite's message and the statement.
    public init(code: Int32, message: String, sql: String) { resultCode = code; sqliteMessage = message; self.sql = sql }
    public var code: String { isBusy ? "database.busy" : resultCode == SQLITE_CORRUPT || resultCode == SQLITE_NOTADB ? "database.corrupt" : "database.error" }
    public var category: ErrorCategory {
        if isBusy { return .locked }
        if resultCode == SQLITE_CORRUPT || resultCode == SQLITE_NOTADB { return .integrity }
        return .failure
    }
    public var message: String { "the metadata database failed (SQLite \(resultCode): \(sqliteMessage), in: \(sql.prefix(80)))" }
    public var nextStep: String? {
        if isBusy { return "another strata process is using the store; retry when it is done" }
        if category == .integrity { return "restore .strata/strata.db from a backup, then run 'strata fsck'" }
        return nil
    }
}

/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case text(String)
    case blob([UInt8])
}

/// One row of a query result, read by column index.
public struct Row: ~Copyable {
    let stmt: OpaquePointer
    /// The integer in column `i` (0 for NULL).
    public func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
    /// True when column `i` is NULL.
    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
    /// The text in column `i` ("" for NULL).
    public func text(_ i: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, i) else { return "" }
        return String(cString: p)
    }
    /// The bytes in column `i` (empty for NULL).
    public func blob(_ i: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(stmt, i))
        guard n > 0, let p = sqlite3_column_blob(stmt, i) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
    /// Calls `body` with the bytes of column `i` without copying.
    public func withBlob<R>(_ i: Int32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let n = Int(sqlite3_column_bytes(stmt, i))
        return body(UnsafeRawBufferPointer(start: sqlite3_column_blob(stmt, i), count: n))
    }
}

/// One SQLite connection, shared by every engine of one store in one process.
///
/// All access is serialised by `lock` (a recursive lock, so a transaction body may call back in);
/// that lock is why the type may be `@unchecked Sendable`.
public final class Database: @unchecked Sendable {
    private let handle: OpaquePointer
    private let lock = NSRecursiveLock()
    private var statements: [String: OpaquePointer] = [:]
    private var transactionDepth = 0
    /// The file this connection opened.
    public let path: String

    /// Opens (creating if needed) the database at `path`, in WAL mode with full fsync.
    public init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        var h: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &h, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let h else {
            let msg = h.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let h { sqlite3_close_v2(h) }
            throw SQLiteError(code: rc, message: msg, sql: "open \(path)")
        }
        handle = h
        self.path = path
        sqlite3_busy_timeout(h, 15_000)
        // Keep the -wal and -shm files when the last connection closes: reopening then needs no new file, so read-only
        // commands (log, status, fsck) still open the store on a full disk.
        var persist: Int32 = 1
        sqlite3_file_control(h, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
        if !readOnly {
            // WAL is persistent in the file: set it only when it is not already on, so that a full disk (where the
            // pragma itself fails) still lets read-only commands such as log and fsck work.
            var mode = ""
            do { try query("PRAGMA journal_mode") { r in mode = r.text(0).lowercased() } } catch let e as SQLiteError { throw e } catch {
                throw SQLiteError(code: 1, message: "\(error)", sql: "PRAGMA journal_mode")
            }
            if mode != "wal" { try execute("PRAGMA journal_mode=WAL") }
            try execute("PRAGMA synchronous=FULL")
        }
        try execute("PRAGMA foreign_keys=ON")
        try execute("PRAGMA cache_size=-16000")
        // With the WAL kept (above), SQLite leaves its checkpointed frames in place when the last connection closes:
        // the next process then recovers them, and checkpoints them all again when it closes, so every command, a
        // no-change `status` too, rewrote the whole WAL into the database and fsynced it (measured: 526 page writes
        // and 3 fsyncs per `status` of a 10,000-file store). A size limit of 0 truncates the kept WAL to nothing at
        // that close instead.
        try execute("PRAGMA journal_size_limit=0")
    }

    deinit {
        for (_, s) in statements { sqlite3_finalize(s) }
        sqlite3_close_v2(handle)
    }

    private func error(_ rc: Int32, _ sql: String) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(SQLiteError) {
        lock.lock(); defer { lock.unlock() }
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "error"
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: msg, sql: sql)
        }
    }

    private func prepared(_ sql: String) throws(SQLiteError) -> OpaquePointer {
        if let s = statements[sql] { return s }
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
        guard rc == SQLITE_OK, let s else { throw error(rc, sql) }
        statements[sql] = s
        return s
    }

    private func bind(_ s: OpaquePointer, _ values: [SQLValue], _ sql: String) throws(SQLiteError) {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v {
            case .null: rc = sqlite3_bind_null(s, idx)
            case .int(let x): rc = sqlite3_bind_int64(s, idx, x)
            case .text(let t): rc = sqlite3_bind_text(s, idx, t, -1, transient)
            case .blob(let b):
                rc = b.withUnsafeBytes { sqlite3_bind_blob(s, idx, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(b.count), transient) }
            }
            if rc != SQLITE_OK { throw error(rc, sql) }
        }
    }

    /// Runs a statement with bound values, calling `row` for each result row.
    public func query(_ sql: String, _ values: [SQLValue] = [], row: (borrowing Row) throws -> Void) throws {
        lock.lock(); defer { lock.unlock() }
        let s = try prepared(sql)
        defer { sqlite3_reset(s); sqlite3_clear_bindings(s) }
        try bind(s, values, sql)
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc, sql) }
            try row(Row(stmt: s))
        }
    }

    /// Runs a statement with bound values that returns no rows; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) -> Int {
        lock.lock(); defer { lock.unlock() }
        let s = try prepared(sql)
        defer { sqlite3_reset(s); sqlite3_clear_bindings(s) }
        try bind(s, values, sql)
        let rc = sqlite3_step(s)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw error(rc, sql) }
        return Int(sqlite3_changes(handle))
    }

    /// The first column of the first row as an integer, or nil when there is no row.
    public func scalarInt(_ sql: String, _ values: [SQLValue] = []) throws -> Int64? {
        var out: Int64?
        try query(sql, values) { r in if out == nil, !r.isNull(0) { out = r.int(0) } }
        return out
    }

    /// Runs `body` inside a transaction (`BEGIN IMMEDIATE` for writers, `BEGIN DEFERRED` for reads and
    /// temp-table work that must not hold the database's write lock); nested calls join the outer one.
    public func transaction<R>(deferred: Bool = false, _ body: () throws -> R) throws -> R {
        lock.lock(); defer { lock.unlock() }
        if transactionDepth > 0 {
            transactionDepth += 1; defer { transactionDepth -= 1 }
            return try body()
        }
        try execute(deferred ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE")
        transactionDepth = 1
        do {
            let r = try body()
            transactionDepth = 0
            try execute("COMMIT")
            return r
        } catch {
            transactionDepth = 0
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` inside one read transaction (`BEGIN DEFERRED`) without holding the connection's lock meanwhile, so
    /// that statements from several threads (a parallel walk) all read one snapshot and SQLite takes its WAL read lock
    /// once instead of once per statement. `body` must only read: a nested `transaction` would join this one.
    public func readSnapshot<R>(_ body: () throws -> R) throws -> R {
        lock.lock()
        if transactionDepth > 0 {
            lock.unlock()
            return try body()
        }
        do { try execute("BEGIN DEFERRED") } catch {
            lock.unlock()
            throw error
        }
        transactionDepth = 1
        lock.unlock()
        defer {
            lock.lock()
            transactionDepth = 0
            try? execute("COMMIT")
            lock.unlock()
        }
        return try body()
    }

    /// Runs `body` in one transaction with `synchronous=NORMAL`: durable at the next fsync of the WAL (any later FULL
    /// commit, or a checkpoint) and never corrupting, but without an fsync of its own. For records that may be lost
    /// on power failure, never on a crash (lineage events, run-cache rows).
    public func relaxedTransaction<R>(_ body: () throws -> R) throws -> R {
        lock.lock(); defer { lock.unlock() }
        if transactionDepth > 0 { return try transaction(body) }
        try execute("PRAGMA synchronous=NORMAL")
        defer { try? execute("PRAGMA synchronous=FULL") }
        return try transaction(body)
    }

    /// A query stepped by the caller, row by row, interleaved with other work on this connection (a merge-join of
    /// a table with another sorted stream, without loading the table). Its statement is its own, finalized with it.
    public func cursor(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) -> Cursor {
        lock.lock(); defer { lock.unlock() }
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, 0, &s, nil)
        guard rc == SQLITE_OK, let s else { throw error(rc, sql) }
        do { try bind(s, values, sql) } catch {
            sqlite3_finalize(s)
            throw error
        }
        return Cursor(db: self, stmt: s, sql: sql)
    }

    /// Starts a cursor's statement again with new values, under the connection's lock.
    fileprivate func restart(_ s: OpaquePointer, _ values: [SQLValue], _ sql: String) throws(SQLiteError) {
        lock.lock(); defer { lock.unlock() }
        sqlite3_reset(s)
        sqlite3_clear_bindings(s)
        try bind(s, values, sql)
    }

    /// One step of a cursor, under the connection's lock: true for a row, false at the end.
    fileprivate func step(_ s: OpaquePointer, _ sql: String) throws(SQLiteError) -> Bool {
        lock.lock(); defer { lock.unlock() }
        let rc = sqlite3_step(s)
        if rc == SQLITE_DONE { return false }
        guard rc == SQLITE_ROW else { throw error(rc, sql) }
        return true
    }

    /// Finalizes a cursor's statement under the connection's lock.
    fileprivate func finalize(_ s: OpaquePointer) {
        lock.lock(); defer { lock.unlock() }
        sqlite3_finalize(s)
    }

    /// Holds the connection's lock for the duration of `body` (a consistent series of reads).
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }
}

/// A query the caller steps through (`Database.cursor`); the current row is read with `row`.
public final class Cursor: @unchecked Sendable {
    private let db: Database
    private let stmt: OpaquePointer
    private let sql: String
    private var done = false

    fileprivate init(db: Database, stmt: OpaquePointer, sql: String) { self.db = db; self.stmt = stmt; self.sql = sql }

    deinit { db.finalize(stmt) }

    /// Moves to the next row: true when there is one (read it with `row`), false at the end (and after).
    public func next() throws(SQLiteError) -> Bool {
        if done { return false }
        if try !db.step(stmt, sql) { done = true }
        return !done
    }

    /// Steps through up to `count` rows under one acquisition of the connection's lock (cheaper than a lock per row
    /// when other threads use the connection), calling `body` for each; returns how many rows there were.
    public func next(upTo count: Int, _ body: (borrowing Row) throws -> Void) throws -> Int {
        try db.withLock {
            var n = 0
            while n < count, try next() {
                try body(Row(stmt: stmt))
                n += 1
            }
            return n
        }
    }

    /// Runs the query again from its first row with `values` bound instead (no new statement is prepared): how a
    /// cursor over a range of keys moves ahead to a later key.
    public func restart(_ values: [SQLValue]) throws(SQLiteError) {
        try db.restart(stmt, values, sql)
        done = false
    }

    /// Reads the current row (valid after `next` returned true, until the next call to `next`).
    public func row<R>(_ body: (borrowing Row) throws -> R) rethrows -> R { try body(Row(stmt: stmt)) }
}
