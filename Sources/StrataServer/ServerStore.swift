import Foundation
import StrataModel
import StrataPlatform
import StrataSQLite

/// A role on a branch pattern or a namespace, weakest first; each includes the ones before it.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Reads refs matching the pattern, and the data they need.
    case reader
    /// Also creates and moves refs matching the pattern that are not protected, and creates tags.
    case writer
    /// Also force-moves and deletes refs, moves tags, merges into protected branches, runs remote gc.
    case maintainer
    /// Also manages the namespace's grants and protections over the API.
    case admin

    var rank: Int { Role.allCases.firstIndex(of: self)! }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// One grant: `principal` has `role` on refs of `namespace` (a glob) matching `pattern` (a glob over the branch name,
/// or `tags/NAME` for tags). `principal` is a user, `*` (every signed-in user) or `anonymous`.
public struct Grant: Sendable, Equatable, Codable {
    /// The namespace glob (`dev`, `*`).
    public var namespace: String
    /// A user name, `*` or `anonymous`.
    public var principal: String
    /// A ref glob: `*` matches within one `/`-separated part, `**` across parts (`dev/*`, `main`, `tags/**`).
    public var pattern: String
    /// The role granted.
    public var role: Role
    /// Creates a value.
    public init(namespace: String, principal: String, pattern: String, role: Role) {
        self.namespace = namespace; self.principal = principal; self.pattern = pattern; self.role = role
    }
}

/// What a permission check is about.
public enum Scope: Sendable, Equatable {
    /// One branch (`main`) or tag (`tags/v1`).
    case ref(String)
    /// Any ref of the namespace: reading or pushing data (packs, index), which every ref shares.
    case anyRef
    /// The namespace as a whole (gc, index compaction): only grants on the pattern `**` count.
    case namespace
}

extension Protection {
    /// `protected`, or the rules: `require-merge`, `require-lineage`, or both joined by `+`.
    public var summary: String {
        let verify = requireVerify.map { $0.isEmpty ? ["require-verify"] : ["require-verify=" + $0.joined(separator: ",")] } ?? []
        let rules = (requireMerge ? ["require-merge"] : []) + (requireLineage ? ["require-lineage"] : []) + verify
        return rules.isEmpty ? "protected" : rules.joined(separator: "+")
    }
}

/// Branch protection: a protected branch is never force-moved or deleted; with `requireMerge` it only takes merge
/// commits pushed by a maintainer.
public struct Protection: Sendable, Equatable, Codable {
    /// The namespace (exact).
    public var namespace: String
    /// The branch glob.
    public var pattern: String
    /// Only merges, by a maintainer.
    public var requireMerge: Bool
    /// Every new commit has complete lineage (its bundle, checked as `lineage verify` checks).
    public var requireLineage: Bool
    /// The new tip has a check the server signed: lineage verified and these stages reproduced (nil: not required).
    public var requireVerify: [String]?
    /// Creates a value.
    public init(namespace: String, pattern: String, requireMerge: Bool, requireLineage: Bool = false, requireVerify: [String]? = nil) {
        self.namespace = namespace; self.pattern = pattern; self.requireMerge = requireMerge; self.requireLineage = requireLineage
        self.requireVerify = requireVerify
    }
}

/// A token as listed (never its secret).
public struct TokenInfo: Sendable, Equatable, Codable {
    /// The public id (`strata token revoke ID`).
    public var id: String
    /// Its user.
    public var user: String
    /// Created, seconds since the epoch.
    public var created: Int64
    /// Expiry (seconds), or nil for none.
    public var expires: Int64?
    /// When it was revoked, or nil.
    public var revoked: Int64?
}

/// Who a request is: a user signed in with a token, or anonymous.
public struct Principal: Sendable, Equatable {
    /// The user, or nil for anonymous.
    public var user: String?
    /// The token id used (for the audit log), or nil.
    public var tokenID: String?
    /// Anonymous.
    public static let anonymous = Principal(user: nil, tokenID: nil)
    /// The name the audit log records.
    public var name: String { user ?? "anonymous" }
}

/// One entry of the audit log: who did what, when, from where, with the old and new ids, chained by hash.
public struct AuditEntry: Sendable, Equatable, Codable {
    /// Position in the log, from 1.
    public var seq: Int64
    /// Nanoseconds since the epoch.
    public var time: Int64
    /// The user (or `anonymous`, or `local:<account>` for a command run on the server's machine).
    public var actor: String
    /// `ref.create`, `ref.update`, `ref.force`, `ref.delete`, `push.pack`, `protect`, `policy.set`, `token.create`, …
    public var action: String
    /// The namespace, or "" for server-wide actions.
    public var namespace: String
    /// The ref, pack, user or token acted on.
    public var target: String
    /// The old id or value ("" for none).
    public var old: String
    /// The new id or value ("" for none).
    public var new: String
    /// Where it came from (the client's address, or `cli`).
    public var source: String
    /// The hash of the entry before ("" for the first).
    public var prev: String
    /// SHA-256 over `prev` and this entry's fields.
    public var hash: String

    /// The hash this entry should carry.
    public var expectedHash: String {
        let fields = [prev, String(seq), String(time), actor, action, namespace, target, old, new, source]
        return ObjectID.hash(Array(fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "\n").utf8)).hex
    }
}

/// Failures of the server's own records and of requests it refuses, with codes clients and scripts rely on.
public enum ServerError: StrataError {
    /// No token, or one that is unknown, expired or revoked.
    case unauthenticated(String)
    /// The role needed is missing.
    case forbidden(action: String, needed: Role, target: String)
    /// The branch is protected against this move.
    case protected(ref: String, reason: String)
    /// A protected branch with `--require-merge` took something other than a maintainer's merge.
    case mergeRequired(ref: String, reason: String)
    /// A protected branch with `--require-lineage` took a commit without complete lineage.
    case lineageRequired(ref: String, reason: String)
    /// A protected branch with `--require-verify` took a tip without the signed check.
    case verifyRequired(ref: String, reason: String)
    /// A pushed object or pack failed verification.
    case verification(key: String, reason: String)
    /// The request is malformed (bad key, body, header).
    case badRequest(String)
    /// The body is larger than the limit.
    case tooLarge(limit: Int64)
    /// A user, token, namespace or entry that does not exist.
    case unknown(kind: String, name: String)
    /// A name that is taken or not allowed.
    case badName(kind: String, name: String, reason: String)
    /// The audit log's chain is broken at `seq`.
    case auditBroken(seq: Int64, reason: String)
    /// The server root is not one.
    case notAServer(String)

    public var code: String {
        switch self {
        case .unauthenticated: "server.unauthenticated"
        case .forbidden: "server.forbidden"
        case .protected: "server.protected"
        case .mergeRequired: "server.merge-required"
        case .lineageRequired: "server.lineage-required"
        case .verifyRequired: "server.verify-required"
        case .verification: "server.verification-failed"
        case .badRequest: "server.bad-request"
        case .tooLarge: "server.too-large"
        case .unknown: "server.unknown"
        case .badName: "server.bad-name"
        case .auditBroken: "audit.broken"
        case .notAServer: "server.not-a-server"
        }
    }
    public var category: ErrorCategory {
        switch self {
        case .unauthenticated: .unauthenticated
        case .forbidden, .protected, .mergeRequired, .lineageRequired, .verifyRequired: .forbidden
        case .verification, .auditBroken: .integrity
        case .badRequest, .tooLarge, .badName: .usage
        case .unknown: .notFound
        case .notAServer: .noStore
        }
    }
    public var message: String {
        switch self {
        case .unauthenticated(let why): why
        case .forbidden(let a, let r, let t): "\(a) '\(t)' needs the \(r.rawValue) role"
        case .protected(let r, let why): "'\(r)' is protected: \(why)"
        case .mergeRequired(let r, let why): "'\(r)' only takes merges by a maintainer: \(why)"
        case .lineageRequired(let r, let why): "'\(r)' only takes commits with complete lineage: \(why)"
        case .verifyRequired(let r, let why): "'\(r)' only takes verified commits: \(why)"
        case .verification(let k, let why): "'\(k)' failed verification: \(why)"
        case .badRequest(let why): why
        case .tooLarge(let l): "the request body is larger than \(l) bytes"
        case .unknown(let k, let n): "no \(k) '\(n)'"
        case .badName(let k, let n, let why): "the \(k) name '\(n)' is refused: \(why)"
        case .auditBroken(let s, let why): "the audit log is broken at entry \(s): \(why)"
        case .notAServer(let p): "'\(p)' is not a strata server root (no server.sqlite)"
        }
    }
    public var nextStep: String? {
        switch self {
        case .unauthenticated: "send a valid token (STRATA_TOKEN or the credentials file); an administrator creates one with 'strata token create USER'"
        case .forbidden: "ask an administrator for the role ('strata policy set USER ROLE PATTERN')"
        case .protected: "push to another branch and ask a maintainer to merge it; 'strata protect --list' shows the rules"
        case .mergeRequired: "push to a branch and have a maintainer merge it into the protected branch"
        case .lineageRequired: "commit with lineage on ('strata commit', 'strata repro'), check with 'strata lineage verify', then push"
        case .verifyRequired: "run 'strata check REV --remote NAME --stage S' for the commit (it verifies and reproduces, then records the check), then push"
        case .verification: "the client's store may be damaged: run 'strata fsck' there, then push again"
        case .badRequest: nil
        case .tooLarge: "push with smaller packs (remote.NAME.pack-size) or raise the server's --max-body"
        case .unknown(let k, _): "list them with 'strata \(k == "namespace" ? "namespace" : k) list'"
        case .badName: "use letters, digits, '-', '_' and '.', starting with a letter"
        case .auditBroken: "the log was changed outside strata; keep the file as evidence and restore the server root from backup"
        case .notAServer: "start one with 'strata serve DIR', or pass --root"
        }
    }
}

/// The server's own records in `server.sqlite` at the server root: namespaces, users, salted token hashes,
/// grants, protections and the hash-chained audit log. Admin commands on the server's machine and the running
/// server share it (SQLite WAL, one transaction per change), so a revoked token stops working at once.
public final class ServerStore: @unchecked Sendable {
    /// The server root (absolute).
    public let root: String
    let db: Database
    /// The key check records are signed with.
    public let signingKey: [UInt8]

    static let schema = ModuleSchema(
        owner: "server",
        migrations: [
            Migration(
                1, "namespaces, users, tokens, grants, protections, audit log",
                """
                CREATE TABLE namespaces (name TEXT PRIMARY KEY, storage TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE users (name TEXT PRIMARY KEY, created INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE tokens (id TEXT PRIMARY KEY, user TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL,
                    created INTEGER NOT NULL, expires INTEGER, revoked INTEGER) WITHOUT ROWID;
                CREATE TABLE grants (namespace TEXT NOT NULL, principal TEXT NOT NULL, pattern TEXT NOT NULL, role TEXT NOT NULL,
                    PRIMARY KEY (namespace, principal, pattern)) WITHOUT ROWID;
                CREATE TABLE protections (namespace TEXT NOT NULL, pattern TEXT NOT NULL, require_merge INTEGER NOT NULL,
                    PRIMARY KEY (namespace, pattern)) WITHOUT ROWID;
                CREATE TABLE audit (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                    namespace TEXT NOT NULL, target TEXT NOT NULL, old TEXT NOT NULL, new TEXT NOT NULL, source TEXT NOT NULL,
                    prev TEXT NOT NULL, hash TEXT NOT NULL);
                """),
            Migration(
                2, "protections may require complete lineage", "ALTER TABLE protections ADD COLUMN require_lineage INTEGER NOT NULL DEFAULT 0;"),
            Migration(3, "protections may require a signed verification check", "ALTER TABLE protections ADD COLUMN require_verify TEXT;"),
        ])

    /// Opens the server root, creating it (and `server.sqlite`, mode 0600) when `create`.
    public init(root: String, create: Bool) throws {
        let abs = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        self.root = URL(fileURLWithPath: abs).standardizedFileURL.path
        let path = self.root + "/server.sqlite"
        if try Posix.lstat(path) == nil {
            guard create else { throw ServerError.notAServer(self.root) }
            try FileManager.default.createDirectory(atPath: self.root + "/ns", withIntermediateDirectories: true)
            chmod(self.root, 0o700)
        }
        db = try Database(path: path)
        chmod(path, 0o600)
        try Migrator.migrate(db, schemas: [ServerStore.schema], storeVersion: 1, now: Posix.nowNs() / 1_000_000_000)
        signingKey = try ServerStore.loadSigningKey(root: self.root)
    }

    static func now() -> Int64 { Posix.nowNs() / 1_000_000_000 }

    /// The key a server root signs check records with (`server.key`, 32 random bytes, mode 0600), made once: two
    /// processes racing to make it both end up with the one that was linked into place first.
    static func loadSigningKey(root: String) throws -> [UInt8] {
        let path = root + "/server.key"
        if let k = try? Posix.readFile(path), k.count == 32 { return k }
        let tmp = path + ".tmp-" + Posix.randomHex(6)
        var generator = SystemRandomNumberGenerator()  // getrandom(2)
        try Posix.writeAtomically(tmp, (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        chmod(tmp, 0o600)
        _ = link(tmp, path)  // fails when another process made it first: theirs counts
        try? Posix.unlink(tmp)
        let k = try Posix.readFile(path)
        guard k.count == 32 else { throw ServerError.notAServer(root + " (server.key is damaged)") }
        return k
    }

    static func checkName(_ kind: String, _ name: String) throws {
        let ok =
            !name.isEmpty && name.count <= 64 && name.first!.isASCII && name.first!.isLetter
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
        if !ok { throw ServerError.badName(kind: kind, name: name, reason: "use letters, digits, '-', '_' and '.', starting with a letter") }
    }

    // MARK: Namespaces

    /// Names reserved for the server's own endpoints.
    static let reserved: Set<String> = ["healthz", "readyz", "metrics", "openapi.json", "api", "mcp", "ui", "static"]

    /// Adds a namespace whose remote lives in `storage` (`file:///…`, `s3://…`), or in `ns/NAME/remote` by default.
    public func addNamespace(_ name: String, storage: String?, actor: String, source: String) throws -> String {
        try ServerStore.checkName("namespace", name)
        if ServerStore.reserved.contains(name) { throw ServerError.badName(kind: "namespace", name: name, reason: "it is reserved for the server") }
        let where_ = storage ?? "file://" + root + "/ns/" + name + "/remote"
        try db.transaction {
            if try db.scalarInt("SELECT count(*) FROM namespaces WHERE name = ?", [.text(name)]) ?? 0 > 0 {
                throw ServerError.badName(kind: "namespace", name: name, reason: "it exists")
            }
            try db.run("INSERT INTO namespaces (name, storage, created) VALUES (?, ?, ?)", [.text(name), .text(where_), .int(ServerStore.now())])
            try appendAudit(actor: actor, action: "namespace.add", namespace: name, target: name, old: "", new: URLRedaction.redact(where_), source: source)
        }
        return where_
    }

    /// Every namespace with its storage URL.
    public func namespaces() throws -> [(name: String, storage: String)] {
        var out: [(String, String)] = []
        try db.query("SELECT name, storage FROM namespaces ORDER BY name") { r in out.append((r.text(0), r.text(1))) }
        return out.map { (name: $0.0, storage: $0.1) }
    }

    // MARK: Users and tokens

    /// Adds a user.
    public func addUser(_ name: String, actor: String, source: String) throws {
        try ServerStore.checkName("user", name)
        if name == "anonymous" { throw ServerError.badName(kind: "user", name: name, reason: "it means no user") }
        try db.transaction {
            if try db.scalarInt("SELECT count(*) FROM users WHERE name = ?", [.text(name)]) ?? 0 > 0 {
                throw ServerError.badName(kind: "user", name: name, reason: "it exists")
            }
            try db.run("INSERT INTO users (name, created) VALUES (?, ?)", [.text(name), .int(ServerStore.now())])
            try appendAudit(actor: actor, action: "user.add", namespace: "", target: name, old: "", new: "", source: source)
        }
    }

    /// Removes a user and revokes their tokens.
    public func removeUser(_ name: String, actor: String, source: String) throws {
        try db.transaction {
            guard try db.run("DELETE FROM users WHERE name = ?", [.text(name)]) > 0 else { throw ServerError.unknown(kind: "user", name: name) }
            try db.run("UPDATE tokens SET revoked = ? WHERE user = ? AND revoked IS NULL", [.int(ServerStore.now()), .text(name)])
            try db.run("DELETE FROM grants WHERE principal = ?", [.text(name)])
            try appendAudit(actor: actor, action: "user.remove", namespace: "", target: name, old: "", new: "", source: source)
        }
    }

    /// Every user.
    public func users() throws -> [String] {
        var out: [String] = []
        try db.query("SELECT name FROM users ORDER BY name") { r in out.append(r.text(0)) }
        return out
    }

    /// Creates a token for `user`, valid for `seconds` (nil: no expiry). Returns its id and the token, which is shown
    /// once: only a salted SHA-256 of its secret is kept.
    public func createToken(user: String, seconds: Int64?, actor: String, source: String) throws -> (id: String, token: String) {
        let id = Posix.randomHex(8), secret = Posix.randomHex(32), salt = Array(Posix.randomHex(16).utf8)
        let hash = ObjectID.hash(salt + Array(secret.utf8)).bytes
        let now = ServerStore.now()
        try db.transaction {
            guard try db.scalarInt("SELECT count(*) FROM users WHERE name = ?", [.text(user)]) ?? 0 > 0 else {
                throw ServerError.unknown(kind: "user", name: user)
            }
            try db.run(
                "INSERT INTO tokens (id, user, salt, hash, created, expires) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(id), .text(user), .blob(salt), .blob(hash), .int(now), seconds.map { .int(now + $0) } ?? .null])
            try appendAudit(
                actor: actor, action: "token.create", namespace: "", target: id, old: "", new: user + (seconds.map { " expires +\($0)s" } ?? ""),
                source: source)
        }
        return (id, "strata_\(id)_\(secret)")
    }

    /// Revokes a token by id.
    public func revokeToken(_ id: String, actor: String, source: String) throws {
        try db.transaction {
            guard try db.run("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", [.int(ServerStore.now()), .text(id)]) > 0 else {
                throw ServerError.unknown(kind: "token", name: id)
            }
            try appendAudit(actor: actor, action: "token.revoke", namespace: "", target: id, old: "", new: "", source: source)
        }
    }

    /// Every token (never a secret).
    public func tokens() throws -> [TokenInfo] {
        var out: [TokenInfo] = []
        try db.query("SELECT id, user, created, expires, revoked FROM tokens ORDER BY created, id") { r in
            out.append(
                TokenInfo(
                    id: r.text(0), user: r.text(1), created: r.int(2), expires: r.isNull(3) ? nil : r.int(3), revoked: r.isNull(4) ? nil : r.int(4)))
        }
        return out
    }

    /// The principal a bearer token stands for; throws `unauthenticated` (with the reason, never the token) for one
    /// that is malformed, unknown, expired or revoked. The comparison of hashes takes the same time wherever they differ.
    public func authenticate(_ token: String) throws -> Principal {
        let parts = token.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "strata", parts[1].utf8.count == 16, parts[2].utf8.count == 64 else {
            throw ServerError.unauthenticated("the token is not a strata token")
        }
        let id = String(parts[1])
        var row: (user: String, salt: [UInt8], hash: [UInt8], expires: Int64?, revoked: Bool)?
        try db.query("SELECT user, salt, hash, expires, revoked FROM tokens WHERE id = ?", [.text(id)]) { r in
            row = (r.text(0), r.blob(1), r.blob(2), r.isNull(3) ? nil : r.int(3), !r.isNull(4))
        }
        // An unknown id still costs one hash and one comparison, so timing does not tell ids apart.
        let salt = row?.salt ?? Array(repeating: 0, count: 32)
        let computed = ObjectID.hash(salt + Array(parts[2].utf8)).bytes
        let expected = row?.hash ?? Array(repeating: 0xFF, count: 32)
        guard let row, ServerStore.constantTimeEqual(computed, expected) else { throw ServerError.unauthenticated("the token is unknown") }
        if row.revoked { throw ServerError.unauthenticated("the token \(id) was revoked") }
        if let e = row.expires, e <= ServerStore.now() { throw ServerError.unauthenticated("the token \(id) expired") }
        guard try db.scalarInt("SELECT count(*) FROM users WHERE name = ?", [.text(row.user)]) ?? 0 > 0 else {
            throw ServerError.unauthenticated("the token's user was removed")
        }
        return Principal(user: row.user, tokenID: id)
    }

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    // MARK: Grants and protections

    /// Sets (or with `role` nil removes) a grant.
    public func setGrant(namespace: String, principal: String, pattern: String, role: Role?, actor: String, source: String) throws {
        if principal != "*" && principal != "anonymous" {
            guard try db.scalarInt("SELECT count(*) FROM users WHERE name = ?", [.text(principal)]) ?? 0 > 0 else {
                throw ServerError.unknown(kind: "user", name: principal)
            }
        }
        try RefGlob.check(pattern)
        try RefGlob.check(namespace)
        try db.transaction {
            var old = ""
            try db.query(
                "SELECT role FROM grants WHERE namespace = ? AND principal = ? AND pattern = ?", [.text(namespace), .text(principal), .text(pattern)]
            ) { r in old = r.text(0) }
            if let role {
                try db.run(
                    "INSERT OR REPLACE INTO grants (namespace, principal, pattern, role) VALUES (?, ?, ?, ?)",
                    [.text(namespace), .text(principal), .text(pattern), .text(role.rawValue)])
            } else {
                guard
                    try db.run(
                        "DELETE FROM grants WHERE namespace = ? AND principal = ? AND pattern = ?", [.text(namespace), .text(principal), .text(pattern)]) > 0
                else { throw ServerError.unknown(kind: "grant", name: "\(principal) \(pattern) in \(namespace)") }
            }
            try appendAudit(
                actor: actor, action: "policy.set", namespace: namespace, target: "\(principal) \(pattern)", old: old, new: role?.rawValue ?? "",
                source: source)
        }
    }

    /// The strongest role `p` has in `namespace` for `scope`, or nil. Anonymous grants count for everyone; `*` grants
    /// for every signed-in user.
    public func role(for p: Principal, namespace: String, scope: Scope) throws -> Role? {
        ServerStore.role(for: p, namespace: namespace, scope: scope, in: try grants())
    }

    /// The same decision over grants already read (a listing checks every ref against one read of the grants).
    public static func role(for p: Principal, namespace: String, scope: Scope, in grants: [Grant]) -> Role? {
        var best: Role?
        for g in grants where RefGlob.matches(g.namespace, namespace) {
            guard g.principal == "anonymous" || (p.user != nil && (g.principal == "*" || g.principal == p.user)) else { continue }
            switch scope {
            case .ref(let name): if !RefGlob.matches(g.pattern, name) { continue }
            case .anyRef: break
            case .namespace: if g.pattern != "**" { continue }
            }
            if best == nil || g.role > best! { best = g.role }
        }
        return best
    }

    /// Every grant.
    public func grants() throws -> [Grant] {
        var out: [Grant] = []
        try db.query("SELECT namespace, principal, pattern, role FROM grants ORDER BY namespace, principal, pattern") { r in
            if let role = Role(rawValue: r.text(3)) { out.append(Grant(namespace: r.text(0), principal: r.text(1), pattern: r.text(2), role: role)) }
        }
        return out
    }

    /// Protects (or with `remove` unprotects) branches matching `pattern` in `namespace`.
    public func protect(
        namespace: String, pattern: String, requireMerge: Bool, requireLineage: Bool = false, requireVerify: [String]? = nil, remove: Bool,
        actor: String, source: String
    ) throws {
        try RefGlob.check(pattern)
        try db.transaction {
            guard try db.scalarInt("SELECT count(*) FROM namespaces WHERE name = ?", [.text(namespace)]) ?? 0 > 0 else {
                throw ServerError.unknown(kind: "namespace", name: namespace)
            }
            if remove {
                guard try db.run("DELETE FROM protections WHERE namespace = ? AND pattern = ?", [.text(namespace), .text(pattern)]) > 0 else {
                    throw ServerError.unknown(kind: "protection", name: pattern)
                }
            } else {
                try db.run(
                    "INSERT OR REPLACE INTO protections (namespace, pattern, require_merge, require_lineage, require_verify) VALUES (?, ?, ?, ?, ?)",
                    [
                        .text(namespace), .text(pattern), .int(requireMerge ? 1 : 0), .int(requireLineage ? 1 : 0),
                        requireVerify.map { .text($0.joined(separator: ",")) } ?? .null,
                    ])
            }
            try appendAudit(
                actor: actor, action: remove ? "unprotect" : "protect", namespace: namespace, target: pattern, old: "",
                new: remove
                    ? ""
                    : Protection(
                        namespace: namespace, pattern: pattern, requireMerge: requireMerge, requireLineage: requireLineage, requireVerify: requireVerify
                    )
                    .summary,
                source: source)
        }
    }

    /// Every protection.
    public func protections() throws -> [Protection] {
        var out: [Protection] = []
        try db.query("SELECT namespace, pattern, require_merge, require_lineage, require_verify FROM protections ORDER BY namespace, pattern") { r in
            let verify = r.isNull(4) ? nil : r.text(4).split(separator: ",").map(String.init)
            out.append(Protection(namespace: r.text(0), pattern: r.text(1), requireMerge: r.int(2) != 0, requireLineage: r.int(3) != 0, requireVerify: verify))
        }
        return out
    }

    // MARK: Audit log

    /// Appends an entry, chained to the one before. Call inside a transaction with the change it records.
    func appendAudit(actor: String, action: String, namespace: String, target: String, old: String, new: String, source: String) throws {
        var prev = "", seq: Int64 = 1
        try db.query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1") { r in
            seq = r.int(0) + 1; prev = r.text(1)
        }
        var e = AuditEntry(
            seq: seq, time: Posix.nowNs(), actor: actor, action: action, namespace: namespace, target: target, old: old, new: new, source: source,
            prev: prev, hash: "")
        e.hash = e.expectedHash
        try db.run(
            "INSERT INTO audit (seq, time, actor, action, namespace, target, old, new, source, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .int(e.seq), .int(e.time), .text(e.actor), .text(e.action), .text(e.namespace), .text(e.target), .text(e.old), .text(e.new),
                .text(e.source), .text(e.prev), .text(e.hash),
            ])
    }

    /// Records an action in its own transaction (ref moves, which happen on the remote's storage).
    public func audit(actor: String, action: String, namespace: String, target: String, old: String, new: String, source: String) throws {
        try db.transaction { try appendAudit(actor: actor, action: action, namespace: namespace, target: target, old: old, new: new, source: source) }
    }

    /// The log, oldest first (the last `limit` entries when given).
    public func auditLog(limit: Int? = nil) throws -> [AuditEntry] {
        var out: [AuditEntry] = []
        let sql =
            "SELECT seq, time, actor, action, namespace, target, old, new, source, prev, hash FROM audit"
            + (limit.map { " WHERE seq > (SELECT coalesce(max(seq), 0) - \($0) FROM audit)" } ?? "") + " ORDER BY seq"
        try db.query(sql) { r in
            out.append(
                AuditEntry(
                    seq: r.int(0), time: r.int(1), actor: r.text(2), action: r.text(3), namespace: r.text(4), target: r.text(5), old: r.text(6),
                    new: r.text(7), source: r.text(8), prev: r.text(9), hash: r.text(10)))
        }
        return out
    }

    /// Checks the chain from the first entry: each entry's hash, and each link to the one before. Returns the number
    /// of entries and the last hash (to keep elsewhere: a log cut short after it no longer ends there).
    public func verifyAudit() throws -> (entries: Int, head: String) {
        var prev = "", expectedSeq: Int64 = 1, count = 0
        for e in try auditLog() {
            if e.seq != expectedSeq { throw ServerError.auditBroken(seq: expectedSeq, reason: "entry \(expectedSeq) is missing") }
            if e.prev != prev { throw ServerError.auditBroken(seq: e.seq, reason: "it does not link to the entry before") }
            if e.hash != e.expectedHash { throw ServerError.auditBroken(seq: e.seq, reason: "its content does not match its hash") }
            prev = e.hash; expectedSeq += 1; count += 1
        }
        return (count, prev)
    }
}

/// Ref and namespace globs: `*` matches within one `/`-separated part, `**` across parts, `?` one character.
public enum RefGlob {
    /// Throws for a pattern that is empty, too long or has characters a ref cannot.
    public static func check(_ p: String) throws {
        if p.isEmpty || p.count > 200 || p.contains("..") || p.hasPrefix("/") || p.contains(where: { $0.isWhitespace || $0 == "\\" }) {
            throw ServerError.badRequest("'\(p)' is not a ref pattern: use names, '/', '*', '**' and '?'")
        }
    }

    /// Whether `name` matches `pattern`.
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        func go(_ p: ArraySlice<UInt8>, _ n: ArraySlice<UInt8>) -> Bool {
            guard let c = p.first else { return n.isEmpty }
            if c == UInt8(ascii: "*") {
                let double = p.dropFirst().first == UInt8(ascii: "*")
                let rest = double ? p.dropFirst(2) : p.dropFirst()
                var i = n.startIndex
                while true {
                    if go(rest, n[i...]) { return true }
                    if i == n.endIndex || (!double && n[i] == UInt8(ascii: "/")) { return false }
                    i += 1
                }
            }
            guard let m = n.first else { return false }
            if c == UInt8(ascii: "?") ? m != UInt8(ascii: "/") : c == m { return go(p.dropFirst(), n.dropFirst()) }
            return false
        }
        return go(ArraySlice(pattern.utf8), ArraySlice(name.utf8))
    }
}
