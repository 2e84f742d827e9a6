import Foundation
import Testing
import StrataModel
@testable import StrataObjects
import StrataPlatform
import StrataSQLite

func temporaryFolder(_ label: String = "strata") throws -> String {
    let path = NSTemporaryDirectory() + "\(label)-\(Posix.randomHex(6))"
    try Posix.makeDirectories(path)
    return path
}

func pseudoRandomBytes(_ n: Int, seed: UInt64) -> [UInt8] {
    var s = seed
    var out = [UInt8](repeating: 0, count: n)
    for i in 0..<n {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        out[i] = UInt8(truncatingIfNeeded: s >> 33)
    }
    return out
}

func openStore(_ dir: String) throws -> ObjectStore {
    let db = try Database(path: dir + "/t.db")
    try Migrator.migrate(db, schemas: [ObjectStore.schema], storeVersion: 1, now: 0)
    return try ObjectStore(root: dir + "/objects", db: db, compressionLevel: 2)
}

@Suite("Chunker") struct ChunkerTests {
    @Test func boundariesCoverTheInputAndRespectLimits() {
        let data = pseudoRandomBytes(5 << 20, seed: 1)
        let b = Chunker().boundaries(data)
        #expect(b.reduce(0, +) == data.count)
        for (i, n) in b.enumerated() {
            #expect(n <= Chunker.maxSize)
            if i < b.count - 1 { #expect(n >= Chunker.minSize) }
        }
        let avg = data.count / b.count
        #expect(avg > Chunker.minSize && avg < Chunker.maxSize)
    }

    @Test func distantEditKeepsBoundaries() {
        // Property: inserting bytes near the start leaves every boundary after the edit region in place.
        for seed in UInt64(1)...4 {
            let data = pseudoRandomBytes(6 << 20, seed: seed)
            var edited = data
            edited.insert(contentsOf: [1, 2, 3, 4, 5], at: 1000 + Int(seed) * 7)
            func cutPoints(_ d: [UInt8]) -> [Int] {
                var s = 0;
                return Chunker().boundaries(d).map {
                    s += $0; return s
                }
            }
            let a = Set(cutPoints(data).map { data.count - $0 })
            let e = Set(cutPoints(edited).map { edited.count - $0 })
            // Measured from the end, all but the first one or two cuts coincide.
            #expect(a.intersection(e).count >= a.count - 2)
        }
    }

    @Test func appendKeepsAllButTheLastChunk() {
        let data = pseudoRandomBytes(4 << 20, seed: 9)
        let longer = data + pseudoRandomBytes(300_000, seed: 10)
        let a = Chunker().boundaries(data), b = Chunker().boundaries(longer)
        #expect(Array(b.prefix(a.count - 1)) == Array(a.dropLast()))
    }
}

@Suite("Object store") struct ObjectStoreTests {
    @Test func smallObjectsRoundTrip() throws {
        let dir = try temporaryFolder()
        let store = try openStore(dir)
        let s = store.beginWrite()
        var ids: [ObjectID: [UInt8]] = [:]
        for i in 0..<300 {
            let bytes = Array("object number \(i) ".utf8) + pseudoRandomBytes(i * 13, seed: UInt64(i))
            ids[try s.put(.blob, bytes)] = bytes
        }
        try s.finishPacks(); try s.recordIndex()
        for (id, bytes) in ids { #expect(try store.read(id, as: .blob) == bytes) }
        #expect(try store.contains(ObjectID.hash([9, 9, 9])) == false)
        #expect(throws: ObjectError.self) { try store.read(ObjectID.hash([9, 9, 9]), as: .blob) }
    }

    /// A session bigger than its in-memory limits: index rows go to a spill file and claimed ids are forgotten, yet
    /// every object is indexed once and reads back, duplicates far apart included.
    @Test func sessionSpillsRowsAndForgetsClaims() throws {
        let dir = try temporaryFolder()
        let store = try openStore(dir)
        let s = WriteSession(store: store, claimLimit: 7, rowLimit: 5)
        var ids: [ObjectID: [UInt8]] = [:]
        for i in 0..<400 {
            let bytes = Array("object \(i % 250) ".utf8) + pseudoRandomBytes((i % 250) * 7, seed: UInt64(i % 250))  // 150 recur
            ids[try s.put(i % 3 == 0 ? .tree : .blob, bytes)] = bytes
        }
        try s.finishPacks(); try store.db.transaction { try s.recordIndex() }
        #expect(ids.count == 250)
        #expect(try store.db.scalarInt("SELECT count(*) FROM objects") == 250)
        for (id, bytes) in ids { #expect(try store.readPayload(id).1 == bytes) }
        #expect(try Posix.listDirectory(store.packsPath).allSatisfy { !$0.hasPrefix("tmp-") })  // the spill left no file behind
    }

    @Test func largeFileIsChunkedDeduplicatedAndVerified() throws {
        let dir = try temporaryFolder()
        let store = try openStore(dir)
        let data = pseudoRandomBytes(3 << 20, seed: 3) + Array(repeating: UInt8(ascii: "a"), count: 2 << 20)
        let path = dir + "/big.bin"
        try Posix.writeAtomically(path, data)
        let s = store.beginWrite()
        let r = try s.storeFile(path: path)
        try s.finishPacks(); try s.recordIndex()
        #expect(r.id == ObjectID.hash(data))
        #expect(try store.kind(of: r.id) == .chunked)
        var back: [UInt8] = []
        try store.streamFile(r.id) { back.append(contentsOf: $0) }
        #expect(back == data)
        // Storing it again writes nothing new.
        let s2 = store.beginWrite()
        _ = try s2.storeFile(path: path)
        try s2.finishPacks(); try s2.recordIndex()
        #expect(s2.objectsWritten == 0)
    }

    /// A grown file stored with its previous version resumes chunking after the unchanged start, found by SHA-256
    /// states alone, and gets exactly the chunk list a fresh store cuts (appends, an edit in the middle, an edit in
    /// the first chunk, a CSV with quoted newlines); the bytes read back.
    @Test(arguments: ["data.bin", "table.csv"]) func grownFileResumesWithTheSameChunks(name: String) throws {
        func content(_ n: Int, seed: UInt64) -> [UInt8] {
            if name.hasSuffix(".bin") { return pseudoRandomBytes(n, seed: seed) }
            var out: [UInt8] = []
            var i = 0
            while out.count < n {
                out += Array("\(i),org-\(i &* 7919 % 10007),\"note, with\nnewline \(i % 13)\",\(seed)\n".utf8)
                i += 1
            }
            return out
        }
        let dir = try temporaryFolder()
        let store = try openStore(dir)
        let path = dir + "/" + name
        func stored(_ bytes: [UInt8], previous: ObjectID?, in store: ObjectStore) throws -> (ObjectID, ChunkList, Int64) {
            try Posix.writeAtomically(path, bytes)
            let s = store.beginWrite()
            let r = try s.storeFile(path: path, previous: previous)
            try s.finishPacks(); try store.db.transaction { try s.recordIndex() }
            var back: [UInt8] = []
            try store.streamFile(r.id) { back.append(contentsOf: $0) }
            #expect(back == bytes && r.id == ObjectID.hash(bytes))
            return (r.id, try store.chunkList(r.id), s.bytesResumed)
        }
        let v1 = content(14 << 20, seed: 1)
        let (id1, _, _) = try stored(v1, previous: nil, in: store)
        #expect(try store.chunkStates(id1).count >= 3)
        var v2 = v1
        v2 += content(1 << 20, seed: 2)
        var v3 = v2
        for i in (6 << 20)..<((6 << 20) + 500) { v3[i] = v3[i] == 10 ? 10 : UInt8(ascii: "x") }
        var v4 = v1
        v4[100] = v4[100] == 10 ? 10 : UInt8(ascii: "y")
        var previous = id1
        for (label, v, resumes) in [("appended", v2, true), ("edited in the middle", v3, true), ("edited at the start", v4, false)] {
            let (id, list, resumed) = try stored(v, previous: previous, in: store)
            let fresh = try openStore(try temporaryFolder())
            let (freshID, freshList, _) = try stored(v, previous: nil, in: fresh)
            #expect(id == freshID, "\(label)")
            #expect(list.encoded() == freshList.encoded(), "\(label): the chunks differ from a fresh cut")
            #expect((resumed > 0) == resumes, "\(label): \(resumed) bytes resumed")
            previous = id
        }
    }

    @Test func corruptionIsDetected() throws {
        let dir = try temporaryFolder()
        let store = try openStore(dir)
        let s = store.beginWrite()
        let bytes = pseudoRandomBytes(200_000, seed: 5)  // incompressible: stored raw in its own frame
        let id = try s.put(.blob, bytes)
        try s.finishPacks(); try s.recordIndex()
        let pack = store.packFilesOnDisk()[0]
        let path = store.packsPath + "/" + pack
        var raw = try Posix.readFile(path)
        raw[raw.count - 10] ^= 0xFF
        chmod(path, 0o644)
        try Posix.writeAtomically(path, raw)
        store.dropCaches()
        #expect {
            try store.read(id, as: .blob)
        } throws: { error in
            guard case ObjectError.corrupt(let bad, _, _) = error else { return false }
            return bad == id
        }
    }
}

/// The chunker's boundaries are part of the format (store/FORMAT.md): a fixed input must cut where it always did,
/// or every stored large file would stop deduplicating against new versions.
@Suite("Chunker test vector") struct ChunkerVectorTests {
    static let input = pseudoRandomBytes(3 << 20, seed: 20_261_130)

    static func boundaries(_ data: [UInt8]) -> [Int] {
        let c = Chunker()
        var cuts: [Int] = []
        var start = 0
        data.withUnsafeBufferPointer { b in
            while start < data.count {
                let n = c.cut(b.baseAddress! + start, data.count - start)
                start += n
                cuts.append(start)
            }
        }
        return cuts
    }

    @Test func fixedInputCutsAtFixedBoundaries() {
        #expect(ObjectID.hash(ChunkerVectorTests.input).hex == ChunkerVectorTests.expectedInputHash, "the test input generator changed")
        #expect(ChunkerVectorTests.boundaries(ChunkerVectorTests.input) == ChunkerVectorTests.expectedBoundaries)
    }

    static let expectedInputHash = "6a6173d42eca1fdbace43e514effab529e6533e6856567dc7201411e78569d52"
    static let expectedBoundaries: [Int] = [312_276, 576_709, 964_854, 1_332_147, 1_609_444, 1_910_605, 2_190_650, 2_470_094, 2_819_625, 3_124_660, 3_145_728]
}

/// A value behind a lock, for the threads of a test.
final class Guarded<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ v: Value) { value = v }
    func with<R>(_ body: (inout Value) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}

@Suite("Object store under concurrent readers") struct ConcurrentReadTests {
    /// Readers on several threads while another drops the caches (as a download or a sweep does in a server): every
    /// read returns the right bytes; no read lands on a closed or reused descriptor.
    @Test func readsSurviveDroppedCaches() throws {
        let store = try openStore(try temporaryFolder())
        let s = store.beginWrite()
        var ids: [(ObjectID, [UInt8])] = []
        for i in 0..<400 {
            let bytes = pseudoRandomBytes(70_000 + i, seed: UInt64(i) + 100)
            ids.append((try s.put(.blob, bytes), bytes))
        }
        try s.finishPacks(); try s.recordIndex()
        let written = ids
        let failures = Guarded(0)
        let stop = Guarded(false)
        let dropper = Thread {
            while !stop.with({ $0 }) {
                store.dropCaches()
                // Open and close files meanwhile, so a closed descriptor number gets reused at once.
                for _ in 0..<4 { let fd = open("/dev/null", O_RDONLY); if fd >= 0 { close(fd) } }
            }
        }
        dropper.start()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<3 {
                for (j, (id, bytes)) in written.enumerated() where (j + worker + round) % 2 == 0 {
                    if (try? store.read(id, as: .blob)) != bytes { failures.with { $0 += 1 } }
                }
            }
        }
        stop.with { $0 = true }
        #expect(failures.with { $0 } == 0)
    }
}
