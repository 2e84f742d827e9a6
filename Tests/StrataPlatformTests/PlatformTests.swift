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
