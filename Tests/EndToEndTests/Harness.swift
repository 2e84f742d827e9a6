import Foundation
import StrataModel
import StrataObjects
import StrataRepository
import StrataTestSupport
import Testing

/// Runs the built `strata` binary in temporary folders.
struct StrataCLI {
    /// The binary: `STRATA_BIN`, else `.build/debug/strata` (or release) of this package.
    static let binary: String = {
        if let b = ProcessInfo.processInfo.environment["STRATA_BIN"] { return b }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for p in [".build/debug/strata", ".build/release/strata"] {
            let full = root.appendingPathComponent(p).path
            if FileManager.default.isExecutableFile(atPath: full) { return full }
        }
        return root.appendingPathComponent(".build/debug/strata").path
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutBytes: Data
    }

    let directory: String

    /// A harness for an existing folder.
    init(directory: String) { self.directory = directory }

    init() throws {
        let d = NSTemporaryDirectory() + "e2e-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        directory = URL(fileURLWithPath: d).resolvingSymlinksInPath().path
    }

    @discardableResult
    func run(_ args: String..., cwd: String? = nil, env: [String: String] = [:]) throws -> Result {
        try run(args, cwd: cwd, env: env)
    }

    /// Runs the binary with `args`; `launcher` (such as `/usr/bin/time -o F`) runs it through another command.
    @discardableResult
    func run(_ args: [String], cwd: String? = nil, env: [String: String] = [:], launcher: [String] = []) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: launcher.first ?? StrataCLI.binary)
        p.arguments = launcher.isEmpty ? args : Array(launcher.dropFirst()) + [StrataCLI.binary] + args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? directory)
        var e = ProcessInfo.processInfo.environment
        e["STRATA_AUTHOR"] = "E2E Tester <e2e@example.org>"
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let dog = Watchdog(p)
        let o = ReadBox(out.fileHandleForReading), er = ReadBox(err.fileHandleForReading)
        p.waitUntilExit()
        let od = o.wait(), ed = er.wait()
        let stderr = String(decoding: ed, as: UTF8.self) + (dog.disarm() ? dog.note : "")
        return Result(status: p.terminationStatus, stdout: String(decoding: od, as: UTF8.self), stderr: stderr, stdoutBytes: od)
    }

    /// Turns the file-system monitor on, starts it and seeds its state with a first status; stop it with
    /// `run("watch", "stop")`.
    func startMonitor(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try run("config", "core.fsmonitor", "true")
        #expect(try run("watch").status == 0, sourceLocation: sourceLocation)
        #expect(try run("status").status == 0, sourceLocation: sourceLocation)
    }

    /// Starts the binary without waiting.
    func start(_ args: [String], binary: String = StrataCLI.binary, environment: [String: String]? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        var e = environment ?? ProcessInfo.processInfo.environment
        e["STRATA_AUTHOR"] = "E2E Tester <e2e@example.org>"
        p.environment = e
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    func write(_ rel: String, _ text: String) throws { try write(rel, Data(text.utf8)) }

    func write(_ rel: String, _ data: Data) throws {
        let url = URL(fileURLWithPath: directory).appendingPathComponent(rel)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    func read(_ rel: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(rel)) }

    func path(_ rel: String) -> String { directory + "/" + rel }

    /// A copy of the binary alone in a folder beside this one (no `strata-supervise`, no prebuilt DSL module next to
    /// it), as an installation of the bare executable has it; returns its path.
    func bareCopy() throws -> String {
        let binary = directory + "-bin/strata"
        try FileManager.default.createDirectory(atPath: directory + "-bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: StrataCLI.binary, toPath: binary)
        return binary
    }

    /// sha256 of every file (following nothing), as sha256sum would print, keyed by relative path.
    func hashes() throws -> [String: String] {
        let r = Process()
        r.executableURL = URL(fileURLWithPath: "/bin/sh")
        r.arguments = [
            "-c",
            "find . -path ./.strata -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum; find . -path ./.strata -prune -o -type l -print | sort | while read l; do echo \"link $(readlink \"$l\") $l\"; done",
        ]
        r.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(); r.standardOutput = out
        let (data, _) = try r.runToEnd(reading: out)
        var map: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("link ") { let parts = line.split(separator: " ", maxSplits: 2); map[String(parts[2])] = "link:" + parts[1]; continue }
            let h = line.prefix(64), p = line.dropFirst(66)
            map[String(p)] = String(h)
        }
        return map
    }
}

/// Drains a pipe on a background thread so a chatty child never blocks; `lock` guards `data`.
final class ReadBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    init(_ h: FileHandle) {
        Thread.detachNewThread { [self] in
            let d = h.readDataToEndOfFile()
            lock.lock(); data = d; lock.unlock()
            done.signal()
        }
    }
    func wait() -> Data { done.wait(); lock.lock(); defer { lock.unlock() }; return data }
}

extension StrataCLI {
    /// Writes a commit whose tree `makeTree` builds with the library, bypassing every check commit makes, and points
    /// a new branch at it: how tests plant hostile trees.
    func craftCommit(branch: String, _ makeTree: (WriteSession) throws -> ObjectID) throws {
        let repo = try Repository.open(at: directory)
        let session = repo.objects.beginWrite()
        let tree = try makeTree(session)
        let c = Commit(tree: tree, parents: [], author: try Signature(name: "Mallory", email: "m@x"), time: 0, message: "crafted")
        let cid = try session.put(.commit, c.encoded())
        try session.finishPacks(); try session.recordIndex()
        try repo.refs.updateBranch(try BranchName(branch), expected: nil, new: cid, message: "crafted", time: 0)
    }
}
