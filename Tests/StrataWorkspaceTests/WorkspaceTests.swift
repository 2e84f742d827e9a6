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
        #expect(throws: WorkspaceError.self) { _ = try m.writeSymlink("s", target: "../../etc") }
        #expect(throws: WorkspaceError.self) { _ = try m.writeSymlink("s", target: "/etc") }
        #expect(try Posix.listDirectory(outside).isEmpty)
        _ = try m.writeSymlink("d/s", target: "../a.csv")
        #expect(try Posix.readlink(root + "/d/s") == "../a.csv")
    }

    @Test func statCacheRacyRule() {
        let now = Posix.nowNs()
        var st = try! Posix.lstat("/")!
        st.mtimeNs = now - 5_000_000_000
        let e = StatCacheEntry(stat: st, id: .empty, writtenNs: now)
        #expect(e.matches(st))
        st.mtimeNs = now - 100_000_000   // modified just before the cache was written: racily clean
        let racy = StatCacheEntry(stat: st, id: .empty, writtenNs: now)
        #expect(!racy.matches(st))
        var changed = st; changed.size += 1
        #expect(!e.matches(changed))
    }
}
