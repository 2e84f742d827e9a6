import Foundation
import Testing
import StrataTestSupport
import StrataModel
import StrataObjects
import StrataRepository

/// The defects of the adversarial review (issue 8), each reproduced through the built binary.
@Suite("End to end: data safety", .serialized) struct DataSafetyTests {
    func random(_ n: Int, seed: UInt64) -> Data {
        var g = SplitMix(seed: seed)
        var d = Data(count: n)
        d.withUnsafeMutableBytes { b in for i in stride(from: 0, to: n, by: 8) { var v = g.next(); memcpy(b.baseAddress! + i, &v, min(8, n - i)) } }
        return d
    }

    func sha(_ d: Data) -> String { ObjectID.hash([UInt8](d)).hex }

    func head(_ s: StrataCLI) throws -> String { String(try s.run("log", "-n", "1", "--oneline").stdout.prefix(12)) }

    /// D1: the issue's exact sequence: the workspace copy of a pruned version is re-committed after gc.
    @Test func d1RecommitAfterPruneAndGcKeepsTheBytes() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("small.txt", "small\n")
        let v1 = random(3_000_000, seed: 1)
        try s.write("big.bin", v1)
        try s.run("commit", "-m", "C1")
        let c1 = try head(s)
        try s.write("big.bin", random(3_000_000, seed: 2))
        try s.run("commit", "-m", "C2")
        #expect(try s.run("checkout", c1, "--", "big.bin").status == 0)
        sleep(2)  // past the racy-clean window, so the stat cache vouches for big.bin
        #expect(try s.run("status").status == 0)
        #expect(try s.run("prune", "--keep-last", "1").status == 0)
        #expect(try s.run("gc", "--grace", "0s").status == 0)
        let fsck = try s.run("fsck")
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
        #expect(try s.run("commit", "-m", "C3").status == 0)
        let cat = try s.run("cat", "HEAD:big.bin")
        #expect(cat.status == 0, "\(cat.stderr)")
        #expect(sha(cat.stdoutBytes) == sha(v1))
        #expect(try s.run("fsck").status == 0)
    }

    /// D1's other effects: fsck after an ordinary prune + gc, cat of a pruned large file (14), and a checkout of a
    /// pruned commit that must fail before it deletes anything.
    @Test func d1PrunedLargeFilesAreCollectedWhole() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("keep.txt", "keep\n")
        try s.write("big.bin", random(2_500_000, seed: 3))
        try s.write("other.bin", random(1_500_000, seed: 4))
        try s.run("commit", "-m", "old")
        let old = try head(s)
        try s.write("big.bin", random(2_500_000, seed: 5))
        try FileManager.default.removeItem(atPath: s.path("other.bin"))
        try s.run("commit", "-m", "new")
        #expect(try s.run("prune", "--keep-last", "1", "--reflog-expire", "0s").status == 0)
        #expect(try s.run("gc", "--grace", "0s").status == 0)
        let fsck = try s.run("fsck")
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
        #expect(try s.run("cat", "\(old):big.bin").status == 14)
        let before = try s.hashes()
        let co = try s.run("checkout", old)
        #expect(co.status == 14, "\(co.stderr)")
        #expect(try s.hashes() == before, "a failed checkout changed the workspace")
    }

    /// D3: a store without its database is refused by every command; gc never deletes packs it cannot account for.
    @Test func d3StoreWithoutMetadataIsRefused() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("a.txt", "a\n")
        try s.run("commit", "-m", "one")
        let packs = try FileManager.default.contentsOfDirectory(atPath: s.path(".strata/objects/packs"))
        for f in try FileManager.default.contentsOfDirectory(atPath: s.path(".strata")) where f.hasPrefix("strata.db") {
            try FileManager.default.removeItem(atPath: s.path(".strata/" + f))
        }
        for cmd in [["fsck"], ["gc", "--grace", "0s"], ["log"], ["status"], ["commit", "-m", "x"]] {
            let r = try s.run(cmd)
            #expect(r.status == 10, "\(cmd): \(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("metadata"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.path(".strata/objects/packs")) == packs)
        // An empty file is refused the same way.
        FileManager.default.createFile(atPath: s.path(".strata/strata.db"), contents: Data())
        #expect(try s.run("gc", "--grace", "0s").status == 10)
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.path(".strata/objects/packs")) == packs)
    }

    /// An unindexed finished pack is kept by gc unless --force.
    @Test func d3GcKeepsUnindexedPacksWithoutForce() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("a.txt", "a\n")
        try s.run("commit", "-m", "one")
        let stray = s.path(".strata/objects/packs/pack-00000000000000000000000000000000.pack")
        try Data(ObjectStore.packMagic).write(to: URL(fileURLWithPath: stray))
        let gc = try s.run("gc", "--grace", "0s")
        #expect(gc.status == 0)
        #expect(gc.stderr.contains("kept 1 pack files the index does not know"))
        #expect(FileManager.default.fileExists(atPath: stray))
        #expect(try s.run("gc", "--grace", "0s", "--force").status == 0)
        #expect(!FileManager.default.fileExists(atPath: stray))
    }

    /// D5: an index row pointing file A's id at file B's chunk list: cat and checkout must not return B's bytes.
    @Test func d5ChunkedFilesAreVerifiedWhole() throws {
        let s = try StrataCLI()
        try s.run("init")
        let a = random(1_600_000, seed: 6), b = random(1_700_000, seed: 7)
        try s.write("a.bin", a); try s.write("b.bin", b)
        try s.run("commit", "-m", "two files")
        let ida = sha(a), idb = sha(b)
        try sqlite(
            s,
            "UPDATE objects SET pack = (SELECT pack FROM objects WHERE id = x'\(idb)'), frame_offset = (SELECT frame_offset FROM objects WHERE id = x'\(idb)'), frame_length = (SELECT frame_length FROM objects WHERE id = x'\(idb)'), offset = (SELECT offset FROM objects WHERE id = x'\(idb)'), length = (SELECT length FROM objects WHERE id = x'\(idb)') WHERE id = x'\(ida)'"
        )
        let cat = try s.run("cat", "HEAD:a.bin")
        #expect(cat.status == 12)
        #expect(cat.stderr.contains("INVALID"))
        try FileManager.default.removeItem(atPath: s.path("a.bin"))
        let co = try s.run("checkout", "-f", "HEAD", "--", "a.bin")
        #expect(co.status == 12, "\(co.stdout)\(co.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.path("a.bin")), "wrong bytes were put in place")
        #expect(try s.run("fsck").status == 12)
    }

    /// D2: pipeline outputs that resolve to the root, into .strata or outside the workspace are refused before
    /// anything is deleted.
    @Test func d2PipelineOutputsCannotEscape() throws {
        let s = try StrataCLI()
        try s.run("init")
        let victim = s.directory + "-victim"
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim + "/keep.txt"))
        try s.write("data.txt", "data\n")
        try s.run("commit", "-m", "base")
        for bad in ["sub/..", ".strata/", "./../\(URL(fileURLWithPath: victim).lastPathComponent)/", ".", "/tmp/x"] {
            try s.write(
                "Pipeline.swift",
                """
                import PipelineDescription
                let pipeline = Pipeline(name: "evil", stages: [
                    .stage(name: "wipe", command: "true", outputs: [.folder("\(bad)")]),
                ])
                """)
            let r = try s.run("repro")
            #expect(r.status == 21, "\(bad): \(r.stdout)\(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: s.path("data.txt")), "\(bad) deleted the workspace")
            #expect(FileManager.default.fileExists(atPath: s.path(".strata/strata.db")), "\(bad) deleted the store")
            #expect(FileManager.default.fileExists(atPath: victim + "/keep.txt"), "\(bad) emptied a folder outside")
        }
        // An output whose parent is a symlink pointing outside is refused at run time, before deletion.
        try FileManager.default.createSymbolicLink(atPath: s.path("link"), withDestinationPath: victim)
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "evil", stages: [
                .stage(name: "wipe", command: "true", outputs: [.file("link/keep.txt")]),
            ])
            """)
        let r = try s.run("repro")
        #expect(r.status != 0)
        #expect(FileManager.default.fileExists(atPath: victim + "/keep.txt"))
        try? FileManager.default.removeItem(atPath: victim)
    }

    /// D4: an untracked folder where the target has a file is a conflict, not a deletion.
    @Test func d4CheckoutKeepsUntrackedWork() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("report", "v1\n")
        try s.run("commit", "-m", "r")
        try s.run("branch", "keep")
        try FileManager.default.removeItem(atPath: s.path("report"))
        try s.run("commit", "-m", "rm")
        try s.write("report/notes.txt", "unsaved\n")
        let r = try s.run("checkout", "keep")
        #expect(r.status == 4, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("report/notes.txt"))
        #expect(String(decoding: try s.read("report/notes.txt"), as: UTF8.self) == "unsaved\n")
        // An ignored file at a path the target writes is protected too; --force replaces both.
        try s.write(".strataignore", "scratch.txt\n")
        try s.write("scratch.txt", "mine\n")
        try s.run("commit", "-m", "ignore")
        try s.run("branch", "withscratch")
        try s.run("switch", "withscratch")
        try FileManager.default.removeItem(atPath: s.path(".strataignore"))
        try s.run("commit", "-m", "track scratch")
        try s.run("switch", "main")
        try s.write("scratch.txt", "ignored work\n")
        try s.write(".strataignore", "scratch.txt\n")
        #expect(try s.run("checkout", "withscratch").status == 4)
        #expect(String(decoding: try s.read("scratch.txt"), as: UTF8.self) == "ignored work\n")
        #expect(try s.run("checkout", "--force", "keep").status == 0)
        #expect(String(decoding: try s.read("report"), as: UTF8.self) == "v1\n")
    }

    /// D8 and the crash tests: checkout and reset killed at random moments leave no temp file in the workspace,
    /// a consistent store, and a workspace the next checkout repairs.
    @Test func d8KilledCheckoutsAndResetsLeaveNoTempFiles() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("t/a.bin", random(30_000_000, seed: 8))
        for k in 0..<60 { try s.write("e/\(k).txt", "\(k)\n") }
        try s.run("commit", "-m", "a")
        let a = try head(s)
        try s.write("t/a.bin", random(30_000_000, seed: 9))
        for k in 0..<60 { try s.write("e/\(k).txt", "changed \(k)\n") }
        try s.run("commit", "-m", "b")
        var rng = SystemRandomNumberGenerator()
        for round in 0..<8 {
            let args = round % 2 == 0 ? ["checkout", "-f", a] : ["reset", "--hard", "main"]
            if round % 2 == 1 { try s.run("switch", "main", "--force") }
            let p = try s.start(args)
            usleep(UInt32.random(in: 1_000...150_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let leftovers = try FileManager.default.subpathsOfDirectory(atPath: s.directory)
                .filter { !$0.hasPrefix(".strata") && $0.contains("strata-tmp") }
            #expect(leftovers.isEmpty, "round \(round): \(leftovers)")
            let status = try s.run("status")
            #expect(!status.stdout.contains("strata-tmp"))
            #expect(try s.run("fsck").status == 0)
        }
        #expect(try s.run("checkout", "-f", "main").status == 0)
        #expect(try s.run("status", "--json").stdout.contains("\"clean\" : true"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: s.path(".strata/tmp"))) ?? []).isEmpty)
    }

    /// Half-applied reset: a folder that cannot be written (immutable, so that root is refused too) makes
    /// `reset --hard` fail with the workspace and the branch exactly as they were.
    @Test(.enabled(if: DataSafetyTests.canMakeImmutable(), "chattr +i is not available here"))
    func resetHardIsAllOrNothing() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("a.txt", "v1 a\n"); try s.write("d/b.txt", "v1 b\n")
        try s.run("commit", "-m", "v1")
        let v1 = try head(s)
        try s.write("a.txt", "v2 a\n"); try s.write("d/b.txt", "v2 b\n")
        try s.run("commit", "-m", "v2")
        let v2 = try head(s)
        let before = try s.hashes()
        #expect(DataSafetyTests.chattr("+i", s.path("d")))
        defer { _ = DataSafetyTests.chattr("-i", s.path("d")) }
        let r = try s.run("reset", "--hard", v1)
        #expect(r.status != 0)
        #expect(try s.hashes() == before, "reset --hard stopped half-applied")
        #expect(try head(s) == v2)
        _ = DataSafetyTests.chattr("-i", s.path("d"))
        #expect(try s.run("reset", "--hard", v1).status == 0)
        #expect(String(decoding: try s.read("d/b.txt"), as: UTF8.self) == "v1 b\n")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: s.path(".strata/tmp"))) ?? []).isEmpty)
    }

    static func chattr(_ flag: String, _ path: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        p.arguments = [flag, path]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit(within: Watchdog.defaultLimit)
        return p.terminationStatus == 0
    }

    static func canMakeImmutable() -> Bool {
        let d = NSTemporaryDirectory() + "chattr-probe-\(UUID().uuidString.prefix(6))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard chattr("+i", d) else { return false }
        _ = chattr("-i", d)
        return true
    }

    /// D6: malformed on-disk values are corruption errors (12) naming the object, never a trap or a huge allocation.
    @Test func d6MalformedIndexAndRefsAreErrorsNotTraps() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("a.txt", "a\n")
        try s.run("commit", "-m", "one")
        let ida = sha(Data("a\n".utf8))
        try sqlite(s, "UPDATE objects SET length = 9000000000000, offset = -5 WHERE id = x'\(ida)'")
        for cmd in [["cat", "HEAD:a.txt"], ["fsck"]] {
            let r = try s.run(cmd)
            #expect(r.status == 12, "\(cmd): \(r.status) \(r.stderr)")
            #expect((r.stdout + r.stderr).contains(ida))
        }
        try sqlite(s, "UPDATE objects SET length = 2, offset = 0, frame_length = 9000000000000 WHERE id = x'\(ida)'")
        #expect(try s.run("cat", "HEAD:a.txt").status == 12)
        #expect(try s.run("fsck").status == 12)
        // A 2-byte ref target.
        try sqlite(s, "UPDATE refs SET target = x'abcd' WHERE name = 'refs/heads/main'")
        for cmd in [["log"], ["status"], ["ls"], ["fsck"]] {
            let r = try s.run(cmd)
            #expect(r.status == 12, "\(cmd): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("32"))
        }
    }

    /// D6: a frame header claiming terabytes is a corruption error, also for fsck.
    @Test func d6HugeFrameLengthIsCorruption() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("a.txt", String(repeating: "row,value\n", count: 100))
        try s.run("commit", "-m", "one")
        let pack = try FileManager.default.contentsOfDirectory(atPath: s.path(".strata/objects/packs")).first { $0.hasSuffix(".pack") }!
        let path = s.path(".strata/objects/packs/" + pack)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let first = ObjectStore.packMagic.count
        for k in 4..<8 { bytes[first + k] = 0xff }  // the first frame's raw length
        chmod(path, 0o644)
        try bytes.write(to: URL(fileURLWithPath: path))
        let fsck = try s.run("fsck")
        #expect(fsck.status == 12, "\(fsck.stdout)")
        // A flipped pack magic is found too.
        bytes[0] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: path))
        let fsck2 = try s.run("fsck")
        #expect(fsck2.status == 12)
        #expect(fsck2.stdout.contains("pack magic"))
    }

    /// D7: the store cannot commit itself; reserved entries in a crafted tree are flagged by fsck.
    @Test func d7StorePathsAreRefused() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("a.txt", "a\n")
        try s.run("commit", "-m", "one")
        for p in [".strata", ".strata/strata.db", "sub/../.strata"] {
            let r = try s.run("commit", "-m", "x", p)
            #expect(r.status == 13, "\(p): \(r.status) \(r.stderr)")
        }
        try s.craftCommit(branch: "evil") { session in
            let blob = try session.put(.blob, Array("x".utf8))
            return try session.put(.tree, Tree(uncheckedEntries: [TreeEntry(name: ".strata", kind: .file, id: blob, size: 1)]).encoded())
        }
        let fsck = try s.run("fsck")
        #expect(fsck.status == 12)
        #expect(fsck.stdout.contains("unsafe-name"))
        #expect(try s.run("checkout", "evil").status == 13)
    }

    /// Names that cannot be versioned are refused by status and commit alike, never skipped; ignoring them works.
    @Test func unversionableNamesAreRefusedConsistently() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("ok.txt", "ok\n")
        try s.write("line\nbreak.txt", "x\n")
        var bad = Array(s.directory.utf8) + Array("/caf".utf8) + [0xe9] + Array(".csv".utf8) + [0]
        let fd = bad.withUnsafeMutableBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { open($0, O_CREAT | O_WRONLY, 0o644) }
        }
        #expect(fd >= 0); close(fd)
        let st = try s.run("status")
        let co = try s.run("commit", "-m", "x")
        #expect(st.status == 13 && co.status == 13, "\(st.stderr)\(co.stderr)")
        for r in [st, co] { #expect(r.stderr.contains("caf\\xe9.csv") && r.stderr.contains("break.txt")) }
        try s.write(".strataignore", "caf*.csv\nline*\n")
        #expect(try s.run("commit", "-m", "ok").status == 0)
        bad.removeAll()
    }

    /// Through the file-system monitor, the same names are refused as a full scan refuses them. Before, a file the
    /// monitor named alone skipped the name checks (status listed `line\nbreak.txt` as added; only the commit failed,
    /// on the tree's check), and the monitor decoded a name that is not UTF-8 with repair, into a path that does not
    /// exist (a build from before the NFC/NFD fix said "nothing to commit" for it).
    @Test func unversionableNamesAreRefusedThroughTheMonitor() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("ok.txt", "ok\n")
        try s.write("sub/s.txt", "s\n")
        #expect(try s.run("commit", "-m", "one").status == 0)
        try s.startMonitor()
        defer { _ = try? s.run("watch", "stop") }
        try s.write("line\nbreak.txt", "x\n")
        for r in [try s.run("status"), try s.run("commit", "-m", "x")] {
            #expect(r.status == 13 && r.stderr.contains("cannot be versioned") && r.stderr.contains("break.txt"), "\(r.stderr)")
        }
        try s.write(".strataignore", "line*\n")
        #expect(try s.run("status").status == 0)
        let bad = Array(s.directory.utf8) + Array("/sub/caf".utf8) + [0xe9] + Array(".csv".utf8) + [0]
        let fd = bad.withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { open($0, O_CREAT | O_WRONLY, 0o644) }
        }
        #expect(fd >= 0); close(fd)
        let st = try s.run("status")
        #expect(st.status == 13 && st.stderr.contains("sub/caf\\xe9.csv"), "\(st.stderr)")
    }

    /// Two files whose names differ only in Unicode normalization (NFC and NFD "café.csv") are refused by status and
    /// commit, both listed escaped, on a first commit and on a later one, with a name between them in byte order, with
    /// and without the file-system monitor. Before, a first commit recorded both and the next commit dropped the NFC
    /// file from the tree; through the monitor, the new NFD file was taken for a change to the NFC one.
    @Test(arguments: [false, true]) func namesEqualUnderNormalizationAreRefused(monitor: Bool) throws {
        func create(_ s: StrataCLI, _ rel: [UInt8], _ text: String) {
            let path = Array(s.directory.utf8) + [UInt8(ascii: "/")] + rel + [0]
            let fd = path.withUnsafeBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { open($0, O_CREAT | O_WRONLY | O_TRUNC, 0o644) }
            }
            #expect(fd >= 0)
            _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        let nfc = Array("caf\u{E9}.csv".utf8), nfd = Array("cafe\u{301}.csv".utf8)
        let listed = ["caf\\xc3\\xa9.csv", "cafe\\xcc\\x81.csv"]
        // A later commit: the NFC file and a sibling are committed, then the NFD file appears.
        let s = try StrataCLI()
        try s.run("init")
        create(s, nfc, "nfc\n")
        try s.write("caff.csv", "f\n")
        #expect(try s.run("commit", "-m", "one").status == 0)
        if monitor { try s.startMonitor() }
        defer { if monitor { _ = try? s.run("watch", "stop") } }
        let before = try head(s)
        create(s, nfd, "nfd\n")
        for r in [try s.run("status"), try s.run("commit", "-m", "two")] {
            #expect(r.status == 13, "\(r.stderr)")
            for name in listed { #expect(r.stderr.contains(name), "\(r.stderr)") }
        }
        #expect(try head(s) == before)
        // A first commit, in a subfolder.
        let f = try StrataCLI()
        try f.run("init")
        try FileManager.default.createDirectory(atPath: f.path("d"), withIntermediateDirectories: true)
        for (name, text) in [(nfc, "nfc\n"), (Array("caff.csv".utf8), "f\n"), (nfd, "nfd\n")] { create(f, Array("d/".utf8) + name, text) }
        let first = try f.run("commit", "-m", "one")
        #expect(first.status == 13 && listed.allSatisfy { first.stderr.contains("d/" + $0) }, "\(first.stderr)")
        // Renaming one of them lets the commit through, with both files.
        // (A String reaches the C call as its UTF-8 bytes, unnormalized.)
        #expect(rename(f.path("d/cafe\u{301}.csv"), f.path("d/cafe-nfd.csv")) == 0)
        #expect(try f.run("commit", "-m", "renamed").status == 0)
        #expect(try f.run("ls", "HEAD", "d").stdout.split(separator: "\n").count == 3)
    }

    /// A name that starts with a combining mark (U+0301) joins the "/" before it into one Swift Character, so
    /// Character-based splitting saw `dir/\u{301}x.csv` as one component. Before, a first commit recorded it, every
    /// later commit failed with "unsafe tree entry name", and `reset --hard` reported success without restoring it; an
    /// ignore rule naming it ignored the whole folder, and `../\u{301}x` passed the lexical ".." check. Now status and
    /// commit refuse it (exit 13, listed escaped), with and without the monitor; ignoring it works.
    @Test(arguments: [false, true]) func namesStartingWithACombiningMarkAreRefused(monitor: Bool) throws {
        let mark = "\u{301}", listed = "dir/\\xcc\\x81x.csv"
        let s = try StrataCLI()
        try s.run("init")
        try s.write("dir/a.csv", "a\n")
        #expect(try s.run("commit", "-m", "one").status == 0)
        if monitor { try s.startMonitor() }
        defer { if monitor { _ = try? s.run("watch", "stop") } }
        let before = try head(s)
        try s.write("dir/\(mark)x.csv", "x\n")
        for r in [try s.run("status"), try s.run("commit", "-m", "two")] {
            #expect(r.status == 13 && r.stderr.contains(listed), "\(r.stderr)")
        }
        #expect(try head(s) == before)
        // An ignore rule naming it covers that one file, not its folder.
        try s.write(".strataignore", "dir/\(mark)x.csv\n")
        try s.write("dir/b.csv", "b\n")
        #expect(try s.run("commit", "-m", "ignored").status == 0)
        #expect(try s.run("ls", "HEAD", "dir").stdout.split(separator: "\n").count == 2)
        // A first commit refuses it too.
        let f = try StrataCLI()
        try f.run("init")
        try f.write("dir/\(mark)x.csv", "x\n")
        let first = try f.run("commit", "-m", "one")
        #expect(first.status == 13 && first.stderr.contains(listed), "\(first.stderr)")
        // A path argument is split at its "/" bytes: "../" + U+0301 "out" leaves the workspace.
        let name = "out-\(UUID().uuidString)", outside = f.directory + "/../\(mark)" + name
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try "private\n".write(toFile: outside + "/data.txt", atomically: true, encoding: .utf8)
        let r = try f.run("commit", "-m", "climb", "--", "../\(mark)" + name)
        #expect(r.status == 64 && r.stderr.contains("outside the workspace"), "\(r.stderr)")
        #expect(try f.run("branch", "x/\(mark)y").status == 64)
    }

    /// A symlink's target is kept byte for byte. Before, a target that is not UTF-8 (`caf\xe9.csv`) was decoded with
    /// repair: the store recorded `caf` U+FFFD `.csv`, checkout wrote that other target, and status called it clean.
    @Test func symlinkTargetsKeepTheirBytes() throws {
        func readTarget(_ path: String) -> [UInt8] {
            var buf = [CChar](repeating: 0, count: 4097)
            let n = readlink(path, &buf, buf.count)
            return n < 0 ? [] : buf[0..<n].map { UInt8(bitPattern: $0) }
        }
        let s = try StrataCLI()
        try s.run("init")
        let target: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".csv".utf8)
        let made = (target + [0]).withUnsafeBufferPointer { b in b.withMemoryRebound(to: CChar.self) { symlink($0.baseAddress!, s.path("link")) } }
        #expect(made == 0)
        try s.write("a.txt", "a\n")
        #expect(try s.run("commit", "-m", "link").status == 0)
        try FileManager.default.removeItem(atPath: s.path("link"))
        #expect(try s.run("reset", "--hard", "HEAD").status == 0)
        #expect(readTarget(s.path("link")) == target)
        #expect(try s.run("status").stdout.contains("nothing to commit"))
        #expect(try s.run("fsck").status == 0)
    }

    /// Absolute and climbing symlinks: commit and checkout agree, and nothing is ever written through a link.
    @Test func symlinksRoundTripAndAreNeverWrittenThrough() throws {
        let s = try StrataCLI()
        try s.run("init")
        let outside = s.directory + "-outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: s.path("abs"), withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: s.path("up"), withDestinationPath: "../x")
        try FileManager.default.createSymbolicLink(atPath: s.path("self"), withDestinationPath: ".")
        try FileManager.default.createSymbolicLink(atPath: s.path("esc"), withDestinationPath: "self/..")
        try s.write("data.txt", "d\n")
        #expect(try s.run("commit", "-m", "links").status == 0)
        let c = try head(s)
        for l in ["abs", "up", "self", "esc"] { try FileManager.default.removeItem(atPath: s.path(l)) }
        try s.run("commit", "-m", "no links")
        let co = try s.run("checkout", c)
        #expect(co.status == 0, "\(co.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: s.path("abs")) == outside)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: s.path("esc")) == "self/..")
        // A crafted commit with a file below the link must not write through it.
        try s.craftCommit(branch: "through") { session in
            let blob = try session.put(.blob, Array("pwned".utf8))
            let iid = try session.put(.tree, try Tree(entries: [TreeEntry(name: "pwned.txt", kind: .file, id: blob, size: 5)]).encoded())
            return try session.put(.tree, try Tree(entries: [TreeEntry(name: "abs", kind: .directory, id: iid, size: 5)]).encoded())
        }
        _ = try s.run("checkout", "through", "--", "abs/pwned.txt")
        #expect(!FileManager.default.fileExists(atPath: outside + "/pwned.txt"))
        try? FileManager.default.removeItem(atPath: outside)
    }

    /// Small ones: checkout HEAD stays on the branch; `branch refs/heads/y` is refused; URL credentials are redacted.
    @Test func smallOnes() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("a.txt", "a\n")
        try s.run("commit", "-m", "one")
        #expect(try s.run("checkout", "HEAD").status == 0)
        #expect(try s.run("status").stdout.contains("On branch main"))
        let b = try s.run("branch", "refs/heads/y")
        #expect(b.status != 0)
        #expect(!(try s.run("branch").stdout.contains("refs/heads/y")))
        try s.write("b.txt", "b\n")
        let r = try s.run("commit", "-m", "two", env: ["OPENLINEAGE_URL": "http://alice:s3cr3tPW@[bad", "OPENLINEAGE_DISABLED": ""])
        #expect(!(r.stdout + r.stderr).contains("s3cr3tPW"))
        let flush = try s.run("lineage", "flush", env: ["OPENLINEAGE_URL": "http://alice:s3cr3tPW@[bad"])
        #expect(!(flush.stdout + flush.stderr).contains("s3cr3tPW"))
    }

    /// A full disk: read-only commands still work (the WAL files are kept, so opening needs no new file), and a
    /// commit fails with a clear error and changes nothing.
    @Test(.enabled(if: DataSafetyTests.canMountTmpfs(), "mounting a small tmpfs is not allowed here"))
    func fullDiskKeepsReadOnlyCommandsWorking() throws {
        let mountPoint = NSTemporaryDirectory() + "strata-full-" + UUID().uuidString.prefix(6)
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(DataSafetyTests.sh("mount -t tmpfs -o size=2m tmpfs '\(mountPoint)'") == 0)
        defer { _ = DataSafetyTests.sh("umount '\(mountPoint)'") }
        let s = StrataCLI(directory: mountPoint)
        try s.run("init")
        try s.write("a.txt", "a\n")
        #expect(try s.run("commit", "-m", "one").status == 0)
        _ = DataSafetyTests.sh("dd if=/dev/zero of='\(mountPoint)/filler' bs=64k 2>/dev/null")
        #expect(try s.run("log").status == 0)
        #expect(try s.run("status").status == 0)
        #expect(try s.run("fsck").status == 0)
        try? s.write("b.txt", "b\n")
        let c = try s.run("commit", "-m", "two")
        #expect(c.status == 1 && c.stderr.contains("No space left"))
        _ = DataSafetyTests.sh("rm -f '\(mountPoint)/filler'")
        #expect(try s.run("fsck").status == 0)
        #expect(try s.run("log", "--oneline").stdout.split(separator: "\n").count == 1)
    }

    @discardableResult
    static func sh(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit(within: Watchdog.defaultLimit)
        return p.terminationStatus
    }

    static func canMountTmpfs() -> Bool {
        let d = NSTemporaryDirectory() + "tmpfs-probe-" + UUID().uuidString.prefix(6)
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard sh("mount -t tmpfs -o size=1m tmpfs '\(d)' 2>/dev/null") == 0 else { return false }
        return sh("umount '\(d)'") == 0
    }

    /// Stage processes die with a killed repro (the supervisor kills the whole group).
    /// Both supervisors: `strata-supervise` next to strata, and a bare copy of strata supervising itself.
    @Test(arguments: [false, true]) func stageProcessesDieWithRepro(bareCopy: Bool) throws {
        let s = try StrataCLI()
        let binary = bareCopy ? try s.bareCopy() : StrataCLI.binary
        try s.run("init")
        let marker = 3000 + Int.random(in: 0..<900)
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "slow", stages: [
                .stage(name: "slow", command: "sleep \(marker).5 & sleep \(marker).5; echo x > out.txt", outputs: [.file("out.txt")]),
            ])
            """)
        let p = try s.start(["repro"], binary: binary)
        var seen = false
        for _ in 0..<300 where !seen { usleep(100_000); seen = pgrep("sleep \(marker).5") > 0 }
        #expect(seen, "the stage never started")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        var left = 1
        for _ in 0..<50 where left > 0 { usleep(100_000); left = pgrep("sleep \(marker).5") }
        #expect(left == 0, "stage processes outlived repro")
    }

    func pgrep(_ pattern: String) -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "ps -eo args | grep -c '^\(pattern)$' || true"]
        let out = Pipe(); p.standardOutput = out
        try? p.run(); p.waitUntilExit(within: Watchdog.defaultLimit)
        return Int(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Edits the store's database with Python's sqlite3 module (on every machine that runs the tests).
    func sqlite(_ s: StrataCLI, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", s.path(".strata/strata.db"), sql,
        ]
        try p.run(); p.waitUntilExit(within: Watchdog.defaultLimit)
        #expect(p.terminationStatus == 0, "sql failed: \(sql)")
    }
}

/// The manifest sandbox: with bubblewrap, Pipeline.swift cannot write outside its scratch folder, also when the
/// workspace lives under /tmp (where the old sandbox hid the DSL library and the workspace).
@Suite("End to end: manifest sandbox", .serialized) struct ManifestSandboxTests {
    static let hasBwrap = FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap")

    @Test(.enabled(if: hasBwrap, "bubblewrap is not installed (dist/install-deps.sh installs it)"))
    func manifestCannotWriteOutsideItsScratchFolder() throws {
        let s = try StrataCLI()
        #expect(s.directory.hasPrefix("/tmp"))
        try s.run("init")
        try s.write("in.txt", "x\n")
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        let targets = [
            s.path("escaped.txt"), s.path(".strata/escaped.txt"), "/tmp/strata-escaped-\(UUID().uuidString.prefix(6))",
            home + "/strata-escaped-\(UUID().uuidString.prefix(6))",
        ]
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            import Glibc
            for t in \(targets) { let fd = open(t, O_CREAT | O_WRONLY, 0o644); if fd >= 0 { close(fd) } }
            let pipeline = Pipeline(name: "sandboxed", stages: [
                .stage(name: "copy", command: "cp in.txt out.txt", inputs: ["in.txt"], outputs: [.file("out.txt")]),
            ])
            """)
        let r = try s.run("repro")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!r.stderr.contains("without a file-system sandbox"))
        for t in targets { #expect(!FileManager.default.fileExists(atPath: t), "the manifest wrote \(t)") }
        #expect(FileManager.default.fileExists(atPath: s.path("out.txt")))
    }

    @Test func evaluationWithoutSandboxWarns() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "p", stages: [.stage(name: "a", command: "echo a > a.txt", outputs: [.file("a.txt")])])
            """)
        let r = try s.run(["stages"], env: ["STRATA_NO_SANDBOX": "1"])
        #expect(r.stderr.contains("without a sandbox"), "\(r.stderr)")
    }
}

/// Stores written by earlier releases open, upgrade their schema in one step, check clean and check out
/// byte-identical files (issue 9).
@Suite("End to end: older stores", .serialized) struct OlderStoreTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func copy(_ golden: String) throws -> StrataCLI {
        let s = try StrataCLI()
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["-R", OlderStoreTests.repoRoot.appendingPathComponent("store/\(golden)").path + "/.", s.directory]
        try cp.run(); cp.waitUntilExit(within: Watchdog.defaultLimit)
        return s
    }

    func userVersion(_ s: StrataCLI) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma user_version').fetchone()[0])",
            s.path(".strata/strata.db"),
        ]
        let out = Pipe(); p.standardOutput = out
        try p.run(); p.waitUntilExit(within: Watchdog.defaultLimit)
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every file of `rev` checks out with the bytes its listing names.
    func checkoutIsByteIdentical(_ s: StrataCLI, _ rev: String) throws {
        #expect(try s.run("checkout", "--force", rev).status == 0)
        let listing = try JSONSerialization.jsonObject(with: Data(try s.run("ls", rev, "-r", "--json").stdout.utf8)) as? [String: Any]
        let entries = (listing?["entries"] as? [[String: Any]]) ?? []
        #expect(!entries.isEmpty)
        let hashes = try s.hashes()
        for e in entries where (e["type"] as? String) != "symlink" {
            guard let path = e["path"] as? String, let sha = e["sha256"] as? String else { continue }
            #expect(hashes["./" + path] == sha, "\(rev):\(path)")
        }
    }

    @Test(arguments: ["golden-v1", "golden-release-1"])
    func olderStoreUpgradesAndChecksOut(golden: String) throws {
        let s = try copy(golden)
        #expect(try userVersion(s) == "0")
        let fsck = try s.run("fsck")
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
        #expect(try userVersion(s) == "1")
        #expect(try s.run("log", "--oneline").stdout.split(separator: "\n").count == 3)
        try checkoutIsByteIdentical(s, "v1")
        try checkoutIsByteIdentical(s, "main")
        #expect(try s.run("fsck").status == 0)
        if golden == "golden-release-1" {
            // Its run cache, lineage and prune record still work after the upgrade.
            #expect(try s.run("repro").status == 0)
            #expect(try s.run("runs").stdout.contains("curate"))
            #expect(try s.run("prune", "--undo").status == 0)
        }
    }
}

/// `checkout REV -- FOLDER` restores a folder exactly (no-overlay, like `git restore`): tracked files REV lacks go,
/// untracked ones stay, modified ones are a conflict (exit 4) unless --force.
@Suite("End to end: checkout of paths is no-overlay") struct NoOverlayCheckoutTests {
    @Test func folderComesBackExactly() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        try s.write("lake/events/_delta_log/00000000000000000000.json", "{\"v\":0}\n")
        try s.write("lake/events/part-0.parquet", "p0")
        #expect(try s.run("commit", "-m", "v0").status == 0)
        #expect(try s.run("tag", "v0").status == 0)
        try s.write("lake/events/_delta_log/00000000000000000001.json", "{\"v\":1}\n")
        try s.write("lake/events/part-1.parquet", "p1")
        try s.write("lake/events/part-0.parquet", "p0-rewritten")
        try s.write("other.csv", "id\n1\n")
        #expect(try s.run("commit", "-m", "v1").status == 0)
        // An untracked file in the folder, and a modified tracked file that v0 lacks.
        try s.write("lake/events/notes.txt", "mine")
        try s.write("lake/events/part-1.parquet", "p1-edited")
        let refused = try s.run("checkout", "v0", "--", "lake/events")
        #expect(refused.status == 4, "\(refused.stderr)")
        #expect(refused.stderr.contains("lake/events/part-1.parquet"))
        #expect(try s.read("lake/events/part-1.parquet") == Data("p1-edited".utf8), "nothing changed")
        try s.write("lake/events/part-1.parquet", "p1")
        let ok = try s.run("checkout", "v0", "--", "lake/events")
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.path("lake/events/_delta_log/00000000000000000001.json")))
        #expect(!FileManager.default.fileExists(atPath: s.path("lake/events/part-1.parquet")))
        #expect(try s.read("lake/events/part-0.parquet") == Data("p0".utf8))
        #expect(try s.read("lake/events/notes.txt") == Data("mine".utf8), "untracked data is never removed")
        #expect(FileManager.default.fileExists(atPath: s.path("other.csv")), "outside the path nothing changes")
        // Committing it records the table as it was at v0.
        #expect(try s.run("commit", "-m", "restore lake/events to v0").status == 0)
        let diff = try s.run("diff", "v0", "HEAD", "--", "lake/events")
        #expect(diff.status == 0 && !diff.stdout.contains("lake/events/part") && !diff.stdout.contains("_delta_log"), "\(diff.stdout)")
    }
}
