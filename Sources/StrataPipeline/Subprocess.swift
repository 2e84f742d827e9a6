import CStrataSpawn
import Foundation
import StrataPlatform
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of a finished child process.
package struct ProcessResult: Sendable {
    /// Exit status (128 + signal when killed).
    package var status: Int32
    /// Captured standard output.
    package var stdout: Data
    /// Captured standard error.
    package var stderr: Data
    /// True when the time limit killed it.
    package var timedOut: Bool
    /// Seconds it ran.
    package var seconds: Double
}

/// Runs child processes with captured output, an optional time limit and a kill switch for the whole process group.
///
/// Every command runs under a supervisor (`CStrataSpawn`) that leads the command's process group and kills the
/// whole group when strata dies, even by SIGKILL, so no stage outlives the `repro` that started it. The calling
/// thread waits for the supervisor (the parent-death signal belongs to that thread); a time limit is a timer on
/// another queue, not a polling loop.
package enum Subprocess {
    /// Runs `executable args` and waits; kills the process group after `timeout` seconds.
    package static func run(
        _ executable: String, _ args: [String], environment: [String: String], directory: String,
        timeout: Double? = nil, onStart: ((Int32) -> Void)? = nil
    ) throws -> ProcessResult {
        var outFDs: [Int32] = [0, 0], errFDs: [Int32] = [0, 0]
        guard strata_pipe_cloexec(&outFDs) == 0 else { throw PosixError("create pipe", executable) }
        guard strata_pipe_cloexec(&errFDs) == 0 else { close(outFDs[0]); close(outFDs[1]); throw PosixError("create pipe", executable) }
        let start = Date()
        let argv = [executable] + args
        let envp = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let pid: pid_t = withCStrings(argv) { a in
            withCStrings(envp) { e in strata_spawn_supervised(executable, a, e, directory, outFDs[1], errFDs[1]) }
        }
        let spawnErrno = errno
        close(outFDs[1]); close(errFDs[1])
        if pid < 0 {
            close(outFDs[0]); close(errFDs[0])
            throw PosixError("start", executable, code: spawnErrno)
        }
        onStart?(pid)
        let timedOut = TimeoutFlag()
        var timer: DispatchSourceTimer?
        if let timeout {
            let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
            t.schedule(deadline: .now() + timeout)
            t.setEventHandler {
                timedOut.set(); kill(-pid, SIGKILL); kill(pid, SIGKILL)
            }
            t.resume()
            timer = t
        }
        // Both pipes are drained here, in the calling thread, with poll(2): no thread per pipe.
        let (stdout, stderr) = drain(outFDs[0], errFDs[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { break }
        }
        timer?.cancel()
        // The supervisor reports the command's status (128 + signal when it was killed); a killed supervisor
        // (time limit, Ctrl-C) reports its own signal the same way.
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ProcessResult(status: code, stdout: stdout, stderr: stderr, timedOut: timedOut.get(), seconds: Date().timeIntervalSince(start))
    }

    /// At most this much of each stream is kept (its end): a chatty stage cannot fill strata's memory.
    static let keepBytes = 1 << 20

    /// Reads two pipes to their ends with poll(2), keeping the last `keepBytes` of each, then closes them.
    static func drain(_ a: Int32, _ b: Int32) -> (Data, Data) {
        var out = [Data(), Data()]
        var fds = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
        var open = [true, true]
        var buf = [UInt8](repeating: 0, count: 64 << 10)
        while open[0] || open[1] {
            for i in 0..<2 { fds[i].fd = open[i] ? (i == 0 ? a : b) : -1; fds[i].revents = 0 }
            let r = poll(&fds, 2, -1)
            if r < 0 { if errno == EINTR { continue }; break }
            for i in 0..<2 where open[i] && fds[i].revents != 0 {
                let n = buf.withUnsafeMutableBytes { read(i == 0 ? a : b, $0.baseAddress, $0.count) }
                if n > 0 {
                    out[i].append(contentsOf: buf[0..<n])
                    if out[i].count > 2 * keepBytes { out[i] = Data(out[i].suffix(keepBytes)) }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    open[i] = false
                }
            }
        }
        close(a); close(b)
        return (Data(out[0].suffix(keepBytes)), Data(out[1].suffix(keepBytes)))
    }

    /// Calls `body` with a NULL-terminated array of C strings.
    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { for p in ptrs { free(p) } }
        return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// The absolute path of a program found on PATH.
    static func which(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for dir in (path ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Set once by the time-limit timer; `lock` guards the flag.
final class TimeoutFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    func get() -> Bool { lock.lock(); defer { lock.unlock() }; return value }
}
