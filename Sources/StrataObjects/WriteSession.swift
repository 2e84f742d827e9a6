import Foundation
import StrataModel
import StrataPlatform
import StrataSQLite

/// The result of storing one file.
public struct StoredFile: Sendable, Equatable {
    /// SHA-256 of the file's bytes.
    public var id: ObjectID
    /// Its size in bytes.
    public var size: UInt64
    /// The `lstat` taken before reading, for the stat cache.
    public var stat: FileStat
}

/// A batch of new objects written to fresh pack files. Nothing becomes visible to readers until
/// `finishPacks()` has made the packs durable and `recordIndex()` has indexed them in the caller's transaction.
///
/// Workers borrow a `Lane` (one pack writer each) so that compression runs in parallel; `lock` guards the
/// free lanes, the ids claimed by this session and the finished rows — hence `@unchecked Sendable`.
public final class WriteSession: @unchecked Sendable {
    let store: ObjectStore
    private let lock = NSLock()
    private var freeLanes: [Lane] = []
    private var allLanes: [Lane] = []
    /// Ids this session has written or is writing, so that two workers storing the same bytes write them once. It is
    /// forgotten every `claimLimit` ids (65,536), to keep memory bounded on a first commit of millions of files: bytes that
    /// recur further apart are written twice, and the index keeps one copy (`INSERT OR IGNORE`); gc drops the other.
    private var claimed: Set<ObjectID> = []
    /// Index rows of finished frames, until `recordIndex`. Beyond `rowLimit` (32,768) they go to a spill file, so a session
    /// of any size holds at most that many rows in memory.
    private var rows: [PendingRow] = []
    private var spill: SpillFile?
    /// SHA-256 states of the chunked files stored, recorded with the index.
    private var pendingStates: [(ObjectID, [UInt8])] = []
    private var packNumbers: [String: Int64] = [:]
    private var packNames: [String] = []
    let claimLimit: Int
    let rowLimit: Int
    private var finishedPacks: [String] = []
    /// Bytes of new objects written (after compression), for reports.
    public private(set) var bytesWritten: Int64 = 0
    /// Number of new objects written.
    public private(set) var objectsWritten: Int = 0
    /// Bytes of grown files taken as unchanged on their SHA-256 state alone (not cut into chunks again).
    public private(set) var bytesResumed: Int64 = 0

    struct PendingRow {
        var id: ObjectID; var kind: ObjectKind; var pack: String; var frameOffset: Int64; var frameLength: Int64; var offset: Int64; var length: Int64
    }

    /// Largest pack before a lane starts a new one. Small enough that a file's chunks sit in few packs, so gc can
    /// drop or rewrite the packs of a pruned version without copying the whole store.
    static let packLimit: Int64 = 16 << 20
    /// Small objects are grouped into frames of about this size before compression.
    static let groupLimit = 256 << 10
    /// Objects at least this large get a frame of their own.
    static let soloLimit = 64 << 10

    /// A session of `store`; the limits are small in tests, to exercise the spill and the forgetting.
    init(store: ObjectStore, claimLimit: Int = 1 << 16, rowLimit: Int = 1 << 15) {
        self.store = store; self.claimLimit = claimLimit; self.rowLimit = rowLimit
    }

    /// Claims `id` for writing: false when the store or this session already has it.
    func claim(_ id: ObjectID) throws -> Bool {
        lock.lock()
        if claimed.contains(id) { lock.unlock(); return false }
        if claimed.count >= claimLimit { claimed.removeAll(keepingCapacity: true) }
        claimed.insert(id)
        lock.unlock()
        if try store.contains(id) { return false }
        return true
    }

    func withLane<R>(_ body: (Lane) throws -> R) throws -> R {
        lock.lock()
        let lane: Lane
        if let l = freeLanes.popLast() { lane = l } else { lane = Lane(session: self); allLanes.append(lane) }
        lock.unlock()
        defer { lock.lock(); freeLanes.append(lane); lock.unlock() }
        return try body(lane)
    }

    func add(rows new: [PendingRow], bytes: Int64) throws {
        lock.lock()
        defer { lock.unlock() }
        rows.append(contentsOf: new); bytesWritten += bytes; objectsWritten += new.count
        if rows.count >= rowLimit { try spillRows() }
    }

    /// Moves the rows held in memory to the spill file (with `lock` held): the id, then kind, pack number, frame
    /// offset and length, offset and length as little-endian 64-bit integers.
    private func spillRows() throws {
        if spill == nil { spill = try SpillFile(directory: store.packsPath) }
        var record: [UInt8] = []
        record.reserveCapacity(80)
        for r in rows {
            let number: Int64
            if let n = packNumbers[r.pack] {
                number = n
            } else {
                number = Int64(packNames.count); packNames.append(r.pack); packNumbers[r.pack] = number
            }
            record.removeAll(keepingCapacity: true)
            record.append(contentsOf: r.id.bytes)
            for v in [Int64(r.kind.rawValue), number, r.frameOffset, r.frameLength, r.offset, r.length] { record.appendInt64(v) }
            try spill!.append(record)
        }
        rows.removeAll(keepingCapacity: true)
    }

    func packFinished(_ name: String) { lock.lock(); finishedPacks.append(name); lock.unlock() }

    /// Stores a small object (tree, commit, blob, chunk list) and returns its id.
    @discardableResult
    public func put(_ kind: ObjectKind, _ bytes: [UInt8], id given: ObjectID? = nil) throws -> ObjectID {
        let id = given ?? ObjectID.hash(bytes)
        if try claim(id) {
            try withLane { lane in try bytes.withUnsafeBytes { try lane.append(id: id, kind: kind, bytes: $0) } }
        }
        return id
    }

    /// Stores the file at `path` (chunked when large), streaming it; retries when it changes while read.
    /// `previous` is the id the path had before (HEAD's version), if any: when it is a chunked file whose SHA-256
    /// states were saved, the start of the file that is still the same is checked by SHA-256 alone and its chunks
    /// reused, not cut, hashed and looked up again (a table that grew by appended rows).
    public func storeFile(path: String, previous: ObjectID? = nil) throws -> StoredFile {
        for _ in 0..<3 {
            if let r = try storeFileOnce(path: path, previous: previous) { return r }
        }
        throw ObjectError.unstableFile(path)
    }

    private func storeFileOnce(path: String, previous: ObjectID?) throws -> StoredFile? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ObjectError.io(PosixError("open", path)) }
        defer { close(fd) }
        let before: FileStat
        do { before = try Posix.fstat(fd, path: path) } catch { throw error }
        let result: (ObjectID, UInt64)
        if before.size < UInt64(Chunker.threshold) {
            var buf = [UInt8](repeating: 0, count: Int(before.size) + 1)
            let n: Int
            do { n = try buf.withUnsafeMutableBytes { (b) throws -> Int in try Posix.readFull(fd, into: b, path: path) } } catch { throw error }
            if n != Int(before.size) { return nil }
            buf.removeLast()
            let id = try put(.blob, buf)
            result = (id, UInt64(n))
        } else {
            result = try storeChunked(fd: fd, path: path, records: RecordScanner.mode(forPath: path), previous: previous)
        }
        let after: FileStat
        do { after = try Posix.fstat(fd, path: path) } catch { throw error }
        guard after.size == result.1, after.mtimeNs == before.mtimeNs, after.size == before.size else { return nil }
        return StoredFile(id: result.0, size: result.1, stat: before)
    }

    /// Extra bytes a chunk may run past the chunker's cut to end at a record boundary.
    static let recordSlack = 1 << 20

    /// How far apart (at least) the saved SHA-256 states of a chunked file are (about one per four chunks): what a
    /// grown file cuts again, beyond the chunker's window, before its old end.
    static let stateSpacing: Int64 = 1 << 20

    /// The start of a file that is unchanged since `previous`, found by SHA-256 alone: the file is hashed from the
    /// start, and compared with the saved state at each of `previous`'s boundaries in turn. The last boundary that
    /// matches is where chunking resumes, with `previous`'s chunks before it (all in the store). Only boundaries far
    /// enough from `previous`'s end count (the chunker saw a full window there, so a fresh cut of this file would
    /// cut there too: the result is the same as without the shortcut). Nil when there is no such boundary; the file
    /// is then read again from the start.
    private func resumePoint(fd: Int32, path: String, previous: ObjectID, records: RecordScanner.Mode?) throws -> (
        chunks: [(id: ObjectID, size: UInt32)], hasher: SHA256Hasher, offset: Int64, states: [ChunkState]
    )? {
        let states = try store.chunkStates(previous)
        if states.isEmpty { return nil }
        guard let old = try? store.chunkList(previous), records == nil || old.recordAligned else { return nil }
        var ends: [Int64] = [0]
        for c in old.chunks { ends.append(ends.last! + Int64(c.size)) }
        let window = Int64(Chunker.maxSize + (records == nil ? 0 : WriteSession.recordSlack))
        let usable = states.filter { $0.chunks > 0 && $0.chunks < ends.count && ends[$0.chunks] == $0.offset && $0.offset + window <= ends.last! }
        if usable.isEmpty { return nil }
        var hasher = SHA256Hasher()
        var good: (state: ChunkState, hasher: SHA256Hasher, index: Int)?
        let capacity = 4 << 20
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        defer { buf.deallocate() }
        var offset: Int64 = 0
        var next = 0
        reading: while next < usable.count {
            let want = Int(min(Int64(capacity), usable[next].offset - offset))
            let n = try Posix.pread(fd, into: UnsafeMutableRawBufferPointer(rebasing: buf[..<want]), offset: offset, path: path)
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buf[..<n]))
            offset += Int64(n)
            while next < usable.count && usable[next].offset == offset {
                guard hasher.state == usable[next].state else { break reading }
                good = (usable[next], hasher, next)
                next += 1
            }
        }
        guard let good else { return nil }
        let reused = Array(old.chunks[..<good.state.chunks])
        for c in reused where try store.location(c.id) == nil && !claimedNow(c.id) { return nil }
        lock.withLock { bytesResumed += good.state.offset }
        return (reused, good.hasher, good.state.offset, Array(usable[...good.index]))
    }

    /// Whether this session has already claimed `id` (it is being written).
    private func claimedNow(_ id: ObjectID) -> Bool { lock.withLock { claimed.contains(id) } }

    private func storeChunked(fd: Int32, path: String, records: RecordScanner.Mode?, previous: ObjectID?) throws -> (ObjectID, UInt64) {
        let chunker = Chunker()
        let resume = try previous.flatMap { try resumePoint(fd: fd, path: path, previous: $0, records: records) }
        var scanner = records.map { RecordScanner(mode: $0, at: resume?.offset ?? 0) }
        var aligned = records != nil
        var base: Int64 = resume?.offset ?? 0  // absolute offset of buf[0]
        let slack = records == nil ? 0 : WriteSession.recordSlack
        let capacity = 4 << 20
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        defer { buf.deallocate() }
        // The whole-file SHA-256 runs on another thread, a chunk behind the one that cuts and hashes chunks; it saves
        // its state at a chunk boundary every `stateSpacing` bytes, for the next version of the file.
        let fileHash = FileHashBox(resume.map { ($0.hasher, $0.states) } ?? (SHA256Hasher(), []))
        let group = DispatchGroup()
        let queue = DispatchQueue(label: "strata.filehash")
        var list: [(id: ObjectID, size: UInt32)] = resume?.chunks ?? []
        var filled = 0, start = 0, eof = false, total = UInt64(base)
        while true {
            if !eof && filled < capacity {
                let n: Int
                do {
                    n = try Posix.pread(fd, into: UnsafeMutableRawBufferPointer(rebasing: buf[filled...]), offset: base + Int64(filled), path: path)
                } catch { group.wait(); throw error }
                filled += n; total += UInt64(n)
                if filled < capacity { eof = true }
            }
            do {
                while filled - start >= Chunker.maxSize + slack || (eof && filled > start) {
                    let p = buf.baseAddress!.assumingMemoryBound(to: UInt8.self) + start
                    var n = chunker.cut(p, min(filled - start, Chunker.maxSize))
                    // A table's chunk ends at the first record boundary from the cut on (within the slack); else it
                    // stays where the chunker cut it, and the list does not claim alignment.
                    if scanner != nil && start + n < filled {
                        let limit = min(filled, start + n + slack)
                        let origin = buf.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        if let b = scanner!.next(origin, count: limit, base: base, from: base + Int64(start + n)) {
                            n = Int(b - base) - start
                        } else {
                            aligned = false
                        }
                    }
                    let chunk = UnsafeRawBufferPointer(start: p, count: n)
                    let id = ObjectID.hash(chunk)
                    if try claim(id) {
                        try withLane { lane in try lane.append(id: id, kind: .blob, bytes: chunk) }
                    }
                    list.append((id, UInt32(n)))
                    start += n
                    nonisolated(unsafe) let bytes = chunk
                    let count = list.count
                    queue.async(group: group) { fileHash.update(bytes, chunksSoFar: count) }
                }
            } catch { group.wait(); throw error }
            // The tail is about to move: the file hash must have read it first.
            group.wait()
            if eof && start == filled { break }
            let rest = filled - start
            if rest > 0 && start > 0 { memmove(buf.baseAddress!, buf.baseAddress! + start, rest) }
            base += Int64(start)
            filled = rest; start = 0
        }
        let id = fileHash.hasher.finalize()
        _ = try put(.chunked, ChunkList(chunks: list, recordAligned: aligned).encoded(), id: id)
        lock.withLock { pendingStates.append((id, ChunkState.encode(fileHash.states))) }
        return (id, total)
    }

    /// Flushes every lane, fsyncs the new packs and renames them into place.
    public func finishPacks() throws {
        for lane in allLanes { try lane.finish() }
        if !allLanes.isEmpty { Posix.fsyncDirectory(store.packsPath) }
    }

    /// Indexes the finished packs' objects; call inside the caller's database transaction.
    public func recordIndex() throws {
        let db = store.db
        try db.transaction {
            var packIDs: [String: Int64] = [:]
            let now = Posix.nowNs() / 1_000_000_000
            for name in finishedPacks {
                try db.run("INSERT INTO packs (name, created) VALUES (?, ?)", [.text(name), .int(now)])
                packIDs[name] = try db.scalarInt("SELECT id FROM packs WHERE name = ?", [.text(name)])
            }
            func insert(_ id: [UInt8], _ kind: Int64, _ pack: String, _ fo: Int64, _ fl: Int64, _ off: Int64, _ len: Int64) throws {
                guard let pid = packIDs[pack] else { fatalError("row for an unfinished pack \(pack) (this is a bug)") }
                try db.run(
                    "INSERT OR IGNORE INTO objects (id, kind, pack, frame_offset, frame_length, offset, length) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [.blob(id), .int(kind), .int(pid), .int(fo), .int(fl), .int(off), .int(len)])
            }
            try spill?.read { r in
                let id = Array(try r.take(32))
                let kind = try r.int64(), pack = packNames[Int(try r.int64())]
                try insert(id, kind, pack, try r.int64(), try r.int64(), try r.int64(), try r.int64())
            }
            for r in rows { try insert(r.id.bytes, Int64(r.kind.rawValue), r.pack, r.frameOffset, r.frameLength, r.offset, r.length) }
            for (id, states) in pendingStates where !states.isEmpty {
                try db.run("INSERT OR REPLACE INTO chunkstates (id, states) VALUES (?, ?)", [.blob(id.bytes), .blob(states)])
            }
        }
        lock.lock(); rows = []; spill = nil; packNumbers = [:]; packNames = []; finishedPacks = []; claimed = []; pendingStates = []; lock.unlock()
    }

    /// Removes unfinished temporary packs (after a failure).
    public func abort() {
        for lane in allLanes { lane.discard() }
        lock.lock(); rows = []; spill = nil; lock.unlock()
    }
}

/// One pack writer plus a buffer that groups small objects into shared frames. Used by one worker at a time.
final class Lane {
    unowned let session: WriteSession
    var fd: Int32 = -1
    var tempPath = ""
    var name = ""
    var offset: Int64 = 0
    /// Small objects waiting to be compressed together: file data in one group, trees and commits in the other,
    /// so that gc can drop a pruned version's data frames while the history frames stay.
    var groups: [[UInt8]] = [[], []]
    var groupObjects: [[(ObjectID, ObjectKind, Int64, Int64)]] = [[], []]
    let compressor: ZstdCompressor

    init(session: WriteSession) {
        self.session = session
        compressor = ZstdCompressor(level: session.store.compressionLevel)
    }

    func open() throws {
        name = "pack-" + Posix.randomHex(16) + ".pack"
        tempPath = session.store.packsPath + "/tmp-" + name
        fd = Glibc.open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        if fd < 0 { throw ObjectError.io(PosixError("create", tempPath)) }
        try Posix.writeAll(fd, ObjectStore.packMagic, path: tempPath)
        offset = Int64(ObjectStore.packMagic.count)
    }

    func append(id: ObjectID, kind: ObjectKind, bytes: UnsafeRawBufferPointer) throws {
        if bytes.count >= WriteSession.soloLimit {
            let (fo, fl) = try writeFrame(bytes)
            try session.add(rows: [.init(id: id, kind: kind, pack: name, frameOffset: fo, frameLength: fl, offset: 0, length: Int64(bytes.count))], bytes: fl)
            return
        }
        let g = (kind == .tree || kind == .commit) ? 1 : 0
        groupObjects[g].append((id, kind, Int64(groups[g].count), Int64(bytes.count)))
        groups[g].append(contentsOf: bytes)
        if groups[g].count >= WriteSession.groupLimit { try flushGroup(g) }
    }

    func flushGroup(_ g: Int) throws {
        guard !groupObjects[g].isEmpty else { return }
        let (fo, fl) = try groups[g].withUnsafeBytes { try writeFrame($0) }
        try session.add(
            rows: groupObjects[g].map { .init(id: $0.0, kind: $0.1, pack: name, frameOffset: fo, frameLength: fl, offset: $0.2, length: $0.3) }, bytes: fl)
        groups[g].removeAll(keepingCapacity: true); groupObjects[g].removeAll(keepingCapacity: true)
    }

    /// Writes one frame; returns its offset and length.
    func writeFrame(_ raw: UnsafeRawBufferPointer) throws -> (Int64, Int64) {
        if fd < 0 || offset >= WriteSession.packLimit {
            if fd >= 0 { try finishPack() }
            try open()
        }
        let store = { (stored: UnsafeRawBufferPointer?) throws -> Int in
            var header = ObjectStore.frameMagic
            header.append(stored == nil ? 0 : 1)
            let body = stored ?? raw
            for v in [UInt32(raw.count), UInt32(body.count)] { for s in [24, 16, 8, 0] { header.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
            try Posix.writeAll(self.fd, header, path: self.tempPath)
            try Posix.writeAll(self.fd, body, path: self.tempPath)
            return header.count + body.count
        }
        let frameLength = try compressor.compress(raw, store)
        let fo = offset
        offset += Int64(frameLength)
        return (fo, Int64(frameLength))
    }

    /// Writes a frame exactly as stored elsewhere (header included); returns its offset and length.
    func writeStored(_ frame: UnsafeRawBufferPointer) throws -> (Int64, Int64) {
        if fd < 0 || offset >= WriteSession.packLimit {
            if fd >= 0 { try finishPack() }
            try open()
        }
        try Posix.writeAll(fd, frame, path: tempPath)
        let fo = offset
        offset += Int64(frame.count)
        return (fo, Int64(frame.count))
    }

    func finishPack() throws {
        if fsync(fd) != 0 { throw ObjectError.io(PosixError("fsync", tempPath)) }
        close(fd); fd = -1
        do { try Posix.rename(tempPath, session.store.packsPath + "/" + name) } catch { throw error }
        session.packFinished(name)
    }

    func finish() throws {
        try flushGroup(0); try flushGroup(1)
        if fd >= 0 { try finishPack() }
    }

    func discard() {
        if fd >= 0 { close(fd); fd = -1; _ = unlink(tempPath) }
    }
}

/// A SHA-256 state used from one background queue at a time (the caller waits on a group before reading it),
/// which is why it may be `@unchecked Sendable`.
final class FileHashBox: @unchecked Sendable {
    private(set) var hasher: SHA256Hasher
    private(set) var states: [ChunkState]
    init(_ start: (SHA256Hasher, [ChunkState])) { (hasher, states) = start }

    /// Feeds the next chunk; `chunksSoFar` chunks end where it ends.
    func update(_ b: UnsafeRawBufferPointer, chunksSoFar: Int) {
        hasher.update(b)
        if hasher.count - (states.last?.offset ?? 0) >= WriteSession.stateSpacing {
            states.append(ChunkState(chunks: chunksSoFar, offset: hasher.count, state: hasher.state))
        }
    }
}
