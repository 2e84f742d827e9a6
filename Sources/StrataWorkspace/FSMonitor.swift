import Foundation
import StrataPlatform

#if canImport(Glibc)
import Glibc
#endif

/// A file-system monitor for one workspace (`strata watch`, `core.fsmonitor = true`), like git's builtin fsmonitor:
/// a small daemon watches every folder with inotify and answers, over a Unix socket in the store
/// (`.strata/fsmonitor.sock`, reachable only through the store's folder), which paths changed since a token it
/// issued. Tokens are `GENERATION:SEQUENCE` (a random generation per daemon, a counter of events): no clock is
/// involved. The daemon answers "full" (scan everything) whenever it cannot vouch for completeness: a token from
/// another generation (it restarted), an overflowed kernel queue, more changed paths than it keeps, or a folder it
/// could not watch. Before answering it reads every event the kernel has queued, and the kernel queues an event
/// when the change's system call returns, so a change made before the question is in the answer.
public enum FSMonitor {
    /// An answer to "what changed since TOKEN".
    public struct Answer: Sendable, Equatable, Codable {
        /// The token to ask with next time.
        public var token: String
        /// The daemon cannot say: scan everything.
        public var full: Bool
        /// Workspace-relative paths of files and folders that changed (a folder: everything below it may have).
        public var paths: [String]
    }

    /// What the daemon reports about itself (`strata watch status`).
    public struct Info: Sendable, Equatable, Codable {
        /// Its process id.
        public var pid: Int32
        /// Folders watched.
        public var watches: Int
        /// Changed paths kept.
        public var tracked: Int
        /// Times it had to answer "full" for older tokens (queue overflow, too many paths, a folder not watched).
        public var overflows: Int
        /// The current token.
        public var token: String
    }

    /// The socket's path for a store.
    public static func socketPath(storePath: String) -> String { storePath + "/fsmonitor.sock" }

    /// Whether the socket path fits in `sockaddr_un` (108 bytes); a longer one means no monitor (full scans).
    public static func usable(storePath: String) -> Bool { socketPath(storePath: storePath).utf8.count < 100 }

    /// Asks the daemon of the store; nil when none answers.
    public static func query(storePath: String, since token: String?) -> Answer? {
        guard let line = exchange(storePath: storePath, request: "since " + (token ?? "-")) else { return nil }
        return try? JSONDecoder().decode(Answer.self, from: Data(line.utf8))
    }

    /// The daemon's own report; nil when none answers.
    public static func info(storePath: String) -> Info? {
        guard let line = exchange(storePath: storePath, request: "info") else { return nil }
        return try? JSONDecoder().decode(Info.self, from: Data(line.utf8))
    }

    /// Asks the daemon to exit; true when one answered.
    @discardableResult
    public static func stop(storePath: String) -> Bool { exchange(storePath: storePath, request: "stop") != nil }

    /// One request line, one answer line; nil when nothing listens (or answers within 10 s).
    static func exchange(storePath: String, request: String) -> String? {
        let path = socketPath(storePath: storePath)
        guard usable(storePath: storePath) else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = address(path)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if ok != 0 { return nil }
        let bytes = Array((request + "\n").utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else { return nil }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
            if out.last == 10 { break }
        }
        guard out.last == 10 else { return nil }
        return String(decoding: out.dropLast(), as: UTF8.self)
    }

    static func address(_ path: String) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        return addr
    }

    /// Runs the daemon for the workspace at `root` until asked to stop, until the workspace folder goes away, or
    /// after `idle` seconds without a question. `maxPaths` bounds the changed paths kept (past it, older tokens get
    /// "full"): memory stays bounded whatever happens in the workspace.
    public static func runDaemon(root: String, storePath: String, maxPaths: Int = 200_000, idle: Int = 3600) throws {
        var daemon = try Daemon(root: root, storePath: storePath, maxPaths: maxPaths)
        try daemon.serve(idle: idle)
    }

    /// The daemon's state: one thread, one `poll` over the inotify descriptor and the listening socket.
    struct Daemon {
        let root: String
        let storePath: String
        let maxPaths: Int
        let inotify: Int32
        let listener: Int32
        let generation = Posix.randomHex(8)
        var seq: UInt64 = 0
        /// Changes before this sequence number are not all known.
        var incompleteBefore: UInt64 = 0
        var overflows = 0
        /// The sequence number of the newest token handed out.
        var lastIssued: UInt64 = 0
        var paths: [String: UInt64] = [:]
        var dirs: [Int32: String] = [:]
        var stopRequested = false
        var rootGone = false

        static let mask = UInt32(
            IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF
                | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

        init(root: String, storePath: String, maxPaths: Int) throws {
            self.root = root; self.storePath = storePath; self.maxPaths = maxPaths
            inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
            if inotify < 0 { throw PosixError("inotify_init1", root) }
            let path = FSMonitor.socketPath(storePath: storePath)
            guard FSMonitor.usable(storePath: storePath) else { throw PosixError("bind (the store's path is too long for a socket)", path) }
            // A stale socket from a daemon that died is replaced; a live one means another daemon serves.
            if FSMonitor.exchange(storePath: storePath, request: "info") != nil { throw PosixError("bind (a monitor already runs)", path) }
            unlink(path)
            listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            if listener < 0 { throw PosixError("socket", path) }
            var addr = FSMonitor.address(path)
            let old = umask(0o077)
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            umask(old)
            if bound != 0 || listen(listener, 16) != 0 { throw PosixError("bind", path) }
            // Watches first, then the listing of each folder: a folder created meanwhile is seen one way or the other.
            watchTree("")
        }

        /// Watches `rel` and every folder below it (not `.strata` or `.git` at the root).
        mutating func watchTree(_ rel: String) {
            var stack = [rel]
            while let dir = stack.popLast() {
                let full = dir.isEmpty ? root : root + "/" + dir
                let wd = inotify_add_watch(inotify, full, Daemon.mask | UInt32(IN_ONLYDIR))
                if wd < 0 {
                    // Gone already (its parent's event covers it), or no watch left (ENOSPC): nothing vouches for it.
                    if errno != ENOENT && errno != ENOTDIR { markIncomplete() }
                    continue
                }
                dirs[wd] = dir
                guard let d = opendir(full) else { continue }
                defer { closedir(d) }
                while let e = readdir(d) {
                    let name = withUnsafePointer(to: &e.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
                    if name == "." || name == ".." || (dir.isEmpty && (name == ".strata" || name == ".git")) { continue }
                    let child = dir.isEmpty ? name : dir + "/" + name
                    var isDir = e.pointee.d_type == UInt8(DT_DIR)
                    if e.pointee.d_type == UInt8(DT_UNKNOWN) { isDir = ((try? Posix.lstat(root + "/" + child)) ?? nil)?.isDirectory == true }
                    if isDir { stack.append(child) }
                }
            }
        }

        /// Nothing before now can be vouched for (`counted`: the caller has counted the overflow already).
        mutating func markIncomplete(counted: Bool = false) {
            seq += 1
            incompleteBefore = seq
            if !counted { overflows += 1 }
            paths.removeAll(keepingCapacity: false)
        }

        mutating func changed(_ rel: String) {
            seq += 1
            paths[rel] = seq
            guard paths.count > maxPaths else { return }
            // Too many: keep what the newest token handed out still needs; tokens older than it get "full".
            overflows += 1
            paths = paths.filter { $0.value > lastIssued }
            incompleteBefore = max(incompleteBefore, lastIssued)
            if paths.count > maxPaths { markIncomplete(counted: true) }
        }

        /// Reads every queued event.
        mutating func drain() {
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buf.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
                if n <= 0 { return }
                var off = 0
                while off + 16 <= n {
                    let (wd, mask, len) = buf.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                        (
                            raw.loadUnaligned(fromByteOffset: off, as: Int32.self), raw.loadUnaligned(fromByteOffset: off + 4, as: UInt32.self),
                            Int(raw.loadUnaligned(fromByteOffset: off + 12, as: UInt32.self))
                        )
                    }
                    let nameBytes = buf[(off + 16)..<min(n, off + 16 + len)].prefix { $0 != 0 }
                    off += 16 + len
                    // A name that is not UTF-8 cannot be reported as a path (decoding would repair it into another
                    // name, which the status then never finds): the next answer asks for a full scan, which refuses it.
                    guard let name = String(validating: nameBytes, as: UTF8.self) else {
                        markIncomplete(counted: true)
                        continue
                    }
                    handle(wd: wd, mask: mask, name: name)
                }
            }
        }

        mutating func handle(wd: Int32, mask: UInt32, name: String) {
            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                markIncomplete()
                return
            }
            if mask & UInt32(IN_IGNORED) != 0 {
                dirs[wd] = nil
                return
            }
            guard let dir = dirs[wd] else { return }
            if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
                if dir.isEmpty { rootGone = true }
                return
            }
            if name.isEmpty { return }
            if dir.isEmpty && (name == ".strata" || name == ".git") { return }
            let rel = dir.isEmpty ? name : dir + "/" + name
            changed(rel)
            guard mask & UInt32(IN_ISDIR) != 0 else { return }
            if mask & UInt32(IN_MOVED_FROM | IN_DELETE) != 0 {
                // The folder left this place: its watches (wherever it went) no longer name paths here.
                for (w, p) in dirs where p == rel || p.hasPrefix(rel + "/") {
                    inotify_rm_watch(inotify, w)
                    dirs[w] = nil
                }
            } else if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                watchTree(rel)
            }
        }

        mutating func answer(_ request: String) -> String {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let token = generation + ":" + String(seq)
            if request == "info" {
                let info = Info(pid: getpid(), watches: dirs.count, tracked: paths.count, overflows: overflows, token: token)
                return String(decoding: (try? enc.encode(info)) ?? Data(), as: UTF8.self)
            }
            var full = true
            var changed: [String] = []
            let asked = request.dropFirst("since ".count)
            let parts = asked.split(separator: ":")
            if parts.count == 2, parts[0] == generation, let since = UInt64(parts[1]), since >= incompleteBefore, since <= seq {
                full = false
                changed = paths.filter { $0.value > since }.map(\.key).sorted()
            }
            lastIssued = seq
            return String(decoding: (try? enc.encode(Answer(token: token, full: full, paths: changed))) ?? Data(), as: UTF8.self)
        }

        mutating func serve(idle: Int) throws {
            try? Posix.writeAtomically(storePath + "/fsmonitor.pid", Array("\(getpid())\n".utf8))
            defer {
                unlink(FSMonitor.socketPath(storePath: storePath))
                unlink(storePath + "/fsmonitor.pid")
                close(listener)
                close(inotify)
            }
            var lastQuestion = Posix.nowNs()
            let stallMs = Int(ProcessInfo.processInfo.environment["STRATA_FSMONITOR_TEST_STALL_MS"] ?? "") ?? 0
            while !stopRequested && !rootGone {
                var fds = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
                _ = poll(&fds, 2, 1000)
                drain()
                if Posix.nowNs() - lastQuestion > Int64(idle) * 1_000_000_000 { return }
                if fds[1].revents & Int16(POLLIN) == 0 { continue }
                while true {
                    let c = accept(listener, nil, nil)
                    if c < 0 { break }
                    _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                    lastQuestion = Posix.nowNs()
                    var tv = timeval(tv_sec: 5, tv_usec: 0)
                    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    var req: [UInt8] = []
                    var b = [UInt8](repeating: 0, count: 512)
                    while req.count < 4096 && req.last != 10 {
                        let n = b.withUnsafeMutableBytes { read(c, $0.baseAddress, $0.count) }
                        if n <= 0 { break }
                        req.append(contentsOf: b[0..<n])
                    }
                    let text = String(decoding: req, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    // Every change made before the question was queued by the kernel before the question arrived.
                    drain()
                    var reply = ""
                    if text == "stop" {
                        stopRequested = true
                        reply = "{\"stopped\":true}"
                    } else if text == "info" || text.hasPrefix("since ") {
                        reply = answer(text)
                    } else {
                        reply = "{\"error\":\"unknown request\"}"
                    }
                    let out = Array((reply + "\n").utf8)
                    _ = out.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
                    close(c)
                    // Tests only: stop reading events for a while after an answer, so that the kernel's queue
                    // overflows (`STRATA_FSMONITOR_TEST_STALL_MS`); the overflow must then force a full scan.
                    if stallMs > 0 && text.hasPrefix("since ") { usleep(UInt32(min(stallMs, 10_000)) * 1000) }
                }
            }
        }
    }
}
