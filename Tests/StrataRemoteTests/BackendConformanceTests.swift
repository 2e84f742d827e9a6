import Foundation
import StrataPlatform
import StrataTestSupport
import Testing
@testable import StrataRemote

/// The behaviour every remote backend must have (the folder backend now; S3-compatible storage runs the same suite).
/// Each check takes a fresh, empty backend.
enum BackendConformance {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func createIsCreateOnly(_ b: any RemoteBackend) throws {
        guard case .written(let etag) = try b.create("refs/heads/main", bytes("one")) else { Issue.record("first create failed"); return }
        #expect(try b.create("refs/heads/main", bytes("two")) == .conditionFailed)
        #expect(try b.get("refs/heads/main") == StoredObject(bytes: bytes("one"), etag: etag))
        #expect(try b.head("refs/heads/main") == etag)
    }

    static func putIfMatchIsCompareAndSwap(_ b: any RemoteBackend) throws {
        guard case .written(let e1) = try b.create("refs/heads/main", bytes("one")) else { Issue.record("create failed"); return }
        guard case .written(let e2) = try b.put("refs/heads/main", bytes("two"), ifMatch: e1) else { Issue.record("CAS failed"); return }
        #expect(e1 != e2)
        #expect(try b.put("refs/heads/main", bytes("three"), ifMatch: e1) == .conditionFailed)  // stale tag
        #expect(try b.get("refs/heads/main")?.bytes == bytes("two"))
        #expect(try b.put("refs/heads/nothing", bytes("x"), ifMatch: e2) == .conditionFailed)  // no object
    }

    static func missingObjects(_ b: any RemoteBackend) throws {
        #expect(try b.get("packs/none") == nil)
        #expect(try b.head("packs/none") == nil)
        #expect(throws: RemoteError.self) { try b.getRange("packs/none", offset: 0, length: 4) }
        try b.delete("packs/none")  // idempotent
    }

    static func rangesAndListing(_ b: any RemoteBackend) throws {
        let data = (0..<1000).map { UInt8($0 % 251) }
        _ = try b.create("packs/p1.pack", data)
        #expect(try b.getRange("packs/p1.pack", offset: 10, length: 5) == Array(data[10..<15]))
        #expect(try b.getRange("packs/p1.pack", offset: 995, length: 100) == Array(data[995...]))
        for k in ["index/b", "index/a", "refs/heads/x", "index/c/d", "indexed"] { _ = try b.create(k, bytes(k)) }
        #expect(try b.list(prefix: "index/") == ["index/a", "index/b", "index/c/d"])
        #expect(try b.list(prefix: "index") == ["index/a", "index/b", "index/c/d", "indexed"])
        #expect(try b.list(prefix: "") == ["index/a", "index/b", "index/c/d", "indexed", "packs/p1.pack", "refs/heads/x"])
        try b.delete("index/b")
        #expect(try b.list(prefix: "index/") == ["index/a", "index/c/d"])
    }

    static func hostileKeysAreRefused(_ b: any RemoteBackend) throws {
        for k in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/."] {
            #expect(throws: RemoteError.self, "\(k)") { _ = try b.create(k, bytes("x")) }
            #expect(throws: RemoteError.self, "\(k)") { _ = try b.get(k) }
        }
    }

    /// Racing writers on one key: every create has exactly one winner, and compare-and-swap increments from 8
    /// threads lose no update.
    static func racingWritersNeverBothWin(_ b: any RemoteBackend) throws {
        let winners = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            if (try? b.create("refs/heads/race", bytes("writer \(i)"))) == .written(etag: FolderBackendEtag.of(bytes("writer \(i)"), b)) {
                winners.with { $0 += 1 }
            }
        }
        #expect(winners.value == 1)
        _ = try b.create("counter", bytes("0"))
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<15 {
                // Bounded: a backend that keeps failing ends the test with a wrong count, not a spin that never ends.
                for _ in 0..<500 {
                    guard let cur = try? b.get("counter") else { continue }
                    let n = Int(String(decoding: cur.bytes, as: UTF8.self))! + 1
                    if (try? b.put("counter", bytes(String(n)), ifMatch: cur.etag)).map({ $0 != .conditionFailed }) == true { break }
                }
            }
        }
        #expect(try b.get("counter")?.bytes == bytes("120"))
    }
}

/// An entity tag as the backend under test computes it (only needed to recognise the winner of a race).
enum FolderBackendEtag {
    static func of(_ bytes: [UInt8], _ b: any RemoteBackend) -> String { FolderBackend.etag(bytes) }
}

/// A tiny lock-protected box for test counters.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    func with(_ f: (inout T) -> Void) { lock.lock(); f(&v); lock.unlock() }
    var value: T { lock.lock(); defer { lock.unlock() }; return v }
}

@Suite("Remote backend conformance: folder") struct FolderBackendConformanceTests {
    func fresh() throws -> FolderBackend {
        let dir = NSTemporaryDirectory() + "remote-\(Posix.randomHex(6))"
        return try FolderBackend(root: dir)
    }

    @Test func createIsCreateOnly() throws { try BackendConformance.createIsCreateOnly(try fresh()) }
    @Test func putIfMatchIsCompareAndSwap() throws { try BackendConformance.putIfMatchIsCompareAndSwap(try fresh()) }
    @Test func missingObjects() throws { try BackendConformance.missingObjects(try fresh()) }
    @Test func rangesAndListing() throws { try BackendConformance.rangesAndListing(try fresh()) }
    @Test func hostileKeysAreRefused() throws { try BackendConformance.hostileKeysAreRefused(try fresh()) }
    @Test func racingWritersNeverBothWin() throws { try BackendConformance.racingWritersNeverBothWin(try fresh()) }

    /// Two processes sharing the folder: create-only holds across processes too (link(2) is atomic).
    @Test func createOnlyAcrossProcesses() throws {
        let b = try fresh()
        let script =
            "import os,sys\nsrc=sys.argv[1]+'/.tmp/py'+str(os.getpid())\nopen(src,'w').write('py')\ntry:\n os.link(src, sys.argv[1]+'/refs/heads/main'); print('won')\nexcept FileExistsError: print('lost')\nos.unlink(src)\n"
        try Posix.makeDirectories(b.root + "/refs/heads")
        _ = try b.create("refs/heads/main", Array("strata".utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, b.root]
        let out = Pipe(); p.standardOutput = out
        try p.run(); p.waitUntilExit(within: Watchdog.defaultLimit)
        #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("lost"))
        #expect(try b.get("refs/heads/main")?.bytes == Array("strata".utf8))
    }
}
