import CStrataSpawn
import Foundation
import StrataPlatform
import Subprocess
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of a finished child process.
package struct ProcessResult: Sendable {
    /// Exit status (128 + signal when killed).
    package var status: Int32
    /// Captured standard output (its last `StageExecutor.keepBytes`).
    package var stdout: Data
    /// Captured standard error (its last `StageExecutor.keepBytes`).
    package var stderr: Data
    /// True when the time limit killed it.
    package var timedOut: Bool
    /// Seconds it ran.
    package var seconds: Double
}

/// The one executor of child processes (stage commands, `reproduce`, the manifest compiler and program), built on
/// swift-subprocess.
///
/// Every command runs under `strata-supervise`, which leads the command's process group. Its stdin is a lifeline
/// pipe that only this process holds: when strata dies, even by SIGKILL, the supervisor sees end-of-file and kills
/// the group, so no stage outlives the `repro` that started it. A time limit is a sleeping task that kills the
/// group (no polling); both output pipes are drained as async sequences by swift-subprocess's I/O loop (no thread
/// per pipe), keeping the last MiB of each.
package enum StageExecutor {
    /// At most this much of each stream is kept (its end): a chatty stage cannot fill strata's memory.
    static let keepBytes = 1 << 20

    /// Runs `executable args` and waits; kills the process group after `timeout` seconds. `onStart` gets the
    /// supervisor's pid, which is also the group id (`kill(-pid, …)` stops everything the command started).
    package static func run(
        _ executable: String, _ args: [String], environment: [String: String], directory: String,
        timeout: Double? = nil, onStart: (@Sendable (Int32) -> Void)? = nil
    ) throws -> ProcessResult {
        let (supervisor, prefix) = try supervisor()
        var lifeline: [Int32] = [0, 0]
        guard strata_pipe_cloexec(&lifeline) == 0 else { throw PosixError("create pipe", executable) }
        defer { close(lifeline[1]) }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let start = Date()
        let readEnd = lifeline[0]
        Task.detached {
            do {
                box.set(
                    .success(
                        try await runAsync(
                            supervisor, prefix + [executable] + args, environment: environment, directory: directory,
                            lifeline: readEnd, timeout: timeout, onStart: onStart)))
            } catch {
                box.set(.failure(error))
            }
            done.signal()
        }
        done.wait()
        var r = try box.get()
        r.seconds = Date().timeIntervalSince(start)
        return r
    }

    static func runAsync(
        _ supervisor: String, _ argv: [String], environment: [String: String], directory: String, lifeline: Int32,
        timeout: Double?, onStart: (@Sendable (Int32) -> Void)?
    ) async throws -> ProcessResult {
        var env: [Environment.Key: String] = [:]
        for (k, v) in environment { env[Environment.Key(stringLiteral: k)] = v }
        let timedOut = Flag()
        let result = try await Subprocess.run(
            .path(FilePath(supervisor)), arguments: Arguments(argv), environment: .custom(env),
            workingDirectory: FilePath(directory),
            input: .fileDescriptor(FileDescriptor(rawValue: lifeline), closeAfterSpawningProcess: true),
            output: .sequence, error: .sequence
        ) { execution in
            let pid = execution.processIdentifier.value
            onStart?(pid)
            let limit: Task<Void, Never>? = timeout.map { seconds in
                Task {
                    try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                    if Task.isCancelled { return }
                    timedOut.set()
                    kill(-pid, SIGKILL); kill(pid, SIGKILL)
                }
            }
            defer { limit?.cancel() }
            async let out = tail(execution.standardOutput)
            async let err = tail(execution.standardError)
            return try await (out, err)
        }
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let sig): status = 128 + sig
        }
        return ProcessResult(status: status, stdout: result.closureResult.0, stderr: result.closureResult.1, timedOut: timedOut.get(), seconds: 0)
    }

    /// Reads a stream to its end, keeping its last `keepBytes`.
    static func tail(_ stream: SubprocessOutputSequence) async throws -> Data {
        var out = Data()
        for try await chunk in stream {
            chunk.withUnsafeBytes { out.append(contentsOf: $0) }
            if out.count > 2 * keepBytes { out = Data(out.suffix(keepBytes)) }
        }
        return Data(out.suffix(keepBytes))
    }

    /// The supervisor to start, with the arguments that come before the command: `STRATA_SUPERVISOR`, else
    /// `strata-supervise` next to the running executable (the build folder, a test runner in it) or in `../lib/strata`
    /// (the installed layout), else the strata binary itself as `strata __supervise` (a bare copy of the binary).
    static func supervisor() throws -> (path: String, prefix: [String]) {
        if let p = ProcessInfo.processInfo.environment["STRATA_SUPERVISOR"], !p.isEmpty { return (p, []) }
        let exe = Posix.realpath("/proc/self/exe") ?? CommandLine.arguments[0]
        let dir = Posix.dirname(exe)
        for candidate in [dir + "/strata-supervise", dir + "/../lib/strata/strata-supervise"] where access(candidate, X_OK) == 0 {
            return (candidate, [])
        }
        if URL(fileURLWithPath: exe).lastPathComponent.contains("strata") { return (exe, ["__supervise"]) }
        throw PosixError("find strata-supervise next to", exe, code: ENOENT)
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

/// The result handed from the async task to the waiting thread; `lock` guards it.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<ProcessResult, any Error>?
    func set(_ v: Result<ProcessResult, any Error>) { lock.lock(); value = v; lock.unlock() }
    func get() throws -> ProcessResult { lock.lock(); defer { lock.unlock() }; return try value!.get() }
}

/// Set once by the time limit; `lock` guards the flag.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    func get() -> Bool { lock.lock(); defer { lock.unlock() }; return value }
}
