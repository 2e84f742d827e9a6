import Foundation
import StrataLineage
import StrataMaintenance
import StrataModel
import StrataPipeline
import StrataPlatform
import StrataRepository

/// Every module's tables, so that a client opening a store upgrades it in one transaction.
public enum StoreSchemas {
    /// The schemas of the services above the facade (the core ones are always applied).
    static let all = [Retention.schema, PipelineRunner.schema, LineageService.schema]

    /// Creates a store in `directory` with every module's tables.
    public static func initialize(at directory: String) throws -> Repository {
        try Repository.initialize(at: directory, schemas: all)
    }

    /// Opens the store in `directory` or its nearest parent, with every module's schema.
    public static func discover(from directory: String? = nil) throws -> Repository {
        if let directory { return try Repository.discover(from: directory, schemas: all) }
        return try Repository.discover(schemas: all)
    }
}

/// Lineage settings for one workflow call.
public struct LineageOptions: Sendable {
    /// Fail (after recording) when events cannot be delivered.
    public var require = false
    /// Creates options.
    public init(require: Bool = false) { self.require = require }

    /// The lineage service of a store under these options (config `lineage.require` also forces delivery).
    public func service(_ repo: Repository) throws -> LineageService {
        var config = try LineageConfig.load(storePath: repo.storePath, workspace: repo.root)
        if require || (try? repo.config("lineage.require")) == "true" { config.requireLineage = true }
        return try LineageService(repo: repo, config: config)
    }
}

/// A commit with its lineage: what `strata commit`, a server or an MCP tool calls.
public enum CommitWorkflow {
    /// What a commit did, and whether its lineage was delivered.
    public struct Outcome: Sendable {
        /// The commit.
        public var commit: CommitResult
        /// The last delivery problem (the events wait in the store), if any.
        public var deliveryWarning: String?
    }

    /// Commits and records the commit's lineage run. With `lineage.require`, an undelivered event throws after the
    /// commit and its lineage are recorded (the commit stands; `strata lineage flush` sends the events later).
    public static func commit(
        _ repo: Repository, _ options: CommitOptions, lineage: LineageOptions = LineageOptions(), verify: Bool = true,
        progress: ProgressHandler? = nil
    ) throws -> Outcome {
        let service = try lineage.service(repo)  // a bad lineage configuration stops the commit before it is made
        if verify { try Hooks.run("pre-commit", repo: repo) }  // the installed gate, as git runs its pre-commit hook
        // With the file-system monitor, only the paths it reports (and those that differed before) are compared.
        var options = options
        let monitored = options.paths == nil && !options.concludeMerge ? MonitorWorkflow.candidates(repo) : nil
        if let monitored { options.candidates = monitored.paths }
        let r = try repo.commit(options, progress: progress)
        if let monitored { MonitorWorkflow.committed(repo, token: monitored.token, head: r.id) }
        _ = try service.recordCommit(r, message: options.message)
        let warning = service.deliveryErrors.last
        try service.checkDelivery()
        return Outcome(commit: r, deliveryWarning: warning)
    }
}

/// Loading Pipeline.swift for any client.
public enum PipelineWorkflow {
    /// Evaluates (or reads from cache) the store's Pipeline.swift; the loader's warnings come with it.
    public static func load(_ repo: Repository) throws -> LoadedPipeline {
        try ManifestLoader(root: repo.root, storePath: repo.storePath).load()
    }

    /// Evaluates the Pipeline.swift of a commit (in the usual sandbox, from a scratch copy, cached by content in the
    /// store): for a store without a workspace (a server's mirror) or a commit other than HEAD. Nil when the commit has
    /// none.
    public static func load(_ repo: Repository, at commit: ObjectID) throws -> LoadedPipeline? {
        guard try repo.entry(at: "Pipeline.swift", in: commit) != nil else { return nil }
        let scratch = repo.storePath + "/tmp/manifest-" + Posix.randomHex(6)
        try Posix.makeDirectories(scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var bytes: [UInt8] = []
        try repo.cat(commit.hex, path: "Pipeline.swift") { bytes.append(contentsOf: $0) }
        try Posix.writeAtomically(scratch + "/Pipeline.swift", bytes)
        return try ManifestLoader(root: scratch, storePath: repo.storePath).load()
    }

    /// One stage with its state, as `strata stages` shows it.
    public struct StageState: Sendable {
        /// The stage's name, command, declared paths and upstream stages.
        public var name: String, command: String, inputs: [String], outputs: [String], upstream: [String]
        /// `up-to-date`, `out-of-date`, `frozen` or `protected` (`unknown` when the plan has no outcome for it).
        public var state: String
        /// Why it would run (or was skipped).
        public var reason: String
        /// Declared flags.
        public var frozen: Bool, alwaysRun: Bool
    }

    /// Every stage of `spec` in graph order with its state in the workspace: a dry run of `repro`, nothing runs.
    public static func stageStates(_ repo: Repository, spec: PipelineSpec) throws -> [StageState] {
        let runner = try PipelineRunner(repo: repo, spec: spec)
        var o = ReproOptions()
        o.dryRun = true
        let byName = Dictionary(uniqueKeysWithValues: try runner.run(o).outcomes.map { ($0.name, $0) })
        return runner.graph.order.map { n in
            let s = runner.graph.stages[n]!, out = byName[n]
            let state =
                out.map {
                    $0.action == .skipped ? ($0.reason == "frozen" ? "frozen" : ($0.reason.hasPrefix("protected") ? "protected" : "up-to-date")) : "out-of-date"
                } ?? "unknown"
            return StageState(
                name: n, command: s.command, inputs: s.inputs.map(\.path), outputs: s.outputs.map(\.path), upstream: runner.graph.upstream[n]!.sorted(),
                state: state, reason: out?.reason ?? "", frozen: s.frozen, alwaysRun: s.alwaysRun)
        }
    }

    /// Whether the workspace has a Pipeline.swift.
    public static func hasManifest(_ repo: Repository) -> Bool { ManifestLoader(root: repo.root, storePath: repo.storePath).exists }
}

/// `strata repro` as a library call: the run, its lineage parent run (COMPLETE, FAIL or ABORT), the optional commit
/// of the result with its own lineage, and Ctrl-C handling.
public struct ReproSession {
    /// What a session did.
    public struct Outcome: Sendable {
        /// The pipeline's name.
        public var pipeline: String
        /// Every stage's outcome.
        public var result: ReproResult
        /// The commit made after a successful run (nil when not asked for, or nothing changed).
        public var commit: ObjectID?
        /// The last lineage delivery problem, if any.
        public var deliveryWarning: String?
        /// Warnings from evaluating Pipeline.swift (e.g. no sandbox).
        public var manifestWarnings: [String]
    }

    /// The store.
    public let repo: Repository
    /// What to run.
    public var options = ReproOptions()
    /// Lineage settings.
    public var lineage = LineageOptions()
    /// Commit the result after a successful run, with this message (nil: a generated one) when `commit` is set.
    public var commit = false
    /// Message of that commit.
    public var commitMessage: String?
    /// Run the installed pre-commit hook before that commit (`--no-verify` turns it off).
    public var verify = true
    /// Told about each stage as it starts and ends (the console, a server's progress stream).
    public var observer: ReproObserver?

    /// A session for a store.
    public init(repo: Repository) { self.repo = repo }

    /// Runs the session. A pipeline stopped by Ctrl-C ends its lineage run with ABORT and throws
    /// `PipelineError.interrupted`; any other error ends it with FAIL. Failed stages do not throw: see
    /// `result.succeeded`. With `lineage.require`, undelivered events throw after everything is recorded.
    public func run() throws -> Outcome {
        let loaded = try PipelineWorkflow.load(repo)
        let runner = try PipelineRunner(repo: repo, spec: loaded.spec)
        var service: LineageService?
        var lineageObserver: LineageReproObserver?
        if !options.dryRun {
            let s = try lineage.service(repo)
            let o = LineageReproObserver(service: s, pipeline: loaded.spec.name, sources: runner.sourceInputs, next: observer)
            runner.observer = o
            service = s; lineageObserver = o
        } else {
            runner.observer = observer
        }
        Interrupt.install()
        defer { Interrupt.uninstall() }
        let result: ReproResult
        do { result = try runner.run(options) } catch PipelineError.interrupted {
            if let service, let parent = lineageObserver?.parent { service.abort(parent, reason: "interrupted (Ctrl-C)") }
            throw PipelineError.interrupted
        } catch {
            if let service, let parent = lineageObserver?.parent { _ = try? service.finish(parent, status: .fail, outputs: [], error: "\(error)") }
            throw error
        }
        if let service, let parent = lineageObserver?.parent {
            let failed = result.outcomes.filter { $0.action == .failed }.map(\.name)
            _ = try service.finish(
                parent, status: failed.isEmpty ? .complete : .fail, outputs: [],
                error: failed.isEmpty ? nil : "stage(s) failed: " + failed.joined(separator: ", "))
        }
        var commitID: ObjectID?
        var warning = service?.deliveryErrors.last
        if commit && result.succeeded && !options.dryRun {
            let ran = result.outcomes.filter { $0.action == .ran || $0.action == .restored }.map(\.name)
            let opts = CommitOptions(message: commitMessage ?? "repro \(loaded.spec.name): \(ran.joined(separator: ", "))")
            if verify { try Hooks.run("pre-commit", repo: repo) }
            do {
                let c = try repo.commit(opts)
                commitID = c.id
                if let service {
                    _ = try service.recordCommit(c, message: opts.message, pipelineRun: lineageObserver?.parent)
                    warning = service.deliveryErrors.last ?? warning
                }
            } catch RepositoryError.nothingToCommit { commitID = nil }
        }
        if result.succeeded { try service?.checkDelivery() }
        return Outcome(pipeline: loaded.spec.name, result: result, commit: commitID, deliveryWarning: warning, manifestWarnings: loaded.warnings)
    }
}

/// `strata status` as a library call: the workspace against HEAD, and the pipeline stages `repro` would run.
public enum StatusWorkflow {
    /// The workspace and the pipeline.
    public struct Report: Sendable {
        /// Changes since HEAD.
        public var workspace: WorkspaceStatus
        /// Stages that would run or be restored (nil without a Pipeline.swift, or when it cannot be evaluated).
        public var outOfDateStages: [StageOutcome]?
        /// Why the pipeline could not be checked, when it could not.
        public var pipelineWarning: String?
        /// The checked-out branch against its upstream (nil without one).
        public var upstream: UpstreamStatus?
    }

    /// The report; a broken manifest is a warning here, never an error.
    public static func status(_ repo: Repository, progress: ProgressHandler? = nil) throws -> Report {
        let st = try MonitorWorkflow.status(repo, progress: progress)
        let upstream = try SyncWorkflow.upstreamStatus(repo)
        guard PipelineWorkflow.hasManifest(repo) else { return Report(workspace: st, outOfDateStages: nil, pipelineWarning: nil, upstream: upstream) }
        do {
            let runner = try PipelineRunner(repo: repo, spec: try PipelineWorkflow.load(repo).spec)
            var o = ReproOptions(); o.dryRun = true
            let stages = try runner.run(o).outcomes.filter { $0.action == .wouldRun || $0.action == .wouldRestore }
            return Report(workspace: st, outOfDateStages: stages, pipelineWarning: nil, upstream: upstream)
        } catch {
            return Report(workspace: st, outOfDateStages: nil, pipelineWarning: "cannot check the pipeline: \(error)", upstream: upstream)
        }
    }
}

/// `strata prune` as a library call: explicit rules, else the saved policies and those declared in Pipeline.swift.
public enum PruneWorkflow {
    /// Plans (and unless `dryRun`, records) a prune. Without `rules`, the saved policies and the retention policies
    /// declared in Pipeline.swift apply; a declared rule that does not parse is an error naming it.
    public static func prune(
        _ repo: Repository, rules: RetentionPolicy?, now: Date, timeZone: TimeZone, reflogExpire: RetentionDuration,
        dryRun: Bool
    ) throws -> (result: PruneResult, manifestWarnings: [String]) {
        let retention = try Retention(repo: repo)
        var declared: [RetentionPolicy] = []
        var warnings: [String] = []
        if rules == nil && PipelineWorkflow.hasManifest(repo) {
            let loaded = try PipelineWorkflow.load(repo)
            warnings = loaded.warnings
            for r in loaded.spec.retention {
                do { declared.append(try RetentionPolicy(rules: r.rules)) } catch let e as RetentionError {
                    throw RetentionError.badRule("\(r.name): \(r.rules.joined(separator: " "))", reason: e.message)
                }
            }
        }
        let result = try retention.prune(
            policies: rules.map { [$0] } ?? [], declared: declared, now: now, timeZone: timeZone,
            reflogExpire: reflogExpire, dryRun: dryRun)
        return (result, warnings)
    }
}

/// `strata catalog` as a library call: the DCAT catalogue of the published datasets, with the declared metadata.
public enum CatalogWorkflow {
    /// What was written.
    public struct Outcome: Sendable {
        /// The folder holding `catalog.jsonld` and the pages (redacted for display).
        public var directory: String
        /// Pages written.
        public var pages: Int
    }

    /// The published paths (outputs marked `published: true`, plus `include`) and the metadata; warnings of the
    /// manifest go to `warn`.
    static func inputs(_ repo: Repository, include: [String]) throws -> ([String], CatalogMetadata, [String]) {
        var paths = include
        var manifest: CatalogSpec?
        var warnings: [String] = []
        if PipelineWorkflow.hasManifest(repo) {
            let loaded = try PipelineWorkflow.load(repo)
            warnings = loaded.warnings
            for s in loaded.spec.stages { for o in s.outputs where o.published && !paths.contains(o.path) { paths.append(o.path) } }
            manifest = loaded.spec.catalog
        }
        if paths.isEmpty { throw CatalogError.nothingPublished }
        return (paths, try CatalogMetadata.resolve(repo, manifest: manifest), warnings)
    }

    /// Writes `catalog.jsonld` and a page per dataset into `out` (default: `.strata/catalogue`, outside the
    /// workspace, so `status` stays clean).
    public static func write(_ repo: Repository, revision: String, include: [String], out: String?, title: String?) throws -> (Outcome, [String]) {
        let (paths, metadata, warnings) = try inputs(repo, include: include)
        let service = try LineageOptions().service(repo)
        let (doc, pages) = try CatalogWriter(service: service, metadata: metadata).build(
            revision: revision, paths: paths, title: title ?? "Datasets of \(service.config.namespace)")
        let dir = out.map { $0.hasPrefix("/") ? $0 : Posix.currentDirectory() + "/" + $0 } ?? repo.storePath + "/catalogue"
        try Posix.makeDirectories(dir)
        try Posix.writeAtomically(dir + "/catalog.jsonld", Array(doc))
        for (name, text) in pages { try Posix.writeAtomically(dir + "/" + name, Array(text.utf8)) }
        return (Outcome(directory: service.redactor.redactPath(dir), pages: pages.count), warnings)
    }

    /// The catalogue of `revision` as that commit declares it: its own Pipeline.swift (evaluated in the usual sandbox
    /// from a scratch copy, cached by content in the store) names the published outputs and the catalogue metadata,
    /// with `include` added. For a store without a workspace (a server's mirror). Returns the JSON-LD and the pages.
    public static func build(_ repo: Repository, revision: String, include: [String], title: String?) throws -> (Data, [String: String]) {
        let commit = try repo.resolve(revision)
        var paths = include
        var manifest: CatalogSpec?
        if let loaded = try PipelineWorkflow.load(repo, at: commit) {
            for s in loaded.spec.stages { for o in s.outputs where o.published && !paths.contains(o.path) { paths.append(o.path) } }
            manifest = loaded.spec.catalog
        }
        if paths.isEmpty { throw CatalogError.nothingPublished }
        let service = try LineageOptions().service(repo)
        return try CatalogWriter(service: service, metadata: try CatalogMetadata.resolve(repo, manifest: manifest)).build(
            revision: commit.hex, paths: paths, title: title ?? "Datasets of \(service.config.namespace)")
    }

    /// What DCAT-AP 3 marks mandatory or recommended and the declarations lack (empty: complete).
    public static func check(_ repo: Repository, include: [String]) throws -> [String] {
        let (paths, metadata, _) = try inputs(repo, include: include)
        let service = try LineageOptions().service(repo)
        return CatalogWriter(service: service, metadata: metadata).check(paths: paths).map(service.redactor.redact)
    }
}

/// Failures of `strata catalog`.
public enum CatalogError: StrataError {
    /// No output is marked published and no path was included.
    case nothingPublished

    public var code: String { "catalog.nothing-published" }
    public var category: ErrorCategory { .usage }
    public var message: String { "nothing is published" }
    public var nextStep: String? { "mark outputs `published: true` in Pipeline.swift, or pass --include PATH" }
}
