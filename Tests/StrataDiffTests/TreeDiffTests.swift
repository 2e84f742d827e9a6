import Testing
import StrataDiff
import StrataModel

@Suite("Tree diff") struct TreeDiffTests {
    /// An in-memory tree source built from flat listings.
    final class Trees {
        var trees: [ObjectID: Tree] = [:]
        func build(_ files: [String: FileVersion]) throws -> ObjectID {
            final class Dir { var files: [TreeEntry] = []; var dirs: [String: Dir] = [:] }
            let top = Dir()
            for (p, v) in files {
                var d = top
                let parts = p.split(separator: "/").map(String.init)
                for x in parts.dropLast() { if let n = d.dirs[x] { d = n } else { let n = Dir(); d.dirs[x] = n; d = n } }
                d.files.append(TreeEntry(name: parts.last!, kind: v.kind, id: v.id, size: v.size))
            }
            func write(_ d: Dir) throws -> ObjectID {
                var e = d.files
                for (n, s) in d.dirs { e.append(TreeEntry(name: n, kind: .directory, id: try write(s), size: 0)) }
                let t = try Tree(entries: e)
                trees[t.id] = t
                return t.id
            }
            return try write(top)
        }
        func load(_ id: ObjectID) throws -> Tree { trees[id]! }
    }

    func file(_ s: String) -> FileVersion { FileVersion(kind: .file, id: ObjectID.hash(Array(s.utf8)), size: UInt64(s.utf8.count)) }

    @Test func diffWithItselfIsEmpty() throws {
        var g = 0
        for n in [0, 1, 10, 200] {
            let t = Trees()
            var files: [String: FileVersion] = [:]
            for i in 0..<n { g += 1; files["d\(i % 7)/sub\(i % 3)/f\(i).csv"] = file("content \(g)") }
            let id = try t.build(files)
            #expect(try TreeDiff.diff(id, id, load: t.load).isEmpty)
            #expect(TreeDiff.diff(flat: files, files).isEmpty)
        }
    }

    @Test func addedModifiedDeletedRenamed() throws {
        let t = Trees()
        let a = try t.build(["x/a.csv": file("a"), "x/b.csv": file("b"), "y/c.csv": file("c"), "keep/k": file("k")])
        let b = try t.build(["x/a.csv": file("A"), "z/c2.csv": file("c"), "new.txt": file("n"), "keep/k": file("k")])
        var loads = 0
        let changes = try TreeDiff.diff(a, b) {
            loads += 1; return try t.load($0)
        }
        let summary = changes.map { "\($0.status.rawValue) \($0.oldPath.map { $0 + " -> " } ?? "")\($0.path)" }
        #expect(summary == ["added new.txt", "modified x/a.csv", "deleted x/b.csv", "renamed y/c.csv -> z/c2.csv"])
        // The unchanged subtree "keep" is never loaded: root a, root b, x twice, y, z.
        #expect(loads == 6)
        // Same result through flat listings, and path filters.
        let filtered = try TreeDiff.diff(a, b, paths: ["x"], load: t.load)
        #expect(filtered.map(\.path) == ["x/a.csv", "x/b.csv"])
    }

    /// The streamed diff is the listed one before renames are paired, for random pairs of trees (files added,
    /// changed, deleted, moved, folders replaced by files and the reverse): pairing its changes gives `diff`'s list.
    @Test(arguments: 0..<20) func streamedChangesAreTheDiffBeforeRenames(seed: Int) throws {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 7
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        let names = ["a", "b", "a.b", "c"]
        func listing() -> [String: FileVersion] {
            var out: [String: FileVersion] = [:]
            for _ in 0..<next(40) {
                let path = (0...next(3)).map { _ in names[next(names.count)] }.joined(separator: "/")
                // A path that is a folder of another (or has one as its folder) is left out.
                if out.keys.contains(where: { $0.hasPrefix(path + "/") || path.hasPrefix($0 + "/") }) { continue }
                out[path] = file("v\(next(6))")
            }
            return out
        }
        let t = Trees()
        let a = try t.build(listing()), b = try t.build(listing())
        var streamed: [Change] = []
        try TreeDiff.forEachChange(a, b, load: t.load) { streamed.append($0) }
        let listed = try TreeDiff.diff(a, b, load: t.load)
        func summary(_ c: [Change]) -> [String] { c.map { "\($0.status) \($0.oldPath ?? "") \($0.path)" } }
        #expect(summary(TreeDiff.detectRenames(streamed)) == summary(listed))
    }
}
