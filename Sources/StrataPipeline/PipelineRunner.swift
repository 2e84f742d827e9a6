import Foundation
import StrataModel
import StrataPlatform
import StrataRepository
import StrataWorkspace
import StrataSQLite

/// Options of `strata repro`.
public struct ReproOptions: Sendable {
    /// Stages to bring up to date (empty = all).
    public var targets: [String] = []
    /// Show the plan; run nothing.
    public var dryRun = false
    /// Run the selected stages even when up to date.
    public var force = false
    /// With targets: also everything downstream of them.
    public var downstream = false
    /// Keep running independent stages after a failure.
    public var keepGoing = false
    /// Parallel stages.
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    /// Creates default options.
    public init() {}
}

/// What happened to one stage.
public struct StageOutcome: Sendable, Equatable {
    /// What was done.
    public enum Action: String, Sendable, Codable {
        case ran, restored, skipped, failed
        case notRun = "not-run"
        case wouldRun = "would-run"
        case wouldRestore = "would-restore"
    }
    /// Stage.
    public var name: String
    /// Action.
    public var action: Action
    /// Why.
    public var reason: String
    /// Wall seconds of the command.
    public var seconds: Double = 0
    /// Last lines of stderr of a failed stage.
    public var stderrTail: String?
    /// The stage key.
    public var key: String?
}

/// The result of a repro.
public struct ReproResult: Sendable {
    /// Per stage, in graph order.
    public var outcomes: [StageOutcome]
    /// Whether Pipeline.lock was rewritten.
    public var lockChanged: Bool
    /// True when no stage failed.
    public var succeeded: Bool { !outcomes.contains { $0.action == .failed } }
}

/// Observes stage starts and ends (for lineage and progress); called from worker threads.
public protocol ReproObserver: Sendable {
    /// A stage is about to run.
    func stageStarted(_ stage: StageSpec, inputs: [LockedPath])
    /// A stage finished (ran, restored, failed).
    func stageFinished(_ stage: StageSpec, outcome: StageOutcome, inputs: [LockedPath], outputs: [LockedPath])
}

/// Brings a pipeline up to date: runs exactly the stages whose command, inputs, parameters, environment or outputs
/// changed, restores outputs it has produced before from the run cache, and runs independent stages in parallel.
public final class PipelineRunner: @unchecked Sendable {
    // `lock` guards `running` and `cancelled`.
    private let lock = NSLock()
    private var running: [String: Int32] = [:]
    private var cancelled = false
    /// Fingerprints already taken in this run, dropped for paths a stage rewrites.
    private var memo: [String: PathFingerprint] = [:]
    /// The store.
    public let repo: Repository
    /// The evaluated manifest.
    public let spec: PipelineSpec
    /// The graph.
    public let graph: StageGraph
    /// Observer of stage events.
    public var observer: ReproObserver?

    /// Inputs that no stage produces: the pipeline's sources.
    public var sourceInputs: Set<String> {
        var produced: [String] = []
        for s in spec.stages { for o in s.outputs { produced.append(StageGraph.normalize(o.path)) } }
        var out = Set<String>()
        for s in spec.stages {
            for i in s.inputs where i.keys == nil {
                let p = StageGraph.normalize(i.path)
                if !produced.contains(where: { StageGraph.overlaps($0, p) }) { out.insert(i.path) }
            }
        }
        return out
    }

    /// The pipeline engine's table (owner `pipeline`): the run cache, stage key → stored outputs.
    public static let schema = ModuleSchema(
        owner: "pipeline",
        migrations: [
            Migration(
                1, "the run cache",
                "CREATE TABLE IF NOT EXISTS run_cache (key TEXT PRIMARY KEY, stage TEXT NOT NULL, outputs TEXT NOT NULL, created INTEGER NOT NULL);")
        ])

    /// Validates the graph against the workspace.
    public init(repo: Repository, spec: PipelineSpec) throws {
        self.repo = repo; self.spec = spec
        let root = repo.root
        graph = try StageGraph(spec) { p in (try? Posix.lstat(p.isEmpty ? root : root + "/" + p)) != nil }
        try repo.attach(PipelineRunner.schema)
    }

    /// Stops running stages (their process groups get SIGTERM) and starts no new ones.
    public func cancel() {
        lock.lock(); cancelled = true; let pids = Array(running.values); lock.unlock()
        for p in pids { kill(-p, SIGTERM); kill(p, SIGTERM) }
    }

    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    /// The environment a stage command runs with: a few basics from strata's own environment, the declared
    /// variables, each parameter as `STRATA_PARAM_<NAME>`, and `STRATA_STAGE`. Nothing else leaks in.
    public static func commandEnvironment(stage: String, params: [String: String], declared: [String: String?]) -> [String: String] {
        var out: [String: String] = [:]
        for k in ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "SHELL", "TERM"] {
            if let v = ProcessInfo.processInfo.environment[k] { out[k] = v }
        }
        for (k, v) in declared { if let v { out[k] = v } }
        for (k, v) in params { out["STRATA_PARAM_" + k.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()] = v }
        out["STRATA_STAGE"] = stage
        return out
    }

    // MARK: Fingerprints

    /// Fingerprints of workspace paths, taken once per run (one scan for many paths) unless a stage rewrote them.
    func fingerprints(_ paths: [String]) throws -> [String: PathFingerprint] {
        lock.lock()
        var out: [String: PathFingerprint] = [:]
        var missing: [String] = []
        for p in paths { if let f = memo[p] { out[p] = f } else { missing.append(p) } }
        lock.unlock()
        if !missing.isEmpty {
            let fresh = try repo.fingerprint(missing)
            lock.lock(); memo.merge(fresh) { _, b in b }; lock.unlock()
            out.merge(fresh) { _, b in b }
        }
        return out
    }

    /// Forgets fingerprints of paths that overlap what a stage just wrote.
    func invalidate(_ s: StageSpec) {
        let outs = s.outputs.map { StageGraph.normalize($0.path) }
        lock.lock()
        memo = memo.filter { k, _ in !outs.contains { StageGraph.overlaps(StageGraph.normalize(k), $0) } }
        lock.unlock()
    }

    /// Takes every declared path's fingerprint in one pass.
    func prefetch(_ names: [String]) throws {
        var paths = Set<String>()
        for n in names { let s = graph.stages[n]!; for i in s.inputs where i.keys == nil { paths.insert(i.path) }; for o in s.outputs { paths.insert(o.path) } }
        _ = try fingerprints(paths.sorted())
    }

    func lockedInputs(_ s: StageSpec) throws -> [LockedPath] {
        let plain = s.inputs.filter { $0.keys == nil }.map(\.path)
        let fps = try fingerprints(plain)
        var out: [LockedPath] = []
        for i in s.inputs {
            if let keys = i.keys {
                let path = repo.root + "/" + StageGraph.normalize(i.path)
                let text = (try? ParamsFile.select(path, keys: keys)) ?? "<missing>"
                out.append(
                    LockedPath(path: i.path, sha256: ObjectID.hash(Array(text.utf8)).hex, size: UInt64(text.utf8.count), files: nil, keys: keys.sorted()))
            } else {
                let f = fps[i.path] ?? .missing
                out.append(LockedPath(path: i.path, sha256: f.sha256, size: f.size, files: f.kind == .folder ? f.files : nil, keys: nil))
            }
        }
        return out.sorted { $0.path < $1.path }
    }

    static func locked(_ fps: [String: PathFingerprint], _ outputs: [OutputSpec]) -> [LockedPath] {
        outputs.map { o in
            let f = fps[o.path] ?? .missing
            return LockedPath(path: o.path, sha256: f.sha256, size: f.size, files: f.kind == .folder ? f.files : nil, keys: nil)
        }.sorted { $0.path < $1.path }
    }

    func environment(_ s: StageSpec) -> [String: String?] {
        var out: [String: String?] = [:]
        for n in s.environment { out[n] = .some(ProcessInfo.processInfo.environment[n]) }
        return out
    }

    static func key(_ s: StageSpec, inputs: [LockedPath], env: [String: String?]) -> String {
        struct K: Encodable {
            var command: String; var workingDirectory: String?; var inputs: [LockedPath]; var params: [String: ParamSpec]
            var environment: [String: String?]; var outputs: [String]
        }
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let k = K(
            command: s.command, workingDirectory: s.workingDirectory, inputs: inputs, params: s.params, environment: env,
            outputs: s.outputs.map(\.path).sorted())
        return ObjectID.hash(Array((try? enc.encode(k)) ?? Data())).hex
    }

    // MARK: Decisions

    /// Everything the planner needs about a stage, read from the workspace, Pipeline.lock and the run cache.
    func facts(_ s: StageSpec, old: LockedStage?, forced: Bool) throws -> (StageFacts, key: String) {
        let inputs = try lockedInputs(s), env = environment(s)
        let outputs = PipelineRunner.locked(try fingerprints(s.outputs.map(\.path)), s.outputs)
        let key = PipelineRunner.key(s, inputs: inputs, env: env)
        var f = StageFacts(stage: s, locked: old, inputs: inputs, environment: env, outputs: outputs, cached: false, forced: forced)
        f.rolledBack = try rolledBack(outputs, old: old)
        // The run cache is only consulted for a stage that is out of date (a no-op repro makes no lookups).
        if !forced && !s.alwaysRun && !s.frozen && StagePlanner.staleness(f) != nil { f.cached = (try cachedOutputs(key)) != nil }
        return (f, key)
    }

    /// Outputs whose workspace version differs from the lock's and equals the version committed at HEAD.
    func rolledBack(_ outputs: [LockedPath], old: LockedStage?) throws -> [String] {
        guard let old, let head = try repo.refs.headCommit() else { return [] }
        var out: [String] = []
        for o in outputs {
            guard let now = o.sha256, let was = old.outputs.first(where: { $0.path == o.path })?.sha256, was != now else { continue }
            let path = o.path.slashSeparated().joined(separator: "/")
            if let e = try repo.entry(at: path, in: head), e.id.hex == now { out.append(o.path) }
        }
        return out
    }

    func cachedOutputs(_ key: String) throws -> [String: PathFingerprint]? {
        guard let fps = try RunCache(repo: repo).outputs(forKey: key) else { return nil }
        return repo.canRestore(fps) ? fps : nil
    }

    func recordRunCache(_ key: String, stage: String, _ fps: [String: PathFingerprint]) throws {
        try RunCache(repo: repo).record(key: key, stage: stage, outputs: fps)
    }

    // MARK: Running

    /// Plans (dry run) or brings the selected stages up to date, then writes Pipeline.lock.
    public func run(_ options: ReproOptions) throws -> ReproResult {
        let old = try Lockfile.read(root: repo.root)
        let oldByName = Dictionary((old?.stages ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let selected = options.targets.isEmpty ? Set(graph.order) : try graph.closure(options.targets, downstream: options.downstream)
        let forced = selected
        let state = SchedulerState(order: graph.order.filter(selected.contains))
        try prefetch(state.order)
        var newEntries: [String: LockedStage] = [:]
        let entries = Locked(newEntries)

        if options.dryRun {
            var willRun = Set<String>()
            for name in state.order {
                let s = graph.stages[name]!
                let forcedHere = options.force && forced.contains(name)
                let up = graph.upstream[name]!.sorted().first(where: willRun.contains)
                let (f, key) = try facts(s, old: oldByName[name], forced: forcedHere)
                switch StagePlanner.decideDry(f, upstreamThatWillRun: up) {
                case .skip(let why): state.finish(StageOutcome(name: name, action: .skipped, reason: why))
                case .restore(let why): state.finish(StageOutcome(name: name, action: .wouldRestore, reason: why, key: key))
                case .run(let why):
                    willRun.insert(name)
                    state.finish(StageOutcome(name: name, action: .wouldRun, reason: why, key: up == nil ? key : nil))
                }
            }
            return ReproResult(outcomes: state.outcomesInOrder, lockChanged: false)
        }

        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: max(1, options.jobs))
        while true {
            if Interrupt.requested && !isCancelled { cancel() }
            if isCancelled { break }
            let (ready, done) = state.next(upstream: graph.upstream, keepGoing: options.keepGoing)
            if done { break }
            if ready.isEmpty { state.waitForChange(); continue }
            for name in ready {
                slots.wait()
                group.enter()
                // A thread of its own per running stage (at most `jobs`): a stage waits on its process, and parking
                // Dispatch's shared workers there would starve the pool the executor's async I/O runs on.
                Thread.detachNewThread {
                    defer { slots.signal(); group.leave() }
                    let outcome = self.process(name, old: oldByName[name], forced: options.force && forced.contains(name), entries: entries)
                    state.finish(outcome)
                }
            }
        }
        group.wait()
        if isCancelled { state.markRemaining(.notRun, "interrupted") }
        // Pipeline.lock: new entries for stages that ran or were restored; previous entries for all others.
        newEntries = entries.get
        var stages: [LockedStage] = []
        for name in graph.order {
            if let n = newEntries[name] { stages.append(n) } else if let o = oldByName[name] { stages.append(o) }
        }
        let lockfile = Lockfile(pipeline: spec.name, stages: stages)
        let changed = try lockfile.write(root: repo.root)
        if isCancelled { throw PipelineError.interrupted }
        return ReproResult(outcomes: state.outcomesInOrder, lockChanged: changed)
    }

    /// Decides and executes one stage whose upstream stages are all done.
    func process(_ name: String, old: LockedStage?, forced: Bool, entries: Locked<[String: LockedStage]>) -> StageOutcome {
        let s = graph.stages[name]!
        if s.frozen { return StageOutcome(name: name, action: .skipped, reason: "frozen") }
        do {
            let (f, key) = try facts(s, old: old, forced: forced)
            let inputs = f.inputs, env = f.environment
            let decision = StagePlanner.decide(f)
            if case .skip(let why) = decision { return StageOutcome(name: name, action: .skipped, reason: why, key: old?.key) }
            let why = decision.reason
            defer { invalidate(s) }
            if case .restore = decision, let fps = try cachedOutputs(key) {
                try repo.restoreOutputs(fps)
                var all = fps
                let uncached = s.outputs.filter { !$0.cache }.map(\.path)
                if !uncached.isEmpty { all.merge(try repo.fingerprint(uncached)) { a, _ in a } }
                let outs = PipelineRunner.locked(all, s.outputs)
                entries.with {
                    $0[name] = LockedStage(
                        name: name, command: s.command, workingDirectory: s.workingDirectory, inputs: inputs,
                        outputs: outs, params: s.params, environment: env, key: key)
                }
                let o = StageOutcome(name: name, action: .restored, reason: why, key: key)
                observer?.stageFinished(s, outcome: o, inputs: inputs, outputs: outs)
                return o
            }
            observer?.stageStarted(s, inputs: inputs)
            let outcome = try execute(s, inputs: inputs, env: env, key: key, reason: why, entries: entries)
            return outcome
        } catch {
            let o = StageOutcome(name: name, action: .failed, reason: "\(error)")
            observer?.stageFinished(s, outcome: o, inputs: [], outputs: [])
            return o
        }
    }

    func execute(
        _ s: StageSpec, inputs: [LockedPath], env: [String: String?], key: String, reason: String,
        entries: Locked<[String: LockedStage]>
    ) throws -> StageOutcome {
        let root = repo.root
        let mat = Materializer(root: root)
        for o in s.outputs {
            let rel = StageGraph.normalize(o.path)
            // Never through a symlinked parent, never outside the workspace or into .strata (validate throws first).
            try mat.validate(rel)
            if !o.persist { try mat.removeAny(rel) }
            let p = root + "/" + rel
            try Posix.makeDirectories(o.isFolder ? p : Posix.dirname(p))
        }
        let environment = PipelineRunner.commandEnvironment(stage: s.name, params: s.params.mapValues(\.description), declared: env)
        let cwd = s.workingDirectory.map { root + "/" + StageGraph.normalize($0) } ?? root
        // The child leads its own process group, so cancel() can stop the command and everything it started.
        let r = try StageExecutor.run("/bin/sh", ["-c", s.command], environment: environment, directory: cwd) { pid in
            self.lock.lock(); self.running[s.name] = pid; self.lock.unlock()
        }
        lock.lock(); running[s.name] = nil; lock.unlock()
        func fail(_ why: String) -> StageOutcome {
            let tail = String(decoding: r.stderr.suffix(4000), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).suffix(20).joined(
                separator: "\n")
            let o = StageOutcome(name: s.name, action: .failed, reason: why, seconds: r.seconds, stderrTail: tail, key: key)
            observer?.stageFinished(s, outcome: o, inputs: inputs, outputs: [])
            return o
        }
        if isCancelled { return fail("interrupted") }
        if r.status != 0 { return fail("command exited with status \(r.status)") }
        // The inputs must be what they were when the stage started, or the record would link the wrong data.
        let plain = s.inputs.filter { $0.keys == nil }.map(\.path)
        lock.lock(); for p in plain { memo[p] = nil }; lock.unlock()
        let after = try lockedInputs(s)
        if let changed = zip(inputs, after).first(where: { $0.0.sha256 != $0.1.sha256 }) {
            return fail("input \(changed.0.path) changed while the stage ran; run it again")
        }
        for o in s.outputs where (try? Posix.lstat(root + "/" + StageGraph.normalize(o.path))) == nil {
            return fail("declared output \(o.path) was not produced")
        }
        let cached = s.outputs.filter(\.cache).map(\.path)
        var fps = try repo.storeOutputs(cached)
        let uncached = s.outputs.filter { !$0.cache }.map(\.path)
        if !uncached.isEmpty { fps.merge(try repo.fingerprint(uncached)) { a, _ in a } }
        if !cached.isEmpty { try recordRunCache(key, stage: s.name, fps.filter { cached.contains($0.key) }) }
        let outs = PipelineRunner.locked(fps, s.outputs)
        entries.with {
            $0[s.name] = LockedStage(
                name: s.name, command: s.command, workingDirectory: s.workingDirectory, inputs: inputs,
                outputs: outs, params: s.params, environment: env, key: key)
        }
        let o = StageOutcome(name: s.name, action: .ran, reason: reason, seconds: r.seconds, key: key)
        observer?.stageFinished(s, outcome: o, inputs: inputs, outputs: outs)
        return o
    }
}

/// Ctrl-C for long commands: a plain signal handler sets a flag that the scheduler polls (no work in the handler).
public enum Interrupt {
    nonisolated(unsafe) static var flag: Int32 = 0

    /// Whether SIGINT arrived since `install()`.
    public static var requested: Bool { flag != 0 }

    /// Catches SIGINT (and SIGTERM) instead of dying mid-write.
    public static func install() {
        flag = 0
        signal(SIGINT) { _ in Interrupt.flag = 1 }
        signal(SIGTERM) { _ in Interrupt.flag = 1 }
        // A parent may have started us with these signals blocked (e.g. from a worker thread): unblock them here.
        var set = sigset_t()
        sigemptyset(&set); sigaddset(&set, SIGINT); sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Restores the default behaviour.
    public static func uninstall() { signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL) }
}

/// The scheduler's shared state; `cond` guards everything.
final class SchedulerState: @unchecked Sendable {
    let order: [String]
    private let cond = NSCondition()
    private var outcomes: [String: StageOutcome] = [:]
    private var started = Set<String>()
    /// Bumped by every finished stage, so a waiter never misses a change that happened before it started waiting.
    private var generation = 0
    private var seenGeneration = 0

    init(order: [String]) { self.order = order }

    func finish(_ o: StageOutcome) { cond.lock(); outcomes[o.name] = o; generation += 1; cond.broadcast(); cond.unlock() }

    /// Waits until a stage finishes after the last `next()` (or 50 ms pass, so Ctrl-C is noticed).
    func waitForChange() {
        cond.lock(); defer { cond.unlock() }
        if generation != seenGeneration { return }
        _ = cond.wait(until: Date().addingTimeInterval(0.05))
    }

    /// Stages whose upstream is done (and did not fail); `done` when nothing more can start or is running.
    func next(upstream: [String: Set<String>], keepGoing: Bool) -> (ready: [String], done: Bool) {
        cond.lock(); defer { cond.unlock() }
        seenGeneration = generation
        let anyFailed = outcomes.values.contains { $0.action == .failed }
        var ready: [String] = []
        let selected = Set(order)
        for n in order where !started.contains(n) {
            let ups = upstream[n]!.filter(selected.contains)
            if let bad = ups.first(where: { [.failed, .notRun].contains(outcomes[$0]?.action) }) {
                started.insert(n)
                outcomes[n] = StageOutcome(name: n, action: .notRun, reason: "upstream stage \(bad) failed")
                continue
            }
            if anyFailed && !keepGoing { continue }
            if ups.allSatisfy({ outcomes[$0] != nil }) { ready.append(n); started.insert(n) }
        }
        let running = started.filter { outcomes[$0] == nil }
        let done = ready.isEmpty && running.isEmpty && (order.allSatisfy { started.contains($0) } || (anyFailed && !keepGoing))
        if done && anyFailed && !keepGoing {
            for n in order where outcomes[n] == nil {
                outcomes[n] = StageOutcome(name: n, action: .notRun, reason: "not started after a failure (use --keep-going)")
            }
        }
        return (ready, done)
    }

    func markRemaining(_ a: StageOutcome.Action, _ why: String) {
        cond.lock(); for n in order where outcomes[n] == nil { outcomes[n] = StageOutcome(name: n, action: a, reason: why) }; cond.unlock()
    }

    var outcomesInOrder: [StageOutcome] { cond.lock(); defer { cond.unlock() }; return order.compactMap { outcomes[$0] } }
}

/// The run cache: stage key → the outputs a run with that key produced (stored in the object store). The only
/// type that reads or writes the `run_cache` table.
public struct RunCache {
    /// The store.
    public let repo: Repository

    /// Opens the run cache of a store.
    public init(repo: Repository) throws {
        self.repo = repo
        try repo.attach(PipelineRunner.schema)
    }

    /// The outputs recorded for a stage key, or nil.
    public func outputs(forKey key: String) throws -> [String: PathFingerprint]? {
        var text: String?
        try repo.db.query("SELECT outputs FROM run_cache WHERE key = ?", [.text(key)]) { r in text = r.text(0) }
        guard let text else { return nil }
        return try? JSONDecoder().decode([String: PathFingerprint].self, from: Data(text.utf8))
    }

    /// Records the outputs of a run (relaxed durability: losing a row on power failure only costs a re-run).
    public func record(key: String, stage: String, outputs: [String: PathFingerprint]) throws {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let json = String(decoding: try enc.encode(outputs), as: UTF8.self)
        try repo.db.relaxedTransaction {
            try repo.db.run(
                "INSERT OR REPLACE INTO run_cache (key, stage, outputs, created) VALUES (?, ?, ?, ?)",
                [.text(key), .text(stage), .text(json), .int(Posix.nowNs() / 1_000_000_000)])
        }
    }
}
