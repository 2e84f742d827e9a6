/// The facts about one stage that decide whether it runs: gathered by the runner (file hashes, Pipeline.lock, the
/// run cache), judged here without any I/O.
public struct StageFacts: Sendable {
    /// The stage as declared.
    public var stage: StageSpec
    /// Its entry in the current Pipeline.lock.
    public var locked: LockedStage?
    /// Its inputs now (paths with their hashes; params files reduced to the selected keys).
    public var inputs: [LockedPath]
    /// The declared environment variables now.
    public var environment: [String: String?]
    /// Its outputs now.
    public var outputs: [LockedPath]
    /// Whether the run cache holds outputs for the stage's key that the store can restore.
    public var cached: Bool
    /// Run it even when up to date (`--force` on a selected stage).
    public var forced: Bool
    /// Outputs rolled back: their workspace version is the one committed at HEAD and differs from what Pipeline.lock
    /// says the stage produced (`checkout GOOD -- PATH` then commit). Running or restoring would undo the rollback.
    public var rolledBack: [String] = []

    /// Gathers the facts.
    public init(
        stage: StageSpec, locked: LockedStage?, inputs: [LockedPath], environment: [String: String?], outputs: [LockedPath],
        cached: Bool, forced: Bool
    ) {
        self.stage = stage; self.locked = locked; self.inputs = inputs; self.environment = environment
        self.outputs = outputs; self.cached = cached; self.forced = forced
    }
}

/// What the planner decided for a stage.
public enum StageDecision: Sendable, Equatable {
    /// Nothing to do, with why (`up to date`, `frozen`).
    case skip(String)
    /// Run the command, with why.
    case run(String)
    /// Restore the outputs from the run cache instead of running, with why it is out of date.
    case restore(String)

    /// The reason, whichever the decision.
    public var reason: String {
        switch self {
        case .skip(let r), .run(let r), .restore(let r): return r
        }
    }
}

/// The pure planner of `repro`: decides what runs and why from `StageFacts`. Dry runs and real runs both use it; it
/// touches no file and starts no process, so every rule is unit-tested directly.
public enum StagePlanner {
    /// Why a stage is out of date, or nil when it is up to date.
    public static func staleness(_ f: StageFacts) -> String? {
        let s = f.stage
        if f.forced { return "forced" }
        if s.alwaysRun { return "always runs (alwaysRun)" }
        guard let old = f.locked else { return "new stage: not in Pipeline.lock" }
        if old.command != s.command { return "command changed" }
        if old.workingDirectory != s.workingDirectory { return "working directory changed" }
        let oldPaths = Set(old.inputs.map(\.path)), newPaths = Set(f.inputs.map(\.path))
        if oldPaths != newPaths {
            let added = newPaths.subtracting(oldPaths).sorted(), removed = oldPaths.subtracting(newPaths).sorted()
            return "inputs changed:" + (added.isEmpty ? "" : " added \(added.joined(separator: ", "))")
                + (removed.isEmpty ? "" : " removed \(removed.joined(separator: ", "))")
        }
        if Set(old.params.keys) != Set(s.params.keys) { return "parameters added or removed" }
        for (k, v) in s.params.sorted(by: { $0.key < $1.key }) where old.params[k] != v {
            return "parameter \(k) changed: \(old.params[k].map(\.description) ?? "-") -> \(v)"
        }
        if Set(old.environment.keys) != Set(f.environment.keys) { return "environment variables added or removed" }
        for (k, v) in f.environment.sorted(by: { $0.key < $1.key }) where old.environment[k] != v { return "environment \(k) changed" }
        for i in f.inputs {
            let o = old.inputs.first { $0.path == i.path }
            if o?.sha256 != i.sha256 { return "input \(i.path) changed" }
        }
        if Set(old.outputs.map(\.path)) != Set(s.outputs.map(\.path)) { return "outputs changed" }
        for o in f.outputs {
            let was = old.outputs.first { $0.path == o.path }
            if o.sha256 == nil { return "output \(o.path) is missing" }
            if was?.sha256 != o.sha256 {
                if s.outputs.first(where: { $0.path == o.path })?.cache == false && was?.sha256 == nil { continue }
                return "output \(o.path) was modified"
            }
        }
        return nil
    }

    /// The reason a stage with rolled-back outputs is left alone (nil: none, or `--force`).
    static func protection(_ f: StageFacts) -> String? {
        guard !f.forced, let p = f.rolledBack.first else { return nil }
        return "protected: output \(p) was rolled back (the version committed at HEAD is not the one this stage produced); "
            + "'strata repro --force \(f.stage.name)' rebuilds it"
    }

    /// The decision for a stage whose upstream stages are settled.
    public static func decide(_ f: StageFacts) -> StageDecision {
        if f.stage.frozen { return .skip("frozen") }
        guard let why = staleness(f) else { return .skip("up to date") }
        if let p = protection(f) { return .skip(p) }
        if f.cached && !f.forced && !f.stage.alwaysRun { return .restore(why + "; restored from the run cache, not run") }
        return .run(why)
    }

    /// The decision in a dry run, where an upstream stage that would run makes this one run too (its inputs will
    /// change), before its own facts are looked at.
    public static func decideDry(_ f: StageFacts, upstreamThatWillRun: String?) -> StageDecision {
        if f.stage.frozen { return .skip("frozen") }
        if let p = protection(f) { return .skip(p) }
        if let up = upstreamThatWillRun, !f.forced { return .run("upstream stage \(up) will run") }
        guard let why = staleness(f) else { return .skip("up to date") }
        if f.cached && !f.forced && !f.stage.alwaysRun { return .restore(why + "; outputs found in the run cache") }
        return .run(why)
    }
}
