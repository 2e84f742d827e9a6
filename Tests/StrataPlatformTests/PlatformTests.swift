import Foundation
import Testing
@testable import StrataPlatform

@Suite("Platform") struct PlatformTests {
    func scratch() throws -> String {
        let d = NSTemporaryDirectory() + "platform-\(Posix.randomHex(5))"
        try Posix.makeDirectories(d)
        return d
    }

    @Test func atomicWritesAndDirectories() throws {
        let d = try scratch()
        try Posix.makeDirectories(d + "/a/b/c")
        #expect(try Posix.lstat(d + "/a/b/c")?.isDirectory == true)
        try Posix.writeAtomically(d + "/a/f", Array("one".utf8))
        try Posix.writeAtomically(d + "/a/f", Array("two".utf8))
        #expect(try Posix.readFile(d + "/a/f") == Array("two".utf8))
        #expect(try Posix.listDirectory(d + "/a").sorted() == ["b", "f"])  // no temp file left behind
        #expect(throws: PosixError.self) { try Posix.makeDirectories(d + "/a/f/x") }
        #expect(try Posix.lstat(d + "/nothing") == nil)
    }

    @Test func posixErrorsNameThePathAndHaveACategory() throws {
        let e = PosixError("open", "/no/such/file", code: ENOENT)
        #expect(e.isNotFound && e.category == .failure && e.code == "os.open")
        #expect(e.description.contains("/no/such/file"))
        #expect(PosixError("write", "/x", code: ENOSPC).nextStep?.contains("disk space") == true)
    }

    @Test func fileLockIsExclusiveAndReleasable() throws {
        let path = try scratch() + "/lock"
        let first = try FileLock(path: path, timeout: 0)
        #expect(first != nil)
        #expect(try FileLock(path: path, timeout: 0) == nil)
        #expect(FileLock.holder(path: path).contains("pid=\(getpid())"))
        first?.clear(); first?.unlock()
        #expect(try FileLock(path: path, timeout: 0) != nil)
    }

    @Test func textLinesSplitAtEveryLineEnding() {
        #expect("a\nb\r\nc\rd".textLines() == ["a", "b", "c", "d"])
        #expect("a\r\n\r\nb\r\n".textLines() == ["a", "", "b", ""])
        #expect("a\r\n\r\nb\r\n".textLines(omittingEmpty: true) == ["a", "b"])
        #expect("".textLines() == [""])
    }

    @Test func pathsSplitAtSlashBytes() {
        // A combining mark after "/" joins it into one Character: Character-based split sees one component.
        #expect("../\u{301}etc".split(separator: "/").count == 1)
        #expect("../\u{301}etc".slashSeparated().map { Array($0.unicodeScalars) } == ["..", "\u{301}etc"].map { Array($0.unicodeScalars) })
        #expect("a//b/".slashSeparated() == ["a", "b"])
        #expect("a//b/".slashSeparated(omittingEmpty: false) == ["a", "", "b", ""])
        #expect("".slashSeparated().isEmpty && "".slashSeparated(omittingEmpty: false) == [""])
        #expect("zz/a/\u{301}b".dropFirst(3).slashSeparated().map { Array($0.unicodeScalars) } == ["a", "\u{301}b"].map { Array($0.unicodeScalars) })
        for name in ["\u{301}x", "\u{200D}x", "\u{FE0F}x", "x\u{600}"] { #expect(SlashEdges.merge(name), "\(name.unicodeScalars.map(\.value))") }
        for name in ["x", "caf\u{E9}", "cafe\u{301}", "\u{E9}t\u{E9}", "\u{1F600}", "\u{5D0}"] { #expect(!SlashEdges.merge(name)) }
    }

    @Test func urlCredentialsAreRedacted() {
        #expect(URLRedaction.redact("http://alice:s3cret@host:5000/api?x=1") == "http://***@host:5000/api?x=1")
        #expect(URLRedaction.redact("OPENLINEAGE_URL 'https://tok@h' is not a URL") == "OPENLINEAGE_URL 'https://***@h' is not a URL")
        #expect(URLRedaction.redact("s3://bucket/key@v1 and file:///tmp/x") == "s3://bucket/key@v1 and file:///tmp/x")
        #expect(URLRedaction.redact("no url here") == "no url here")
        #expect(URLRedaction.redact("a://u:p@b c://d:e@f") == "a://***@b c://***@f")
        // A URL's authority ends at a line break of any kind ("\r\n" is one Character): the next line is left alone.
        #expect(URLRedaction.redact("see https://host\r\nbob@example.org/x") == "see https://host\r\nbob@example.org/x")
        #expect(URLRedaction.redact("https://u:p@host\r\nnext") == "https://***@host\r\nnext")
    }

    @Test func preadAndReadFullStopAtTheEnd() throws {
        let path = try scratch() + "/f"
        try Posix.writeAtomically(path, Array(0..<100))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 10)
        let n = try buf.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: 95, path: path) }
        #expect(n == 5 && Array(buf[0..<5]) == [95, 96, 97, 98, 99])
    }
}

@Suite("Platform: heap") struct HeapTests {
    /// The remote commands' heap setting applies on glibc, unless the user set MALLOC_MMAP_THRESHOLD_ (then theirs
    /// stands), and large buffers still allocate and free afterwards.
    @Test func transfersMapLargeBuffersUnlessTheUserChose() {
        let userSet = ProcessInfo.processInfo.environment["MALLOC_MMAP_THRESHOLD_"] != nil
        #if canImport(Glibc)
        #expect(Heap.forTransfers() == !userSet)
        #else
        #expect(Heap.forTransfers() == false)
        #endif
        for size in [Heap.transferThreshold - 1, Heap.transferThreshold, 4 << 20] {
            let b = [UInt8](repeating: 7, count: size)
            #expect(b.count == size && b[size - 1] == 7)
        }
    }
}
