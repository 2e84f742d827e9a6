import Foundation
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRepository
import StrataSQLite

/// Runs `body(i)` for every `i` in `0..<count` on up to `width` threads of its own (network waits, so not the
/// CPU-sized dispatch pool); rethrows the first error and stops handing out work after it.
func concurrently(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    if count == 0 { return }
    let state = Locked<(next: Int, error: (any Error)?)>((0, nil))
    let group = DispatchGroup()
    for _ in 0..<max(1, min(width, count)) {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            while let i = state.with({ s -> Int? in
                guard s.error == nil, s.next < count else { return nil }
                s.next += 1
                return s.next - 1
            }) {
                do { try body(i) } catch {
                    state.with { if $0.error == nil { $0.error = error } }
                    return
                }
            }
        }
    }
    group.wait()
    if let e = state.with({ $0.error }) { throw e }
}

/// Counts what crosses the wire, for reports and the benchmark.
public struct TransferStats: Sendable, Equatable {
    /// Requests made.
    public var requests = 0
    /// Bytes uploaded (bodies).
    public var bytesSent: Int64 = 0
    /// Bytes downloaded (bodies).
    public var bytesReceived: Int64 = 0
    /// Creates zeroed counters.
    public init() {}
}

/// A backend wrapper that counts requests and bytes.
final class CountingBackend: RemoteBackend, @unchecked Sendable {
    let inner: any RemoteBackend
    let stats = Locked(TransferStats())
    init(_ inner: any RemoteBackend) { self.inner = inner }
    var displayName: String { inner.displayName }
    func count(_ sent: Int64 = 0, _ received: Int64 = 0) {
        stats.with {
            $0.requests += 1; $0.bytesSent += sent; $0.bytesReceived += received
        }
    }
    func get(_ key: String) throws -> StoredObject? {
        let r = try inner.get(key); count(0, Int64(r?.bytes.count ?? 0)); return r
    }
    func getRange(_ key: String, offset: Int64, length: Int) throws -> [UInt8] {
        let r = try inner.getRange(key, offset: offset, length: length); count(0, Int64(r.count)); return r
    }
    func head(_ key: String) throws -> String? { count(); return try inner.head(key) }
    func create(_ key: String, _ bytes: [UInt8]) throws -> PutOutcome { count(Int64(bytes.count)); return try inner.create(key, bytes) }
    func put(_ key: String, _ bytes: [UInt8], ifMatch etag: String) throws -> PutOutcome {
        count(Int64(bytes.count)); return try inner.put(key, bytes, ifMatch: etag)
    }
    func list(prefix: String) throws -> [String] { count(); return try inner.list(prefix: prefix) }
    func listDetailed(prefix: String) throws -> [ListedObject] { count(); return try inner.listDetailed(prefix: prefix) }
    func delete(_ key: String) throws { count(); try inner.delete(key) }
    func createFile(_ key: String, path: String, sha256: String, size: Int64) throws -> PutOutcome {
        count(size); return try inner.createFile(key, path: path, sha256: sha256, size: size)
    }
}

/// The local cache of a remote's index fragments (tables owned by `remote`): which fragments were read, and every
/// object they list. Fragments are immutable, so one read is enough forever; a sync lists `index/` and downloads only
/// fragments it has not seen, so negotiation costs O(fragments), never O(objects).
public struct RemoteIndexCache: Sendable {
    /// The remote-layer tables (owner `remote`).
    public static let schema = ModuleSchema(
        owner: "remote",
        migrations: [
            Migration(
                1, "remote index fragments and the objects they list",
                """
                CREATE TABLE IF NOT EXISTS remote_fragments (remote TEXT NOT NULL, name TEXT NOT NULL, superseded INTEGER NOT NULL DEFAULT 0,
                    supersedes TEXT NOT NULL, dropped TEXT NOT NULL, PRIMARY KEY (remote, name)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS remote_objects (remote TEXT NOT NULL, id BLOB NOT NULL, fragment TEXT NOT NULL, kind INTEGER NOT NULL,
                    pack TEXT NOT NULL, frame_offset INTEGER NOT NULL, frame_length INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
                    PRIMARY KEY (remote, id, fragment)) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS remote_objects_by_frame ON remote_objects(remote, pack, frame_offset);
                """)
        ])

    let db: Database
    /// The remote's name in this store.
    public let remote: String

    init(repo: Repository, remote: String) throws {
        try repo.attach(RemoteIndexCache.schema)
        db = repo.db; self.remote = remote
    }

    /// What a sync found: the fragments that count now, and the packs gc dropped (with when).
    struct State {
        /// Every fragment listed, superseded ones included, with when it was written (seconds, the storage's clock).
        var written: [String: Int64]
        /// The fragments that count (listed and not superseded).
        var current: [String]
        var dropped: [String: Int64]
        var downloaded: Int
        /// Every fragment listed, in order.
        var listed: [String] { written.keys.sorted() }
    }

    /// Lists `index/`, downloads (verified) every fragment not yet cached, forgets fragments that are gone, and drops
    /// the objects of superseded ones.
    func sync(_ backend: any RemoteBackend, width: Int) throws -> State {
        var written: [String: Int64] = [:]
        for o in try backend.listDetailed(prefix: "index/") where o.key.hasSuffix(".idx") {
            let name = String(o.key.dropFirst("index/".count).dropLast(4))
            guard IndexFragment.isHex64(name) else { continue }
            written[name] = o.modified
        }
        var cached: [String: (superseded: Bool, supersedes: [String], dropped: String)] = [:]
        try db.query("SELECT name, superseded, supersedes, dropped FROM remote_fragments WHERE remote = ?", [.text(remote)]) { r in
            cached[r.text(0)] = (r.int(1) != 0, r.text(2).split(separator: ",").map(String.init), r.text(3))
        }
        let fresh = written.keys.filter { cached[$0] == nil }
        // Each fragment is stored as it arrives, its entries inserted as they are decoded (in one transaction per
        // fragment, rolled back if the fragment turns out malformed): memory holds the fragments in flight, never
        // every object they list.
        let got = Locked<[(String, IndexFragment)]>([])
        let display = backend.displayName
        try concurrently(fresh.count, width: width) { [self] i in
            let key = RemoteLayout.indexKey(fresh[i])
            guard let obj = try backend.get(key) else { return }  // removed by a gc meanwhile
            struct Malformed: Error {}
            do {
                guard ObjectID.hash(obj.bytes).hex == fresh[i] else { throw Malformed() }
                let header = try db.transaction { () throws -> IndexFragment in
                    guard let f = try IndexFragment.decode(obj.bytes, entries: { try insert($0, fragment: fresh[i]) }) else { throw Malformed() }
                    try insertHeader(fresh[i], f)
                    return f
                }
                got.with { $0.append((fresh[i], header)) }
            } catch is Malformed {
                throw RemoteSyncError.corruptRemote(remote: display, key: key, reason: "the index fragment does not match its name or does not decode")
            }
        }
        try db.transaction {
            for (name, f) in got.with({ $0 }) {
                cached[name] = (false, f.supersedes, Self.droppedText(f))
            }
            for (name, _) in cached where written[name] == nil {
                try db.run("DELETE FROM remote_objects WHERE remote = ? AND fragment = ?", [.text(remote), .text(name)])
                try db.run("DELETE FROM remote_fragments WHERE remote = ? AND name = ?", [.text(remote), .text(name)])
                cached[name] = nil
            }
            let superseded = Set(cached.values.flatMap(\.supersedes))
            for (name, c) in cached where superseded.contains(name) && !c.superseded {
                try db.run("DELETE FROM remote_objects WHERE remote = ? AND fragment = ?", [.text(remote), .text(name)])
                try db.run("UPDATE remote_fragments SET superseded = 1 WHERE remote = ? AND name = ?", [.text(remote), .text(name)])
                cached[name]?.superseded = true
            }
        }
        var dropped: [String: Int64] = [:]
        for (_, c) in cached where !c.superseded {
            for d in c.dropped.split(separator: ",") {
                let p = d.split(separator: ":")
                if p.count == 2, let t = Int64(p[1]) { dropped[String(p[0])] = max(dropped[String(p[0])] ?? 0, t) }
            }
        }
        return State(
            written: written, current: cached.filter { !$0.value.superseded }.keys.sorted(), dropped: dropped, downloaded: got.with { $0.count })
    }

    /// A fragment's `dropped` lines as the cache keeps them (`pack:time`, comma-separated).
    static func droppedText(_ f: IndexFragment) -> String { f.dropped.map { "\($0.pack):\($0.time)" }.joined(separator: ",") }

    /// Records that fragment `name` is cached, with what it supersedes and drops (its objects go in with `insert`).
    func insertHeader(_ name: String, _ f: IndexFragment) throws {
        try db.run(
            "INSERT OR REPLACE INTO remote_fragments (remote, name, superseded, supersedes, dropped) VALUES (?, ?, 0, ?, ?)",
            [.text(remote), .text(name), .text(f.supersedes.joined(separator: ",")), .text(Self.droppedText(f))])
    }

    func insert(_ e: RemoteObject, fragment: String) throws {
        try db.run(
            "INSERT OR IGNORE INTO remote_objects (remote, id, fragment, kind, pack, frame_offset, frame_length, offset, length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(remote), .blob(e.id.bytes), .text(fragment), .int(e.kind.rawValue), .text(e.pack), .int(e.frameOffset), .int(e.frameLength),
                .int(e.offset), .int(e.length),
            ])
    }

    /// Records a fragment this process wrote (so it is never downloaded again).
    func record(_ name: String, _ f: IndexFragment) throws {
        try db.transaction {
            try insertHeader(name, f)
            for e in f.entries { try insert(e, fragment: name) }
            for s in f.supersedes {
                try db.run("DELETE FROM remote_objects WHERE remote = ? AND fragment = ?", [.text(remote), .text(s)])
                try db.run("UPDATE remote_fragments SET superseded = 1 WHERE remote = ? AND name = ?", [.text(remote), .text(s)])
            }
        }
    }

    /// Where the remote has an object, or nil.
    func location(_ id: ObjectID) throws -> RemoteObject? {
        var out: RemoteObject?
        try db.query(
            "SELECT kind, pack, frame_offset, frame_length, offset, length FROM remote_objects WHERE remote = ? AND id = ? LIMIT 1",
            [.text(remote), .blob(id.bytes)]
        ) { r in
            out = RemoteObject(
                id: id, kind: ObjectKind(rawValue: r.int(0)) ?? .blob, pack: r.text(1), frameOffset: r.int(2), frameLength: r.int(3), offset: r.int(4),
                length: r.int(5))
        }
        return out
    }

    /// True when the remote's index lists the object.
    func has(_ id: ObjectID) throws -> Bool {
        (try db.scalarInt("SELECT count(*) FROM remote_objects WHERE remote = ? AND id = ?", [.text(remote), .blob(id.bytes)]) ?? 0) > 0
    }

    /// True when a fragment other than `fragment` lists the object.
    func has(_ id: ObjectID, besides fragment: String) throws -> Bool {
        (try db.scalarInt(
            "SELECT count(*) FROM remote_objects WHERE remote = ? AND id = ? AND fragment != ?", [.text(remote), .blob(id.bytes), .text(fragment)]) ?? 0)
            > 0
    }

    /// Of `names`, the current fragments a push wrote (they supersede nothing and drop nothing; a gc's do).
    func pushFragments(among names: [String]) throws -> Set<String> {
        var out = Set<String>()
        let wanted = Set(names)
        try db.query("SELECT name FROM remote_fragments WHERE remote = ? AND superseded = 0 AND supersedes = '' AND dropped = ''", [.text(remote)]) {
            r in
            if wanted.contains(r.text(0)) { out.insert(r.text(0)) }
        }
        return out
    }

    /// The objects the given fragments list.
    func objects(inFragments names: Set<String>) throws -> [RemoteObject] {
        var out: [RemoteObject] = []
        for name in names {
            try db.query("SELECT \(Self.objectColumns) FROM remote_objects WHERE remote = ? AND fragment = ?", [.text(remote), .text(name)]) { r in
                out.append(try Self.object(r))
            }
        }
        return out
    }

    /// Every listed object of the given kinds.
    func objects(kinds: [ObjectKind]) throws -> [RemoteObject] {
        var out: [RemoteObject] = []
        try db.query(
            "SELECT \(Self.objectColumns) FROM remote_objects WHERE remote = ? AND kind IN (\(kinds.map { String($0.rawValue) }.joined(separator: ",")))",
            [.text(remote)]
        ) { r in out.append(try Self.object(r)) }
        return out
    }

    static let objectColumns = "id, kind, pack, frame_offset, frame_length, offset, length"

    /// An object from a row of `objectColumns`.
    static func object(_ r: borrowing Row) throws -> RemoteObject {
        RemoteObject(
            id: try ObjectID(validating: r.blob(0), what: "remote index"), kind: ObjectKind(rawValue: r.int(1)) ?? .blob, pack: r.text(2),
            frameOffset: r.int(3), frameLength: r.int(4), offset: r.int(5), length: r.int(6))
    }

    /// Every listed object (gc).
    func all() throws -> [RemoteObject] { try objects(kinds: ObjectKind.allCases) }

    /// Forgets everything about the remote (when it is removed).
    func forget() throws {
        try db.transaction {
            try db.run("DELETE FROM remote_objects WHERE remote = ?", [.text(remote)])
            try db.run("DELETE FROM remote_fragments WHERE remote = ?", [.text(remote)])
        }
    }
}
