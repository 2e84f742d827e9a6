import StrataPlatform
import StrataModel
import StrataSQLite

/// Where HEAD points: a branch (possibly unborn) or a detached commit.
public enum Head: Sendable, Equatable {
    /// On a branch.
    case branch(BranchName)
    /// Detached at a commit.
    case detached(ObjectID)
}

/// A tag and, when annotated, its message, tagger and time.
public struct TagRecord: Sendable, Equatable {
    /// Tag name.
    public var name: TagName
    /// Commit it names.
    public var target: ObjectID
    /// Message of an annotated tag.
    public var message: String?
    /// Who tagged.
    public var tagger: String?
    /// When (seconds since the epoch).
    public var time: Int64?
}

/// One movement of a ref.
public struct ReflogEntry: Sendable, Equatable {
    /// Sequence number, increasing.
    public var sequence: Int64
    /// `HEAD`, `refs/heads/NAME` or `refs/tags/NAME`.
    public var ref: String
    /// Value before (nil when created).
    public var old: ObjectID?
    /// Value after (nil when deleted).
    public var new: ObjectID?
    /// Seconds since the epoch.
    public var time: Int64
    /// What moved it (`commit: msg`, `reset: moving to X`, …).
    public var message: String
}

/// Failures of the ref engine.
public enum RefError: StrataError {
    /// The ref did not hold the expected value: another process moved it.
    case conflict(ref: String, expected: ObjectID?, found: ObjectID?)
    /// No such branch or tag.
    case notFound(String)
    /// The branch or tag exists already.
    case exists(String)
    /// The current branch may not be deleted.
    case deletingCurrentBranch(String)
    /// A new ref whose name differs from an existing one's only in Unicode normalization (NFC against NFD).
    case equivalentName(String, existing: String)

    var parts: (code: String, category: ErrorCategory, message: String, next: String?) {
        switch self {
        case .conflict(let r, _, _):
            return ("ref.conflict", .conflict, "\(r) was moved by another process while this command ran; nothing was changed", "retry the command")
        case .notFound(let r): return ("ref.not-found", .notFound, "'\(r)' does not exist", "list them with 'strata branch' or 'strata tag'")
        case .exists(let r): return ("ref.exists", .conflict, "'\(r)' already exists", "pick another name or delete it first")
        case .deletingCurrentBranch(let b):
            return ("ref.current-branch", .conflict, "cannot delete branch '\(b)': it is checked out", "switch to another branch first")
        case .equivalentName(let r, let e):
            return (
                "ref.equivalent-name", .conflict,
                "'\(ModelError.scalars(r))' differs from the existing '\(ModelError.scalars(e))' only in Unicode normalization (NFC against NFD)",
                "use the existing name, or pick another: the two would print alike and compare as one"
            )
        }
    }

    public var code: String { parts.code }
    public var category: ErrorCategory { parts.category }
    public var message: String { parts.message }
    public var nextStep: String? { parts.next }
}

/// Branches, tags and HEAD in SQLite, moved by compare-and-swap inside transactions, with a reflog.
public struct RefStore: Sendable {
    /// The shared metadata database.
    public let db: Database

    /// The ref tables (owner `refs`).
    public static let schema = ModuleSchema(
        owner: "refs",
        migrations: [
            Migration(
                1, "refs, HEAD and the reflog",
                """
                CREATE TABLE IF NOT EXISTS refs (name TEXT PRIMARY KEY, target BLOB NOT NULL, message TEXT, tagger TEXT, time INTEGER);
                CREATE TABLE IF NOT EXISTS head (id INTEGER PRIMARY KEY CHECK (id = 1), branch TEXT, detached BLOB);
                CREATE TABLE IF NOT EXISTS reflog (seq INTEGER PRIMARY KEY AUTOINCREMENT, ref TEXT NOT NULL, old BLOB, new BLOB,
                    time INTEGER NOT NULL, message TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS reflog_by_ref ON reflog(ref, seq);
                INSERT OR IGNORE INTO head (id, branch, detached) VALUES (1, 'main', NULL);
                """)
        ])

    /// Uses the ref tables of `db` (created by the store's migrator from `RefStore.schema`).
    public init(db: Database) throws {
        self.db = db
    }

    static func branchRef(_ b: BranchName) -> String { "refs/heads/" + b.rawValue }
    static func tagRef(_ t: TagName) -> String { "refs/tags/" + t.rawValue }

    /// Where HEAD points.
    public func head() throws -> Head {
        var h: Head = .branch(.main)
        try db.query("SELECT branch, detached FROM head WHERE id = 1") { r in
            if !r.isNull(1) { h = .detached(try ObjectID(validating: r.blob(1), what: "HEAD")) } else if let b = try? BranchName(r.text(0)) { h = .branch(b) }
        }
        return h
    }

    /// The commit HEAD resolves to (nil on an unborn branch).
    public func headCommit() throws -> ObjectID? {
        switch try head() {
        case .detached(let id): return id
        case .branch(let b): return try branch(b)
        }
    }

    /// Points HEAD at a branch or a commit, logging the move.
    public func setHead(_ h: Head, message: String, time: Int64) throws {
        try db.transaction {
            let old = try headCommit()
            switch h {
            case .branch(let b): try db.run("UPDATE head SET branch = ?, detached = NULL WHERE id = 1", [.text(b.rawValue)])
            case .detached(let id): try db.run("UPDATE head SET branch = NULL, detached = ? WHERE id = 1", [.blob(id.bytes)])
            }
            let new = try headCommit()
            try log("HEAD", old: old, new: new, time: time, message: message)
        }
    }

    /// The commit a full ref name points to, or nil.
    public func get(_ ref: String) throws -> ObjectID? {
        var out: ObjectID?
        try db.query("SELECT target FROM refs WHERE name = ?", [.text(ref)]) { r in out = try ObjectID(validating: r.blob(0), what: "ref \(ref)") }
        return out
    }

    /// The commit a branch points to.
    public func branch(_ b: BranchName) throws -> ObjectID? { try get(RefStore.branchRef(b)) }

    /// A tag's record.
    /// Matched byte for byte, as SQLite matches branches (`==` on names follows canonical equivalence).
    public func tag(_ t: TagName) throws -> TagRecord? { try tags().first { $0.name.rawValue.utf8.elementsEqual(t.rawValue.utf8) } }

    /// Every branch with its commit, sorted by name.
    public func branches() throws -> [(name: BranchName, target: ObjectID)] {
        var out: [(BranchName, ObjectID)] = []
        try db.query("SELECT name, target FROM refs WHERE name LIKE 'refs/heads/%' ORDER BY name") { r in
            if let b = try? BranchName(String(r.text(0).dropFirst(11))) { out.append((b, try ObjectID(validating: r.blob(1), what: "branch \(b)"))) }
        }
        return out
    }

    /// Every tag, sorted by name.
    public func tags() throws -> [TagRecord] {
        var out: [TagRecord] = []
        try db.query("SELECT name, target, message, tagger, time FROM refs WHERE name LIKE 'refs/tags/%' ORDER BY name") { r in
            if let t = try? TagName(String(r.text(0).dropFirst(10))) {
                out.append(
                    TagRecord(
                        name: t, target: try ObjectID(validating: r.blob(1), what: "tag \(t)"), message: r.isNull(2) ? nil : r.text(2),
                        tagger: r.isNull(3) ? nil : r.text(3), time: r.isNull(4) ? nil : r.int(4)))
            }
        }
        return out
    }

    /// Compare-and-swap of a ref: succeeds only when it still holds `expected` (nil = must not exist).
    /// `new` nil deletes it. Logged in the reflog, and for the checked-out branch also as `HEAD`.
    public func update(
        _ ref: String, expected: ObjectID?, new: ObjectID?, message: String, time: Int64,
        tagMessage: String? = nil, tagger: String? = nil
    ) throws {
        try db.transaction {
            let current = try get(ref)
            guard current == expected else { throw RefError.conflict(ref: ref, expected: expected, found: current) }
            // Swift compares names as text (canonical equivalence): an NFC "café" and an NFD one would be two refs in
            // SQLite but one name wherever names are compared or keyed above it.
            if current == nil, new != nil, ref.utf8.contains(where: { $0 >= 0x80 }) {
                var clash: String?
                try db.query("SELECT name FROM refs") { r in
                    let name = r.text(0)
                    if clash == nil, name == ref, !name.utf8.elementsEqual(ref.utf8) { clash = name }
                }
                if let clash { throw RefError.equivalentName(ref, existing: clash) }
            }
            if let new {
                try db.run(
                    "INSERT OR REPLACE INTO refs (name, target, message, tagger, time) VALUES (?, ?, ?, ?, ?)",
                    [
                        .text(ref), .blob(new.bytes), tagMessage.map { .text($0) } ?? .null, tagger.map { .text($0) } ?? .null,
                        tagMessage == nil ? .null : .int(time),
                    ])
            } else {
                try db.run("DELETE FROM refs WHERE name = ?", [.text(ref)])
            }
            try log(ref, old: current, new: new, time: time, message: message)
            if case .branch(let b) = try head(), RefStore.branchRef(b) == ref {
                try log("HEAD", old: current, new: new, time: time, message: message)
            }
        }
    }

    /// Moves a branch by compare-and-swap.
    public func updateBranch(_ b: BranchName, expected: ObjectID?, new: ObjectID?, message: String, time: Int64) throws {
        try update(RefStore.branchRef(b), expected: expected, new: new, message: message, time: time)
    }

    /// Creates or deletes a tag.
    public func updateTag(_ t: TagName, expected: ObjectID?, new: ObjectID?, message: String?, tagger: String?, time: Int64) throws {
        try update(
            RefStore.tagRef(t), expected: expected, new: new, message: new == nil ? "tag: delete" : "tag: create",
            time: time, tagMessage: message, tagger: tagger)
    }

    func log(_ ref: String, old: ObjectID?, new: ObjectID?, time: Int64, message: String) throws {
        if old == new && ref == "HEAD" && !message.hasPrefix("checkout") && !message.hasPrefix("switch") { return }
        try db.run(
            "INSERT INTO reflog (ref, old, new, time, message) VALUES (?, ?, ?, ?, ?)",
            [.text(ref), old.map { .blob($0.bytes) } ?? .null, new.map { .blob($0.bytes) } ?? .null, .int(time), .text(message)])
    }

    /// Reflog entries, newest first; all refs when `ref` is nil.
    public func reflog(_ ref: String?) throws -> [ReflogEntry] {
        var out: [ReflogEntry] = []
        let sql =
            ref == nil
            ? "SELECT seq, ref, old, new, time, message FROM reflog ORDER BY seq DESC"
            : "SELECT seq, ref, old, new, time, message FROM reflog WHERE ref = ? ORDER BY seq DESC"
        try db.query(sql, ref.map { [.text($0)] } ?? []) { r in
            out.append(
                ReflogEntry(
                    sequence: r.int(0), ref: r.text(1), old: r.isNull(2) ? nil : try ObjectID(validating: r.blob(2), what: "reflog"),
                    new: r.isNull(3) ? nil : try ObjectID(validating: r.blob(3), what: "reflog"), time: r.int(4), message: r.text(5)))
        }
        return out
    }

    /// The full ref name for user text: `HEAD`, a branch, or a tag.
    public func fullName(of name: String) throws -> String? {
        if name == "HEAD" { return "HEAD" }
        if let b = try? BranchName(name), try branch(b) != nil { return RefStore.branchRef(b) }
        if let t = try? TagName(name), try get(RefStore.tagRef(t)) != nil { return RefStore.tagRef(t) }
        if name.hasPrefix("refs/") { return name }
        return nil
    }
}
