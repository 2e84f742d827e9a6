import Foundation
import StrataModel
import StrataPlatform
import StrataRepository

/// Status with the file-system monitor (`core.fsmonitor = true`, `strata watch`): the monitor says which paths
/// changed since the token of the last status; those, and the paths that differed then, are all that is compared.
/// Whenever the monitor cannot vouch for that (none runs or answers, it restarted, its queue overflowed, HEAD moved,
/// `.strataignore` changed), the full scan runs, and its answer seeds the next one: a wrong answer is never the
/// fallback. The state (token, HEAD, the paths that differed) is `.strata/fsmonitor.state`.
public enum MonitorWorkflow {
    struct State: Codable {
        var token: String
        var head: String?
        var dirty: [String]
    }

    static func statePath(_ repo: Repository) -> String { repo.storePath + "/fsmonitor.state" }

    static func load(_ repo: Repository) -> State? {
        (try? Posix.readFile(statePath(repo))).flatMap { try? JSONDecoder().decode(State.self, from: Data($0)) }
    }

    static func save(_ repo: Repository, _ state: State) {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        guard let bytes = try? enc.encode(state) else { return }
        try? Posix.writeAtomically(statePath(repo), Array(bytes))
    }

    /// Whether the monitor's answer and the saved state together vouch for every path outside their lists: the
    /// monitor knows everything since the state's token, HEAD has not moved, and the ignore rules have not changed.
    static func vouches(_ saved: State, _ answer: MonitorAnswer, head: ObjectID?) -> Bool {
        !answer.full && saved.head == head?.hex && !answer.paths.contains(".strataignore")
    }

    /// Whether status uses the monitor: `core.fsmonitor = true`, unless `STRATA_FSMONITOR=0` for this command.
    public static func enabled(_ repo: Repository, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if environment["STRATA_FSMONITOR"] == "0" { return false }
        return ((try? repo.config("core.fsmonitor")) ?? nil)?.lowercased() == "true"
    }

    /// Starts the store's monitor unless one answers, and waits (up to 5 s) until it does. Nil when it cannot run
    /// here (the store's path is too long for a socket).
    @discardableResult
    public static func start(_ repo: Repository) throws -> MonitorInfo? {
        guard repo.monitorUsable else { return nil }
        if let info = repo.monitorInfo() { return info }
        let exe = Posix.realpath("/proc/self/exe") ?? CommandLine.arguments[0]
        // Its own session, no terminal, no inherited output: it outlives this command.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        p.arguments = [exe, "watch", "--daemon", "-C", repo.root]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        for _ in 0..<250 {
            if let info = repo.monitorInfo() { return info }
            usleep(20_000)
        }
        return nil
    }

    /// The paths that may differ from HEAD, when the monitor can vouch that no other does, with the token it
    /// answered at; nil when it cannot (then the caller compares everything).
    /// `purpose` names the command in the trace.
    public static func candidates(_ repo: Repository, purpose: String = "commit") -> (token: String, paths: [String])? {
        guard enabled(repo), repo.monitorUsable, let saved = load(repo), let answer = repo.monitorQuery(since: saved.token),
            vouches(saved, answer, head: try? repo.resolve("HEAD"))
        else { return nil }
        trace("\(purpose) monitor \(saved.dirty.count + answer.paths.count) candidates")
        return (answer.token, saved.dirty + answer.paths)
    }

    /// Diagnostics: how each status or commit was answered, one line each, appended to `STRATA_FSMONITOR_TRACE`
    /// when it names a file (the tests count them).
    static func trace(_ line: String) {
        guard let path = ProcessInfo.processInfo.environment["STRATA_FSMONITOR_TRACE"], let h = FileHandle(forWritingAtPath: path) else { return }
        h.seekToEndOfFile()
        h.write(Data((line + "\n").utf8))
        try? h.close()
    }

    /// After a commit of every candidate: nothing differed from the new HEAD as of `token`.
    public static func committed(_ repo: Repository, token: String, head: ObjectID) {
        save(repo, State(token: token, head: head.hex, dirty: []))
    }

    /// A checkout (`branch`: a switch to that branch) that finds the workspace's own changes through the monitor
    /// when it can vouch for them, else by the full walk. Afterwards the paths that may differ from the new HEAD are
    /// those that may have differed from the old one: the paths the checkout writes or removes are reported by the
    /// monitor itself, being changed after the token it answered with.
    public static func checkout(_ repo: Repository, _ revision: String, branch: Bool = false, force: Bool, progress: ProgressHandler? = nil) throws
        -> CheckoutResult
    {
        let monitored = candidates(repo, purpose: "checkout")
        let r =
            branch
            ? try repo.switchBranch(revision, force: force, candidates: monitored?.paths)
            : try repo.checkout(revision, force: force, progress: progress, candidates: monitored?.paths)
        if let monitored, let head = try? repo.resolve("HEAD") {
            // With force, the candidates' own changes were undone; they stay candidates (compared once more).
            save(repo, State(token: monitored.token, head: head.hex, dirty: monitored.paths))
        }
        return r
    }

    /// The workspace's status, through the monitor when it is enabled and can vouch, else by the full scan.
    public static func status(_ repo: Repository, progress: ProgressHandler? = nil) throws -> WorkspaceStatus {
        guard enabled(repo), repo.monitorUsable else { return try repo.status(progress: progress) }
        let saved = load(repo)
        var answer = repo.monitorQuery(since: saved?.token)
        if answer == nil {
            _ = try? start(repo)
            answer = repo.monitorQuery(since: nil)
        }
        guard let answer else { return try repo.status(progress: progress) }
        let head = try? repo.resolve("HEAD")
        let st: WorkspaceStatus
        let how: String
        if let saved, vouches(saved, answer, head: head) {
            st = try repo.status(candidates: saved.dirty + answer.paths, progress: progress)
            how = "monitor \(saved.dirty.count + answer.paths.count) candidates"
        } else {
            st = try repo.status(progress: progress)
            how = saved == nil ? "full (no earlier status)" : answer.full ? "full (the monitor cannot vouch)" : "full (HEAD or .strataignore changed)"
        }
        trace(how)
        if st.head == head {
            save(repo, State(token: answer.token, head: head?.hex, dirty: st.changes.flatMap { [$0.path] + ($0.oldPath.map { [$0] } ?? []) }))
        } else {
            try? Posix.unlink(statePath(repo))
        }
        return st
    }
}
