import Foundation

/// The outcome of a finished child process.
public struct ProcessResult: Sendable {
    /// Exit status (128 + signal when killed).
    public var status: Int32
    /// Captured standard output.
    public var stdout: Data
    /// Captured standard error.
    public var stderr: Data
    /// True when the time limit killed it.
    public var timedOut: Bool
    /// Seconds it ran.
    public var seconds: Double
}

/// Runs child processes with captured output, an optional time limit and a kill switch for the whole process group.
enum Subprocess {
    /// Runs `executable args` and waits; kills the process group after `timeout` seconds.
    static func run(_ executable: String, _ args: [String], environment: [String: String], directory: String,
                    timeout: Double? = nil, onStart: ((Int32) -> Void)? = nil) throws -> ProcessResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.environment = environment
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let start = Date()
        try p.run()
        onStart?(p.processIdentifier)
        let o = Drain(out.fileHandleForReading), e = Drain(err.fileHandleForReading)
        var timedOut = false
        if let timeout {
            let deadline = Date().addingTimeInterval(timeout)
            while p.isRunning {
                if Date() > deadline { timedOut = true; kill(-p.processIdentifier, SIGKILL); kill(p.processIdentifier, SIGKILL); break }
                usleep(5_000)
            }
        }
        p.waitUntilExit()
        let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return ProcessResult(status: status, stdout: o.wait(), stderr: e.wait(), timedOut: timedOut, seconds: Date().timeIntervalSince(start))
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

/// Reads a pipe to its end on a background thread; `lock` guards `data`.
final class Drain: @unchecked Sendable {
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
