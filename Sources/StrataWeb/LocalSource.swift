import Foundation
import StrataLineage
import StrataMaintenance
import StrataMerge
import StrataModel
import StrataPipeline
import StrataPlatform
import StrataRepository
import StrataWorkflows

/// The stages of a pipeline with the state the recorded runs give them: the newest run of each stage among `runs`
/// (`COMPLETE`, `FAIL`, …), or `no run recorded`. For a commit other than the workspace's (or on a server).
public func recordedStageViews(_ spec: PipelineSpec, runs: [RunRecord], redact: (String) -> String) throws -> [StageView] {
    let graph = try StageGraph(spec, exists: { _ in true })
    return graph.order.map { name in
        let s = graph.stages[name]!
        let last = runs.filter { $0.kind == .stage && $0.job == spec.name + "." + name }.max { $0.started < $1.started }
        return StageView(
            name: name, command: s.command, upstream: graph.upstream[name]!.sorted(), state: last?.status.rawValue ?? "no run recorded",
            reason: last.map { "run \($0.runId.prefix(13)) at \(utcTime($0.started / 1000))" + ($0.restoredFrom != nil ? ", restored from the run cache" : "") }
                ?? "", inputs: s.inputs.map(\.path), outputs: s.outputs.map(\.path))
    }
}

/// A local store for `strata ui` and `strata site`: the person at the keyboard may do what the command line does.
public struct LocalWebSource: WebSource {
    /// The store.
    public let repo: Repository
    let service: LineageService?

    /// The source for `repo`; lineage is read when it is on.
    public init(repo: Repository) {
        self.repo = repo
        service = try? LineageService(repo: repo)
    }

    public var name: String { redact((repo.root as NSString).lastPathComponent) }
    public var viewer: Viewer {
        Viewer(name: nil, roles: ["everything the command line does, on this machine"], canWrite: true, canProtect: false, signIn: false)
    }
    public var defaultRevision: String { "HEAD" }

    public func resolve(_ revision: String) throws -> ObjectID { try repo.resolve(revision) }

    public func refs() throws -> [(name: String, target: ObjectID)] { try repo.refs(prefix: "refs/heads/") + repo.refs(prefix: "refs/tags/") }

    public func runs(of commit: ObjectID) throws -> [RunRecord] {
        guard let service else { return [] }
        return try service.runs(behind: commit)?.runs.sorted { $0.started > $1.started } ?? []
    }

    public func prov(of commit: ObjectID) throws -> Data? {
        guard let service, let behind = try service.runs(behind: commit) else { return nil }
        return try service.prov(try service.storedRun(behind.commitRun))
    }

    public func allRuns(limit: Int) throws -> [RunRecord]? {
        guard let service else { return [] }
        return Array(try service.runs().sorted { $0.started > $1.started }.prefix(limit))
    }

    public func stages(at commit: ObjectID) throws -> (pipeline: String, stages: [StageView])? {
        // The workspace's own pipeline, at HEAD, with what `strata stages` says; another commit's, with its recorded runs.
        if let head = try? repo.resolve("HEAD"), head == commit, PipelineWorkflow.hasManifest(repo) {
            let loaded = try PipelineWorkflow.load(repo)
            let views = try PipelineWorkflow.stageStates(repo, spec: loaded.spec).map {
                StageView(name: $0.name, command: $0.command, upstream: $0.upstream, state: $0.state, reason: $0.reason, inputs: $0.inputs, outputs: $0.outputs)
            }
            return (loaded.spec.name, views)
        }
        guard let loaded = try PipelineWorkflow.load(repo, at: commit) else { return nil }
        return (loaded.spec.name, try recordedStageViews(loaded.spec, runs: allRuns(limit: 100_000) ?? [], redact: redact))
    }

    public func retention(rules: [String]?) throws -> [RetentionDecision] {
        let (result, _) = try PruneWorkflow.prune(
            repo, rules: try rules.map { try RetentionPolicy(rules: $0) }, now: Date(), timeZone: .current,
            reflogExpire: try RetentionDuration(parsing: "90d"), dryRun: true)
        return result.plan.decisions
    }

    public func catalog(at commit: ObjectID) throws -> (Data, [String: String]) {
        try CatalogWorkflow.build(repo, revision: commit.hex, include: [], title: nil)
    }

    public func createRef(tag: Bool, name: String, at revision: String, message: String?) throws -> ObjectID {
        tag ? try repo.createTag(name, at: revision, message: message) : try repo.createBranch(name, at: revision)
    }

    public func merge(_ source: String, into target: String) throws -> String {
        guard let current = try repo.currentBranch(), current.rawValue == target else {
            throw WebError.badInput("a local merge goes into the checked-out branch: run 'strata switch \(target)' first")
        }
        let (outcome, _, _) = try MergeWorkflow.merge(repo, MergeRequest(revision: source))
        switch outcome {
        case .merged(let r, _): return "Merged \(source) into \(target): commit \(r.id.short)."
        case .fastForward(let r): return "Fast-forwarded \(target) to \(source) (\(r.commit.short))."
        case .upToDate: return "\(target) already contains \(source)."
        case .stopped(let state, _):
            return "The merge stopped with \(state.unresolved.count) conflicts: resolve them with 'strata resolve', or 'strata merge --abort'."
        case .planned: return "Nothing was merged."
        }
    }

    public func protect(pattern: String, requireMerge: Bool, requireLineage: Bool) throws {
        throw WebError.badInput("branches are protected on a server (strata protect); a local store has no protections")
    }

    public func redact(_ text: String) -> String { service?.redactor.redact(text) ?? text }
}
