import Foundation
import Testing
import StrataModel
import StrataPlatform
import StrataWorkspace

@Suite("Workspace") struct WorkspaceTests {
    @Test func ignoreRules() {
        let r = IgnoreRules(text: "# comment\n*.tmp\n/build/\ndata/**/cache\n!keep.tmp\nlogs/\n")
        #expect(r.isIgnored("a.tmp", isDirectory: false))
        #expect(r.isIgnored("x/y/a.tmp", isDirectory: false))
        #expect(!r.isIgnored("keep.tmp", isDirectory: false))
        #expect(r.isIgnored("build", isDirectory: true))
        #expect(!r.isIgnored("src/build", isDirectory: true))
        #expect(r.isIgnored("data/a/b/cache", isDirectory: false))
        #expect(r.isIgnored("data/cache", isDirectory: true))
        #expect(r.isIgnored("x/logs", isDirectory: true))
        #expect(!r.isIgnored("logs", isDirectory: false))
        #expect(r.isIgnored(".strata", isDirectory: true))
        #expect(IgnoreRules.glob("f[0-9]?.csv", "f1a.csv"))
        #expect(!IgnoreRules.glob("f[!0-9].csv", "f1.csv"))
    }

    /// A `.strataignore` written on Windows ignores what it names: "\r\n" is one Swift Character, so splitting at
    /// "\n" alone left the whole file one pattern that matched nothing.
    @Test func ignoreRulesWithWindowsLineEndings() {
        for eol in ["\r\n", "\r"] {
            let r = IgnoreRules(text: ["# comment", "*.tmp", "/build/", "!keep.tmp", "secrets/", ""].joined(separator: eol))
            #expect(r.isIgnored("a.tmp", isDirectory: false) && !r.isIgnored("keep.tmp", isDirectory: false), "\(eol.debugDescription)")
            #expect(r.isIgnored("build", isDirectory: true) && r.isIgnored("x/secrets", isDirectory: true), "\(eol.debugDescription)")
            #expect(!r.isIgnored("a.csv", isDirectory: false))
        }
    }

    @Test func scannerSkipsStoreAndIgnored() throws {
        let root = NSTemporaryDirectory() + "ws-\(Posix.randomHex(5))"
        for p in ["a.csv", "dir/b.csv", ".strata/x", ".git/y", "skip/z", "e e/ü.json"] {
            try Posix.makeDirectories(Posix.dirname(root + "/" + p))
            try Posix.writeAtomically(root + "/" + p, Array("x".utf8))
        }
        try Posix.writeAtomically(root + "/.strataignore", Array("skip/\n".utf8))
        let paths = try Scanner(root: root).scan(sorted: true).map(\.path)
        #expect(paths == [".strataignore", "a.csv", "dir/b.csv", "e e/ü.json"])
    }

    @Test func materializerRefusesEscapes() throws {
        let root = NSTemporaryDirectory() + "ws-\(Posix.randomHex(5))"
        try Posix.makeDirectories(root)
        let outside = NSTemporaryDirectory() + "outside-\(Posix.randomHex(5))"
        try Posix.makeDirectories(outside)
        symlink(outside, root + "/link")
        let m = Materializer(root: root)
        for bad in ["../x", "/etc/passwd", "a/../../x", "link/file", ".strata/objects/x"] {
            #expect(throws: (any Error).self) { _ = try m.writeFile(bad, executable: false) { _ in } }
        }
        // Any link target is restored as recorded (as git does); nothing is ever written through a link.
        _ = try m.writeSymlink("s", target: Array("/etc".utf8))
        #expect(try Posix.readlink(root + "/s") == Array("/etc".utf8))
        #expect(throws: WorkspaceError.self) { _ = try m.writeFile("s/passwd", executable: false) { _ in } }
        #expect(throws: WorkspaceError.self) { try m.removeAny("link/x") }
        #expect(throws: WorkspaceError.self) { try m.removeAny("") }
        #expect(try Posix.listDirectory(outside).isEmpty)
        _ = try m.writeSymlink("d/s", target: Array("../a.csv".utf8))
        #expect(try Posix.readlink(root + "/d/s") == Array("../a.csv".utf8))
    }

    @Test func statCacheRacyRule() {
        let now = Posix.nowNs()
        var st = try! Posix.lstat("/")!
        st.mtimeNs = now - 5_000_000_000
        let e = StatCacheEntry(stat: st, id: .empty, writtenNs: now)
        #expect(e.matches(st))
        st.mtimeNs = now - 100_000_000  // modified just before the cache was written: racily clean
        let racy = StatCacheEntry(stat: st, id: .empty, writtenNs: now)
        #expect(!racy.matches(st))
        var changed = st; changed.size += 1
        #expect(!e.matches(changed))
    }
}

@Suite("Workspace transactions") struct WorkspaceTransactionTests {
    func tree(_ root: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for rel in try FileManager.default.subpathsOfDirectory(atPath: root) where !rel.hasPrefix(".strata") {
            var d: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &d), !d.boolValue {
                out[rel] = try String(contentsOfFile: root + "/" + rel, encoding: .utf8)
            }
        }
        return out
    }

    /// A failure half-way (here: a staged file that vanished) moves everything back: no half-applied reset.
    @Test func failureHalfWayRollsBack() throws {
        let root = NSTemporaryDirectory() + "wtx-\(Posix.randomHex(5))"
        try Posix.makeDirectories(root + "/.strata")
        try Posix.makeDirectories(root + "/d")
        for (p, t) in [("a.txt", "old a"), ("d/b.txt", "old b"), ("gone.txt", "removed")] {
            try Posix.writeAtomically(root + "/" + p, Array(t.utf8))
        }
        let before = try tree(root)
        let tx = try WorkspaceTransaction(root: root, storePath: root + "/.strata")
        let a = try tx.stage(0, executable: false) { w in try Array("new a".utf8).withUnsafeBytes { try w($0) } }
        let b = try tx.stage(1, executable: false) { w in try Array("new b".utf8).withUnsafeBytes { try w($0) } }
        #expect(throws: (any Error).self) {
            _ = try tx.apply([
                ("gone.txt", .remove), ("a.txt", .file(staged: a)), ("d/b.txt", .file(staged: b)),
                ("n/new.txt", .file(staged: root + "/.strata/tmp/missing")),
            ])
        }
        tx.finish()
        #expect(try tree(root) == before)
        #expect(try Posix.lstat(root + "/n") == nil)
        #expect(try Posix.listDirectory(root + "/.strata/tmp").isEmpty)
    }

    /// Leftovers of a crashed transaction live only under .strata/tmp and are cleared by the next writer.
    @Test func staleScratchIsCleared() throws {
        let root = NSTemporaryDirectory() + "wtx-\(Posix.randomHex(5))"
        try Posix.makeDirectories(root + "/.strata/tmp/checkout-dead/sub")
        try Posix.writeAtomically(root + "/.strata/tmp/checkout-dead/sub/old-1", Array("x".utf8))
        WorkspaceTransaction.clearStale(storePath: root + "/.strata")
        #expect(try Posix.listDirectory(root + "/.strata/tmp").isEmpty)
    }
}
