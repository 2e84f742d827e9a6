import Foundation
import StrataModel
import StrataPlatform
import StrataSQLite

/// Where an object's bytes live: a frame of a pack file, and a slice of that frame once decompressed.
public struct ObjectLocation: Sendable, Equatable {
    /// What the object is.
    public var kind: ObjectKind
    /// Row id of the pack in the `packs` table.
    public var pack: Int64
    /// Byte offset of the frame header in the pack.
    public var frameOffset: Int64
    /// Length of the frame (header and stored bytes).
    public var frameLength: Int64
    /// Offset of the object inside the decompressed frame.
    public var offset: Int64
    /// Length of the object's bytes.
    public var length: Int64
}

/// The content-addressed object store: append-only pack files under `objects/packs/` indexed in SQLite.
///
/// Objects are immutable once their pack is renamed into place and indexed. Every read is verified
/// against the object's SHA-256. `lock` guards the open pack descriptors and the frame cache, which is why
/// the class may be `@unchecked Sendable`.
public final class ObjectStore: @unchecked Sendable {
    /// The `objects` folder.
    public let root: String
    /// The metadata database shared with the other engines.
    public let db: Database
    /// zstd level for new objects; 0 stores them without compression.
    public let compressionLevel: Int32
    private let lock = NSLock()
    private var descriptors: [Int64: Int32] = [:]
    /// Readers using each descriptor now; `retired` holds descriptors dropped while pinned (closed by the last reader).
    private var pins: [Int32: Int] = [:]
    private var retired: Set<Int32> = []
    private var packNames: [Int64: String] = [:]
    private var packSizes: [Int64: Int64] = [:]
    private var frameCache: [FrameKey: [UInt8]] = [:]
    private var frameOrder: [FrameKey] = []

    struct FrameKey: Hashable { var pack: Int64; var offset: Int64 }

    /// Magic at the start of every pack file.
    public static let packMagic = Array("STRATAPACK1\n".utf8)
    /// Magic at the start of every frame.
    static let frameMagic = Array("SFR".utf8)
    /// Frame header size: magic (3), compression (1), raw length (4), stored length (4).
    static let frameHeader = 12

    /// The object index's tables (owner `objects`).
    public static let schema = ModuleSchema(
        owner: "objects",
        migrations: [
            Migration(
                1, "packs and the object index",
                """
                CREATE TABLE IF NOT EXISTS packs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS objects (id BLOB PRIMARY KEY, kind INTEGER NOT NULL, pack INTEGER NOT NULL REFERENCES packs(id),
                    frame_offset INTEGER NOT NULL, frame_length INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS objects_by_pack ON objects(pack);
                """),
            Migration(
                2, "SHA-256 states at chunk boundaries of chunked files (a cache: a grown file's unchanged start is not chunked again)",
                """
                CREATE TABLE IF NOT EXISTS chunkstates (id BLOB PRIMARY KEY, states BLOB NOT NULL) WITHOUT ROWID;
                """),
        ])

    /// Opens the store rooted at `root`; its tables come from `ObjectStore.schema`, applied by the store's migrator.
    public init(root: String, db: Database, compressionLevel: Int32 = 3) throws {
        self.root = root; self.db = db; self.compressionLevel = compressionLevel
        try Posix.makeDirectories(packsPath)
    }

    deinit {
        for (_, fd) in descriptors { close(fd) }
        for fd in retired { close(fd) }
    }

    /// The folder that holds pack files.
    public var packsPath: String { root + "/packs" }

    // MARK: Lookup

    /// Where the object is, or nil when the store does not have it.
    public func location(_ id: ObjectID) throws -> ObjectLocation? {
        var loc: ObjectLocation?
        do {
            try db.query("SELECT kind, pack, frame_offset, frame_length, offset, length FROM objects WHERE id = ?", [.blob(id.bytes)]) { r in
                loc = ObjectLocation(
                    kind: ObjectKind(rawValue: r.int(0)) ?? .blob, pack: r.int(1), frameOffset: r.int(2),
                    frameLength: r.int(3), offset: r.int(4), length: r.int(5))
            }
        } catch { throw error }
        return loc
    }

    /// True when the store has the object.
    public func contains(_ id: ObjectID) throws -> Bool { try location(id) != nil }

    /// The kind of a stored object, or nil when missing.
    public func kind(of id: ObjectID) throws -> ObjectKind? { try location(id)?.kind }

    /// Ids of commits whose hex form starts with `prefix` (at most `limit`).
    public func commits(withPrefix prefix: String, limit: Int = 2) throws -> [ObjectID] {
        let lower = prefix.lowercased()
        guard lower.allSatisfy({ $0.isHexDigit }), !lower.isEmpty, lower.count <= 64 else { return [] }
        let lo = lower.padding(toLength: 64, withPad: "0", startingAt: 0)
        let hi = lower.padding(toLength: 64, withPad: "f", startingAt: 0)
        guard let a = ObjectID(hex: lo), let b = ObjectID(hex: hi) else { return [] }
        var out: [ObjectID] = []
        do {
            try db.query(
                "SELECT id FROM objects WHERE id BETWEEN ? AND ? AND kind = ? LIMIT ?",
                [.blob(a.bytes), .blob(b.bytes), .int(ObjectKind.commit.rawValue), .int(Int64(limit))]
            ) { r in
                out.append(try ObjectID(validating: r.blob(0), what: "objects index"))
            }
        } catch { throw error }
        return out
    }

    // MARK: Reading

    func packName(_ pack: Int64) throws -> String {
        lock.lock(); defer { lock.unlock() }
        if let n = packNames[pack] { return n }
        var name: String?
        do { try db.query("SELECT name FROM packs WHERE id = ?", [.int(pack)]) { r in name = r.text(0) } } catch { throw error }
        guard let name else { throw ObjectError.packMissing("#\(pack)") }
        packNames[pack] = name
        return name
    }

    /// Runs `body` with the pack's open descriptor, its name and size. The descriptor is pinned while `body` runs:
    /// `dropCaches` (after a download or a sweep, possibly on another thread) retires it instead of closing it, and
    /// the last reader closes it, so a read never lands on a closed or reused descriptor.
    func withDescriptor<R>(_ pack: Int64, _ body: (Int32, String, Int64) throws -> R) throws -> R {
        let name = try packName(pack)
        let (fd, size): (Int32, Int64) = try {
            lock.lock(); defer { lock.unlock() }
            if let fd = descriptors[pack] {
                pins[fd, default: 0] += 1
                return (fd, packSizes[pack] ?? 0)
            }
            let path = packsPath + "/" + name
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw errno == ENOENT ? ObjectError.packMissing(name) : ObjectError.io(PosixError("open", path)) }
            do { try ObjectStore.checkPackMagic(fd, name: name) } catch { close(fd); throw error }
            let size = (try? Posix.fstat(fd, path: path)).map { Int64($0.size) } ?? 0
            descriptors[pack] = fd
            packSizes[pack] = size
            pins[fd, default: 0] += 1
            return (fd, size)
        }()
        defer {
            lock.lock()
            let left = (pins[fd] ?? 1) - 1
            if left == 0 {
                pins[fd] = nil
                if retired.remove(fd) != nil { close(fd) }
            } else {
                pins[fd] = left
            }
            lock.unlock()
        }
        return try body(fd, name, size)
    }

    /// Throws unless the file open at `fd` starts with the pack magic.
    static func checkPackMagic(_ fd: Int32, name: String) throws {
        var head = [UInt8](repeating: 0, count: packMagic.count)
        let got = try head.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: 0, path: name) }
        guard got == packMagic.count, head == packMagic else {
            throw ObjectError.corruptPack(name, reason: "it does not start with the pack magic 'STRATAPACK1'")
        }
    }

    /// Checks one pack file's magic (fsck).
    public func verifyPackMagic(_ name: String) throws {
        let path = packsPath + "/" + name
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw errno == ENOENT ? ObjectError.packMissing(name) : ObjectError.io(PosixError("open", path)) }
        defer { close(fd) }
        try ObjectStore.checkPackMagic(fd, name: name)
    }

    /// The largest decompressed frame any writer makes is a solo chunk list; nothing stored is near this size.
    static let maxFrameBytes: Int64 = 1 << 30

    /// Reads and decompresses the frame holding `loc`.
    func frame(_ id: ObjectID, _ loc: ObjectLocation) throws -> [UInt8] {
        let key = FrameKey(pack: loc.pack, offset: loc.frameOffset)
        lock.lock()
        if let f = frameCache[key] { lock.unlock(); return f }
        lock.unlock()
        let (stored, got, name) = try withDescriptor(loc.pack) { fd, name, packSize -> ([UInt8], Int, String) in
            // Index values are untrusted: check them before they size an allocation or a slice.
            guard loc.frameOffset >= Int64(ObjectStore.packMagic.count), loc.frameLength >= Int64(ObjectStore.frameHeader),
                loc.frameLength <= ObjectStore.maxFrameBytes, loc.frameOffset <= packSize - loc.frameLength,
                loc.offset >= 0, loc.length >= 0, loc.length <= ObjectStore.maxFrameBytes, loc.offset <= ObjectStore.maxFrameBytes
            else {
                throw ObjectError.corrupt(
                    id, pack: name,
                    reason:
                        "its index entry (frame \(loc.frameOffset)+\(loc.frameLength), slice \(loc.offset)+\(loc.length)) lies outside the pack of \(packSize) bytes"
                )
            }
            var stored = [UInt8](repeating: 0, count: Int(loc.frameLength))
            let got = try stored.withUnsafeMutableBytes { (b) throws -> Int in try Posix.pread(fd, into: b, offset: loc.frameOffset, path: name) }
            return (stored, got, name)
        }
        guard got == stored.count else {
            throw ObjectError.corrupt(id, pack: name, reason: "frame header at offset \(loc.frameOffset) is damaged or truncated")
        }
        let raw: [UInt8]
        do { raw = try ObjectStore.decodeFrame(stored) } catch let e as FrameDamage {
            throw ObjectError.corrupt(id, pack: name, reason: e.reason)
        }
        guard Int64(raw.count) >= loc.offset + loc.length else {
            throw ObjectError.corrupt(id, pack: name, reason: "frame header claims \(raw.count) bytes, which does not fit the index")
        }
        if loc.offset != 0 || loc.length != raw.count {  // a group frame: keep it for its neighbours
            lock.lock()
            if frameCache[key] == nil {
                frameCache[key] = raw; frameOrder.append(key)
                if frameOrder.count > 16 { frameCache[frameOrder.removeFirst()] = nil }
            }
            lock.unlock()
        }
        return raw
    }

    /// The raw stored bytes of an object (a chunk list for a chunked file), verified where the id covers them.
    public func readPayload(_ id: ObjectID) throws -> (ObjectKind, [UInt8]) {
        guard let loc = try location(id) else { throw ObjectError.missing(id) }
        let f = try frame(id, loc)
        let bytes = (loc.offset == 0 && loc.length == f.count) ? f : Array(f[Int(loc.offset)..<Int(loc.offset + loc.length)])
        if loc.kind != .chunked {
            let got = ObjectID.hash(bytes)
            guard got == id else {
                throw ObjectError.corrupt(id, pack: (try? packName(loc.pack)) ?? "?", reason: "content hashes to \(got.hex)")
            }
        }
        return (loc.kind, bytes)
    }

    /// Reads a small object of a given kind (tree, commit, blob), verified.
    public func read(_ id: ObjectID, as kind: ObjectKind) throws -> [UInt8] {
        let (k, b) = try readPayload(id)
        guard k == kind else { throw ObjectError.wrongKind(id, expected: kind, found: k) }
        return b
    }

    /// Reads and decodes a tree.
    public func readTree(_ id: ObjectID) throws -> Tree {
        if id == Tree.empty.id { return Tree.empty }
        return try Tree.decode(read(id, as: .tree))
    }

    /// Reads and decodes a commit.
    public func readCommit(_ id: ObjectID) throws -> Commit {
        try Commit.decode(read(id, as: .commit))
    }

    /// True when the object is indexed with every part it needs: a chunked file's chunk list and all its chunks.
    /// This is the store's invariant (store/FORMAT.md, "Completeness"): gc removes a chunk list's row together with
    /// its chunks, and commit-time dedup and checkout trust an object only when this holds.
    public func hasAllParts(_ id: ObjectID) throws -> Bool {
        guard let loc = try location(id) else { return false }
        if loc.kind != .chunked { return true }
        return try firstMissingChunk(of: id) == nil
    }

    /// The first chunk of a chunked file that the store lacks (nil when complete or not chunked).
    public func missingPart(of id: ObjectID) throws -> ObjectID? {
        guard let loc = try location(id), loc.kind == .chunked else { return nil }
        return try firstMissingChunk(of: id)
    }

    func firstMissingChunk(of id: ObjectID) throws -> ObjectID? {
        for c in try chunkList(id).chunks where try location(c.id) == nil { return c.id }
        return nil
    }

    /// The SHA-256 states saved at some chunk boundaries of a chunked file (`WriteSession`), if any: how many chunks
    /// end at the boundary, its offset, and `SHA256Hasher.state` there.
    public func chunkStates(_ id: ObjectID) throws -> [ChunkState] {
        var blob: [UInt8] = []
        try db.query("SELECT states FROM chunkstates WHERE id = ?", [.blob(id.bytes)]) { r in blob = r.withBlob(0) { Array($0) } }
        return ChunkState.decode(blob)
    }

    /// The decoded chunk list of a chunked file.
    public func chunkList(_ id: ObjectID) throws -> ChunkList {
        let (kind, payload) = try readPayload(id)
        guard kind == .chunked else { throw ObjectError.wrongKind(id, expected: .chunked, found: kind) }
        guard let list = ChunkList.decode(payload) else {
            let loc = try location(id)
            throw ObjectError.corrupt(id, pack: (try? packName(loc?.pack ?? -1)) ?? "?", reason: "chunk list does not decode or fails its checksum")
        }
        return list
    }

    /// Streams a file's bytes (whole blob or chunked) to `sink`, verifying every chunk, the chunk list and, for a
    /// chunked file, the SHA-256 of the reassembled bytes against `id`. The sink has then seen the bytes already:
    /// a caller that writes them somewhere must treat the result as invalid when this throws.
    public func streamFile(_ id: ObjectID, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let (kind, payload) = try readPayload(id)
        switch kind {
        case .blob:
            try payload.withUnsafeBytes { try sink($0) }
        case .chunked:
            guard let list = ChunkList.decode(payload) else {
                let loc = try location(id)
                throw ObjectError.corrupt(id, pack: (try? packName(loc?.pack ?? -1)) ?? "?", reason: "chunk list does not decode or fails its checksum")
            }
            if let missing = try list.chunks.first(where: { try location($0.id) == nil }) {
                throw ObjectError.incomplete(id, missingChunk: missing.id)
            }
            var h = SHA256Hasher()
            for c in list.chunks {
                let bytes = try read(c.id, as: .blob)
                guard bytes.count == Int(c.size) else {
                    throw ObjectError.corrupt(id, pack: "?", reason: "chunk \(c.id.hex) has \(bytes.count) bytes, list says \(c.size)")
                }
                try bytes.withUnsafeBytes { b in
                    h.update(b); try sink(b)
                }
            }
            let got = h.finalize()
            guard got == id else {
                throw ObjectError.corrupt(
                    id, pack: (try? packName(try location(id)?.pack ?? -1)) ?? "?",
                    reason: "its chunks reassemble to bytes that hash to \(got.hex)")
            }
        default:
            throw ObjectError.wrongKind(id, expected: .blob, found: kind)
        }
    }

    /// Forgets cached descriptors and frames (after packs were rewritten or removed).
    public func dropCaches() {
        lock.lock(); defer { lock.unlock() }
        for (_, fd) in descriptors {
            if pins[fd] != nil { retired.insert(fd) } else { close(fd) }
        }
        descriptors = [:]; packNames = [:]; packSizes = [:]; frameCache = [:]; frameOrder = []
    }

    /// Every pack file on disk.
    public func packFilesOnDisk() -> [String] {
        ((try? Posix.listDirectory(packsPath)) ?? []).filter { $0.hasSuffix(".pack") }.sorted()
    }

    /// Starts a write session: new objects go to fresh packs that become visible only when recorded.
    public func beginWrite() -> WriteSession { WriteSession(store: self) }
}

/// The SHA-256 state of a chunked file's bytes at one chunk boundary: `chunks` chunks end at `offset`.
public struct ChunkState: Sendable, Equatable {
    /// Chunks before the boundary.
    public var chunks: Int
    /// The boundary's offset in the file.
    public var offset: Int64
    /// `SHA256Hasher.state` at the boundary.
    public var state: [UInt8]

    /// Several states as stored: per state, the chunk count (4 bytes) and offset (8 bytes) little-endian, the state's
    /// length (1 byte) and the state.
    static func encode(_ states: [ChunkState]) -> [UInt8] {
        var out: [UInt8] = []
        for s in states {
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: s.chunks >> (8 * i))) }
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: s.offset >> Int64(8 * i))) }
            out.append(UInt8(s.state.count))
            out.append(contentsOf: s.state)
        }
        return out
    }

    /// Decodes `encode`'s bytes; what does not decode is dropped (it is a cache).
    static func decode(_ b: [UInt8]) -> [ChunkState] {
        var out: [ChunkState] = []
        var i = 0
        while i + 13 <= b.count {
            let chunks = (0..<4).reduce(0) { $0 | Int(b[i + $1]) << (8 * $1) }
            let offset = (0..<8).reduce(Int64(0)) { $0 | Int64(b[i + 4 + $1]) << Int64(8 * $1) }
            let n = Int(b[i + 12])
            guard i + 13 + n <= b.count else { return [] }
            out.append(ChunkState(chunks: chunks, offset: offset, state: Array(b[(i + 13)..<(i + 13 + n)])))
            i += 13 + n
        }
        return out
    }
}
