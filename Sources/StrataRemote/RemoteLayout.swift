import Foundation
import StrataModel
import StrataObjects
import StrataPlatform
#if canImport(Glibc)
import Glibc
#endif

/// Where one object lives on a remote: a frame of a remote pack, and its slice of the decompressed frame.
public struct RemoteObject: Sendable, Equatable {
    /// The object id.
    public var id: ObjectID
    /// What it is.
    public var kind: ObjectKind
    /// The pack's id (SHA-256 of the pack file, hex): the pack is `packs/<pack>.pack`.
    public var pack: String
    /// Offset of the frame header in the pack.
    public var frameOffset: Int64
    /// Header and stored bytes of the frame.
    public var frameLength: Int64
    /// Offset inside the decompressed frame.
    public var offset: Int64
    /// Length of the object's bytes.
    public var length: Int64
    /// Creates a value.
    public init(id: ObjectID, kind: ObjectKind, pack: String, frameOffset: Int64, frameLength: Int64, offset: Int64, length: Int64) {
        self.id = id; self.kind = kind; self.pack = pack; self.frameOffset = frameOffset; self.frameLength = frameLength
        self.offset = offset; self.length = length
    }
    /// The frame as a member list entry.
    public var member: FrameMember { FrameMember(id: id, kind: kind, offset: offset, length: length) }
}

/// The remote layout (store/FORMAT.md, "Remotes"): key names, and the binary encodings of pack trailers and index
/// fragments. Everything a reader takes from a remote is checked here before it is believed.
public enum RemoteLayout {
    /// Key of a pack.
    public static func packKey(_ id: String) -> String { "packs/\(id).pack" }
    /// Key of an index fragment.
    public static func indexKey(_ id: String) -> String { "index/\(id).idx" }
    /// Key of a commit's lineage bundle.
    public static func lineageKey(_ commit: String) -> String { "lineage/\(commit).json" }
    /// Key of a branch or tag (`refs/heads/main`).
    public static func refKey(_ full: String) -> String { full }
    /// The default branch's key.
    public static let headKey = "HEAD"
    /// The gc lease.
    public static let leaseKey = "locks/gc.lease"

    /// Bytes of one binary entry: id (32), kind (1), frame offset (8), frame length (4), offset (4), length (4).
    static let entrySize = 53
    static let fragmentMagic = Array("strata-index 1\n".utf8)
    static let trailerMagic = Array("SPKTRL01".utf8)

    static func be(_ v: UInt64, _ n: Int, into out: inout [UInt8]) {
        for s in stride(from: (n - 1) * 8, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
    }
    static func readBE(_ b: ArraySlice<UInt8>) -> UInt64 { b.reduce(0) { $0 << 8 | UInt64($1) } }

    static func encodeEntry(_ e: RemoteObject, into out: inout [UInt8]) {
        out.append(contentsOf: e.id.bytes)
        out.append(UInt8(e.kind.rawValue))
        be(UInt64(e.frameOffset), 8, into: &out); be(UInt64(e.frameLength), 4, into: &out)
        be(UInt64(e.offset), 4, into: &out); be(UInt64(e.length), 4, into: &out)
    }

    static func decodeEntry(_ b: ArraySlice<UInt8>, pack: String) -> RemoteObject? {
        let s = b.startIndex
        guard b.count == entrySize, let kind = ObjectKind(rawValue: Int64(b[s + 32])) else { return nil }
        let e = RemoteObject(
            id: ObjectID(bytes: b[s..<s + 32]), kind: kind, pack: pack, frameOffset: Int64(readBE(b[s + 33..<s + 41])),
            frameLength: Int64(readBE(b[s + 41..<s + 45])), offset: Int64(readBE(b[s + 45..<s + 49])), length: Int64(readBE(b[s + 49..<s + 53])))
        // Untrusted: a frame is at most 1 GiB, and the slice must fit a frame of that size.
        guard e.frameOffset >= 12, e.frameLength >= 12, e.frameLength <= 1 << 30, e.offset + e.length <= 1 << 30 else { return nil }
        return e
    }

    /// The trailer appended to a pack after its frames: the entries, their count, 16 random bytes (so that no two
    /// packs are ever the same file: a pack is never reused, so a gc can never delete one that a push counts on),
    /// the SHA-256 of all three, and a magic. It lets a pack be indexed again from itself (gc, repair) without the
    /// fragment that first listed it.
    public static func packTrailer(_ entries: [RemoteObject]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(entries.count * entrySize + 20)
        for e in entries { encodeEntry(e, into: &body) }
        be(UInt64(entries.count), 4, into: &body)
        body += (0..<16).map { _ in UInt8.random(in: 0...255) }
        let sum = ObjectID.hash(body).bytes
        return body + sum + trailerMagic
    }

    /// Bytes at the end of every trailer after the entries: count (4), nonce (16), checksum (32), magic (8).
    public static let trailerFixed = 60

    /// The number of entries a pack's last `trailerFixed` bytes announce (nil when they are not a trailer's end).
    public static func trailerCount(_ last: [UInt8]) -> Int? {
        guard last.count == trailerFixed, Array(last.suffix(8)) == trailerMagic else { return nil }
        let n = Int(readBE(last[0..<4]))
        return n < 1 << 24 ? n : nil
    }

    /// Reads the entries of a pack's trailer from the pack's last bytes (at least the whole trailer).
    public static func decodePackTrailer(_ tail: [UInt8], pack: String) -> [RemoteObject]? {
        guard tail.count >= trailerFixed, let count = trailerCount(Array(tail.suffix(trailerFixed))) else { return nil }
        let sumStart = tail.count - 40
        let bodyLen = count * entrySize + 20
        guard sumStart - bodyLen >= 0 else { return nil }
        let body = Array(tail[sumStart - bodyLen..<sumStart])
        guard ObjectID.hash(body).bytes == Array(tail[sumStart..<sumStart + 32]) else { return nil }
        var out: [RemoteObject] = []
        for i in 0..<count {
            guard let e = decodeEntry(body[i * entrySize..<(i + 1) * entrySize], pack: pack) else { return nil }
            out.append(e)
        }
        return out
    }

    /// Size of the trailer for `n` entries.
    public static func trailerSize(_ n: Int) -> Int { n * entrySize + trailerFixed }

    /// Checks a pack file before it is published (`strata serve` runs this on every pushed pack): its SHA-256 is its
    /// name, its trailer is intact, every frame lies between the start and the trailer, and every object in every frame
    /// hashes to its id (a chunk list passes its checksum). Reads one frame at a time. Returns the trailer's entries.
    public static func verifyPack(path: String, name: String) throws -> [RemoteObject] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw PosixError("open", path) }
        defer { close(fd) }
        func read(_ offset: Int64, _ length: Int) throws -> [UInt8] {
            var buf = [UInt8](repeating: 0, count: length)
            let n = try buf.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: offset, path: path) }
            return Array(buf[0..<n])
        }
        func bad(_ why: String) -> RemoteSyncError { RemoteSyncError.corruptRemote(remote: "pushed pack", key: packKey(name), reason: why) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw PosixError("stat", path) }
        let size = Int64(st.st_size)
        guard size >= Int64(trailerFixed) + 12 else { throw bad("it is too small to be a pack") }
        guard let count = trailerCount(try read(size - Int64(trailerFixed), trailerFixed)) else { throw bad("it has no pack trailer") }
        let tsize = Int64(trailerSize(count))
        guard tsize <= size - 12 else { throw bad("its trailer announces more entries than it holds") }
        guard let entries = decodePackTrailer(try read(size - tsize, Int(tsize)), pack: name) else { throw bad("its trailer fails its checksum") }
        // The whole file hashes to its name.
        var hasher = SHA256Hasher()
        var offset: Int64 = 0
        while offset < size {
            let chunk = try read(offset, Int(min(Int64(4 << 20), size - offset)))
            if chunk.isEmpty { throw bad("it changed while being read") }
            chunk.withUnsafeBytes { hasher.update($0) }
            offset += Int64(chunk.count)
        }
        guard hasher.finalize().hex == name else { throw bad("its content does not hash to its name") }
        var byFrame: [Int64: (length: Int64, members: [FrameMember])] = [:]
        for e in entries {
            if let f = byFrame[e.frameOffset], f.length != e.frameLength { throw bad("two entries disagree on a frame's length") }
            byFrame[e.frameOffset, default: (e.frameLength, [])].members.append(e.member)
        }
        for (start, f) in byFrame.sorted(by: { $0.key < $1.key }) {
            guard start >= 12, start + f.length <= size - tsize else { throw bad("a frame lies outside the pack's body") }
            let stored = try read(start, Int(f.length))
            do { try ObjectStore.verifyFrame(stored, members: f.members, source: "pushed pack \(name)") } catch { throw bad("\(error)") }
        }
        return entries
    }
}

/// One index fragment: the objects of one push (or of a gc's compaction, which supersedes older fragments), and the
/// packs a gc dropped with the time it dropped them. Immutable; its key is the SHA-256 of its bytes.
public struct IndexFragment: Sendable, Equatable {
    /// Fragments this one replaces (their objects are all here, or were dropped as unreachable).
    public var supersedes: [String]
    /// Packs a gc stopped indexing, with the time (seconds) it did; deleted by a later gc after the grace period.
    public var dropped: [(pack: String, time: Int64)]
    /// The objects, grouped by pack.
    public var entries: [RemoteObject]

    /// Creates a fragment.
    public init(supersedes: [String] = [], dropped: [(pack: String, time: Int64)] = [], entries: [RemoteObject]) {
        self.supersedes = supersedes; self.dropped = dropped; self.entries = entries
    }

    public static func == (a: IndexFragment, b: IndexFragment) -> Bool {
        a.supersedes == b.supersedes && a.entries == b.entries && a.dropped.map(\.pack) == b.dropped.map(\.pack)
            && a.dropped.map(\.time) == b.dropped.map(\.time)
    }

    public static func isHex64(_ s: some StringProtocol) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// `strata-index 1\n`, then lines `supersedes <id>`, `dropped <pack> <time>`, and per pack `pack <id> <count>`
    /// followed by `count` binary entries; then `end\n` and the SHA-256 of everything before.
    public func encoded() -> [UInt8] {
        var out = RemoteLayout.fragmentMagic
        for s in supersedes.sorted() { out += Array("supersedes \(s)\n".utf8) }
        for d in dropped.sorted(by: { $0.pack < $1.pack }) { out += Array("dropped \(d.pack) \(d.time)\n".utf8) }
        var byPack: [String: [RemoteObject]] = [:]
        for e in entries { byPack[e.pack, default: []].append(e) }
        for pack in byPack.keys.sorted() {
            let list = byPack[pack]!.sorted { ($0.frameOffset, $0.offset) < ($1.frameOffset, $1.offset) }
            out += Array("pack \(pack) \(list.count)\n".utf8)
            for e in list { RemoteLayout.encodeEntry(e, into: &out) }
        }
        out += Array("end\n".utf8)
        out += ObjectID.hash(out).bytes
        return out
    }

    /// Decodes and checks a fragment; nil when anything is malformed or its checksum fails.
    public static func decode(_ b: [UInt8]) -> IndexFragment? {
        var entries: [RemoteObject] = []
        guard var f = decode(b, entries: { entries.append($0) }) else { return nil }
        f.entries = entries
        return f
    }

    /// Decodes and checks a fragment, handing each entry to `body` as it is read instead of keeping it (a fragment
    /// of a million objects is cached without a million values in memory); the result's `entries` is empty. Nil
    /// when anything is malformed or its checksum fails: the checksum is checked first, but a malformed entry is
    /// found only when reached, after `body` saw the ones before it, so a caller that stores entries does so in a
    /// transaction it rolls back on nil.
    public static func decode(_ b: [UInt8], entries body: (RemoteObject) throws -> Void) rethrows -> IndexFragment? {
        guard b.count >= RemoteLayout.fragmentMagic.count + 4 + 32, b.starts(with: RemoteLayout.fragmentMagic) else { return nil }
        let bodyEnd = b.count - 32
        var hasher = SHA256Hasher()
        b.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<bodyEnd])) }
        guard hasher.finalize().bytes.elementsEqual(b[bodyEnd...]) else { return nil }
        var f = IndexFragment(entries: [])
        var i = RemoteLayout.fragmentMagic.count
        func line() -> String? {
            guard let nl = b[i..<bodyEnd].firstIndex(of: 10), nl - i < 200 else { return nil }
            defer { i = nl + 1 }
            return String(decoding: b[i..<nl], as: UTF8.self)
        }
        while i < bodyEnd {
            guard let l = line() else { return nil }
            let parts = l.split(separator: " ")
            switch parts.first {
            case "end":
                return i == bodyEnd ? f : nil
            case "supersedes":
                guard parts.count == 2, isHex64(parts[1]) else { return nil }
                f.supersedes.append(String(parts[1]))
            case "dropped":
                guard parts.count == 3, isHex64(parts[1]), let t = Int64(parts[2]) else { return nil }
                f.dropped.append((String(parts[1]), t))
            case "pack":
                guard parts.count == 3, isHex64(parts[1]), let n = Int(parts[2]), n >= 0, n <= (bodyEnd - i) / RemoteLayout.entrySize else { return nil }
                let pack = String(parts[1])  // one string for the pack's entries, not one each
                for _ in 0..<n {
                    guard let e = RemoteLayout.decodeEntry(b[i..<i + RemoteLayout.entrySize], pack: pack) else { return nil }
                    try body(e)
                    i += RemoteLayout.entrySize
                }
            default:
                return nil
            }
        }
        return nil
    }
}

/// A branch or tag on a remote: `{"format":"strata-ref","target":"<64 hex>","version":1}`.
public struct RemoteRefValue: Sendable, Equatable, Codable {
    /// Always `strata-ref`.
    public var format = "strata-ref"
    /// The commit.
    public var target: String
    /// Layout version.
    public var version = 1

    /// A ref value for a commit.
    public init(target: ObjectID) { self.target = target.hex }

    /// The canonical bytes (sorted keys, newline).
    public func encoded() -> [UInt8] {
        Array("{\"format\":\"strata-ref\",\"target\":\"\(target)\",\"version\":\(version)}\n".utf8)
    }

    /// Decodes and checks a ref value.
    public static func decode(_ b: [UInt8]) -> ObjectID? {
        guard b.count < 4096, let v = try? JSONDecoder().decode(RemoteRefValue.self, from: Data(b)), v.format == "strata-ref", v.version == 1 else {
            return nil
        }
        return ObjectID(hex: v.target)
    }
}

/// A verification check of a commit (`strata check`): lineage verified and the named stages reproduced
/// byte-identically, as the client that ran them reports; a strata server records who sent it and when, and signs it
/// (HMAC-SHA256 with the server's key), which is what `protect --require-verify` accepts. Key:
/// `checks/<commit>-<16 hex>.json`.
public struct CheckRecord: Codable, Sendable, Equatable {
    /// Always `strata-check`.
    public var format = "strata-check"
    /// Layout version.
    public var version = 1
    /// The commit (hex).
    public var commit: String
    /// What passed: `lineage-verify`, `reproduce:<stage>`.
    public var checks: [String]
    /// The run reproduced per stage.
    public var runs: [String: String]
    /// Who sent it (set by the server).
    public var by: String?
    /// When the server received it (seconds; set by the server).
    public var time: Int64?
    /// The server's signature over the record without this field (hex HMAC-SHA256).
    public var signature: String?

    /// A record for `commit`.
    public init(commit: ObjectID, checks: [String], runs: [String: String]) {
        self.commit = commit.hex; self.checks = checks; self.runs = runs
    }

    /// Canonical bytes (sorted keys).
    public func encoded() throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try enc.encode(self))
    }

    /// Decodes and checks a record (nil when malformed).
    public static func decode(_ bytes: [UInt8]) -> CheckRecord? {
        guard bytes.count < 1 << 20, let r = try? JSONDecoder().decode(CheckRecord.self, from: Data(bytes)), r.format == "strata-check", r.version == 1,
            ObjectID(hex: r.commit) != nil, !r.checks.isEmpty,
            r.checks.allSatisfy({ $0 == "lineage-verify" || ($0.hasPrefix("reproduce:") && $0.count > 10 && $0.count < 200) })
        else { return nil }
        return r
    }

    /// The signature of this record (without its signature field) under `key`.
    public func signature(key: [UInt8]) throws -> String {
        var unsigned = self
        unsigned.signature = nil
        return SigV4.hmac(key, try unsigned.encoded()).map { String(format: "%02x", $0) }.joined()
    }

    /// Key of a check record of `commit`.
    public static func key(commit: String) -> String { "checks/\(commit)-\(Posix.randomHex(8)).json" }
}
