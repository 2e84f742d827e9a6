import ArgumentParser
import StrataMerge
import StrataModel
import StrataRepository
import StrataTables
import StrataWorkflows

/// `strata merge`.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Merge a branch or revision into the current branch, file by file and row by row for declared tables.",
        discussion: """
            A fast-forward when possible; otherwise a three-way merge against the best common ancestor (several of them, \
            a criss-cross, are first merged into a virtual base), recorded as a commit with two parents. Declared tables \
            (strata table add, or tables: in Pipeline.swift) merge by key: rows and cells changed on one side only merge; \
            the same cell changed to different values conflicts, with base, ours and theirs in PATH.conflicts.jsonl, the \
            table keeping our value. Append-only logs keep both sides' new records. Other files changed on both sides \
            conflict as a whole and keep our version. Refuses over uncommitted changes (exit 4). Stops with conflicts \
            with exit 25: resolve with 'strata resolve', then 'strata merge --continue', or 'strata merge --abort'.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The branch or revision to merge.") var revision: String?
    @Option(name: .shortAndLong, help: "Message of the merge commit.") var message: String?
    @Flag(help: "Record a merge commit even when a fast-forward is possible.") var noFf = false
    @Flag(help: "Refuse unless the merge is a fast-forward.") var ffOnly = false
    @Option(help: ArgumentHelp("Settle conflicts automatically: ours or theirs (as git merge -X).", valueName: "ours|theirs")) var strategy: String?
    @Flag(help: "Show what would merge and what would conflict; change nothing.") var dryRun = false
    @Flag(help: "Beside a file that conflicts as a whole, write their version as PATH.theirs.") var keepTheirs = false
    @Flag(name: .customLong("allow-unrelated-histories"), help: "Merge histories that share no commit.") var allowUnrelated = false
    @Flag(help: "Abandon the merge in progress: the workspace returns to HEAD as before the merge.") var abort = false
    @Flag(name: .customLong("continue"), help: "Conclude the merge in progress once every conflict is resolved.") var continueMerge = false
    @Flag(help: "Settle Pipeline.lock and stage-output conflicts by re-running 'strata repro' on the merged inputs, then commit.") var repro = false
    @Flag(help: "Print JSON (see docs/reference/json.md).") var json = false
    @Flag(help: "Fail when the lineage events cannot be delivered (default: they wait in the store).") var requireLineage = false

    struct JSONConflict: Encodable {
        var path: String; var kind: String; var rows: Int; var detail: String; var sidecar: String?; var resolved: Bool
        init(_ c: MergeConflict) {
            path = c.path; kind = c.kind.rawValue; rows = c.rows; detail = c.detail; sidecar = c.sidecar; resolved = c.resolved
        }
    }
    struct JSONPath: Encodable { var path: String; var action: String; var detail: String?; var rows: TableMergeSummary? }
    struct JSONMerge: Encodable {
        var version = 1
        var result: String
        var commit: String?
        var base: String?
        var bases: [String]?
        var ours: String?
        var theirs: String?
        var paths: [JSONPath]?
        var conflicts: [JSONConflict]?
    }

    func validate() throws {
        let modes = [abort, continueMerge, revision != nil || repro].filter { $0 }.count
        if modes != 1 { throw ValidationError("give a branch or revision to merge, or --abort, or --continue") }
        if repro && dryRun { throw ValidationError("--repro runs stages; it cannot be a dry run") }
        if noFf && ffOnly { throw ValidationError("--no-ff and --ff-only cannot be used together") }
        if let strategy, MergeStrategy(rawValue: strategy) == nil { throw ValidationError("--strategy must be ours or theirs") }
    }

    func run() throws {
        let repo = try global.repository()
        let lineage = LineageOptions(require: requireLineage)
        if abort {
            let s = try MergeWorkflow.merger(repo).0.abort()
            if json { try Out.json(JSONMerge(result: "aborted", ours: s.origHead.hex, theirs: s.mergeHead.hex)); return }
            Out.line("Merge of \(s.mergeName) abandoned; the workspace is back at \(s.origHead.short)")
            Out.flush()
            return
        }
        if continueMerge {
            let (r, warning) = try MergeWorkflow.conclude(repo, message: message, lineage: lineage)
            LineageWarning.print(warning, quiet: global.quiet || json)
            if json { try Out.json(JSONMerge(result: "merged", commit: r.id.hex)); return }
            Out.line("[\(r.branch?.rawValue ?? "detached") \(r.id.short)] merge concluded")
            Out.line(r.id.hex)
            Out.flush()
            return
        }
        if repro, try repo.mergeState() != nil {
            try concludeByRepro(repo, lineage)
            return
        }
        guard let revision else { throw ValidationError("no merge is in progress: give a branch or revision to merge with --repro") }
        var request = MergeRequest(revision: revision)
        request.message = message
        request.noFastForward = noFf
        request.fastForwardOnly = ffOnly
        request.strategy = strategy.flatMap(MergeStrategy.init(rawValue:))
        request.dryRun = dryRun
        request.keepTheirs = keepTheirs
        request.allowUnrelated = allowUnrelated
        let (handler, printer) = ProgressPrinter.handler(quiet: global.quiet || json)
        let outcome: MergeOutcome
        let warning: String?, manifestWarning: String?
        do { (outcome, warning, manifestWarning) = try MergeWorkflow.merge(repo, request, lineage: lineage, progress: handler) } catch {
            printer?.finish(); throw error
        }
        printer?.finish()
        if let manifestWarning { Out.err("strata: warning: \(manifestWarning)") }
        LineageWarning.print(warning, quiet: global.quiet || json)
        if repro, case .stopped = outcome {
            try concludeByRepro(repo, lineage)
            return
        }
        try report(outcome)
    }

    func concludeByRepro(_ repo: Repository, _ lineage: LineageOptions) throws {
        let (r, repro, warning) = try MergeWorkflow.reproAndConclude(repo, message: message, lineage: lineage)
        LineageWarning.print(warning ?? repro.deliveryWarning, quiet: global.quiet || json)
        if json { try Out.json(JSONMerge(result: "merged", commit: r.id.hex)); return }
        let ran = repro.result.outcomes.filter { $0.action == .ran }.map(\.name)
        Out.line("Re-ran \(ran.isEmpty ? "no stage" : ran.joined(separator: ", ")) on the merged inputs")
        Out.line("[\(r.branch?.rawValue ?? "detached") \(r.id.short)] merge concluded")
        Out.line(r.id.hex)
        Out.flush()
    }

    func report(_ outcome: MergeOutcome) throws {
        func jsonPlan(_ result: String, _ commit: String?, _ p: MergePlan) -> JSONMerge {
            JSONMerge(
                result: result, commit: commit, base: p.base?.hex, bases: p.bases.map(\.hex), ours: p.ours.hex, theirs: p.theirs.hex,
                paths: p.paths.map { JSONPath(path: $0.path, action: $0.action, detail: $0.detail, rows: $0.rows) },
                conflicts: p.conflicts.map(JSONConflict.init))
        }
        switch outcome {
        case .upToDate(let id):
            if json { try Out.json(JSONMerge(result: "up-to-date", commit: id.hex)); return }
            Out.line("Already up to date.")
        case .fastForward(let r):
            if json { try Out.json(JSONMerge(result: "fast-forward", commit: r.commit.hex)); return }
            Out.line("Fast-forward to \(r.commit.short): \(r.written) file\(r.written == 1 ? "" : "s") written, \(r.removed) removed")
        case .planned(let p):
            if json { try Out.json(jsonPlan(p.fastForward ? "would-fast-forward" : p.conflicts.isEmpty ? "would-merge" : "would-conflict", nil, p)); return }
            if p.fastForward { Out.line("Would fast-forward to \(p.theirs.short)"); break }
            printPlan(p)
            Out.line(
                p.conflicts.isEmpty
                    ? "Would merge cleanly (dry run: nothing changed)"
                    : "Would stop with \(p.conflicts.count) conflict\(p.conflicts.count == 1 ? "" : "s") (dry run: nothing changed)")
        case .merged(let r, let p):
            if json { try Out.json(jsonPlan("merged", r.id.hex, p)); return }
            printPlan(p)
            Out.line("[\(r.branch?.rawValue ?? "detached") \(r.id.short)] merge made by the three-way strategy")
            Out.line(r.id.hex)
        case .stopped(let s, let p):
            if json {
                try Out.json(jsonPlan("conflicts", nil, p))
                throw CommandError(status: ErrorReporter.Status.mergeConflict)
            }
            printPlan(p)
            for c in s.unresolved {
                Out.line("CONFLICT (\(c.kind.rawValue)): \(c.path): \(c.detail)")
            }
            Out.line(
                "Automatic merge stopped: resolve with 'strata resolve PATH --ours|--theirs|--base' (rows: --key K), then 'strata merge --continue'; or 'strata merge --abort'"
            )
            Out.flush()
            throw CommandError(status: ErrorReporter.Status.mergeConflict)
        }
        Out.flush()
    }

    func printPlan(_ p: MergePlan) {
        if p.bases.count > 1 { Out.line("Criss-cross: \(p.bases.count) best common ancestors, merged into a virtual base") }
        for m in p.paths where m.action != "conflict" {
            var line = "  \(m.action.padded(8)) \(m.path)"
            if let r = m.rows {
                line += "  (\(r.fromTheirs) from theirs, \(r.cellMerged) merged by cell, \(r.appended) added, \(r.removed) removed"
                line += r.conflicts > 0 ? ", \(r.conflicts) conflicting)" : ")"
            } else if let d = m.detail {
                line += "  (\(d))"
            }
            Out.line(line)
        }
    }
}

/// `strata resolve`.
struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve", abstract: "Resolve a conflicted path of the merge in progress: a whole file, or one row of a table.",
        discussion: """
            --ours, --theirs or --base puts that side's whole file in the workspace (absent there: removed). With --key, one \
            conflicting row of a table takes our or their version. Without a side, the file as edited in the workspace is \
            taken (a table's conflict file must be gone). Exit 3 when no merge is in progress.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The conflicted path.") var path: String
    @Flag(help: "Take our version.") var ours = false
    @Flag(help: "Take their version.") var theirs = false
    @Flag(help: "Take the merge base's version.") var base = false
    @Option(help: ArgumentHelp("Resolve one row: its key value, or COL=VALUE[,COL=VALUE] for a key of several columns.", valueName: "key")) var key: String?

    func validate() throws {
        if [ours, theirs, base].filter({ $0 }).count > 1 { throw ValidationError("give one of --ours, --theirs, --base") }
        if key != nil && !(ours || theirs) { throw ValidationError("--key needs --ours or --theirs") }
    }

    func run() throws {
        let repo = try global.repository()
        let merger = MergeWorkflow.merger(repo).0
        let side: ResolveSide? = ours ? .ours : theirs ? .theirs : base ? .base : nil
        let r = try key.map { try merger.resolveRow(path, key: $0, side: side!) } ?? merger.resolve(path, side: side)
        if !global.quiet {
            if r.remainingRows > 0 {
                Out.line("\(r.path): \(r.remainingRows) conflicting row\(r.remainingRows == 1 ? "" : "s") left")
            } else {
                Out.line("\(r.path): resolved")
            }
            Out.line(
                r.remaining == 0 ? "All conflicts resolved: run 'strata merge --continue'" : "\(r.remaining) conflicted path\(r.remaining == 1 ? "" : "s") left"
            )
        }
        Out.flush()
    }
}

/// `strata merge-base`.
struct MergeBaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-base", abstract: "Print the best common ancestor of two revisions (--all: every one).",
        discussion: "Exits with status 1 when the revisions share no history.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "First revision.") var a: String
    @Argument(help: "Second revision.") var b: String
    @Flag(help: "Print every best common ancestor (several after criss-cross merges).") var all = false

    func run() throws {
        let repo = try global.repository()
        let bases = try repo.mergeBases(try repo.resolve(a), try repo.resolve(b))
        if bases.isEmpty { throw ExitCode(1) }
        for id in all ? bases : [bases[0]] { Out.line(id.hex) }
        Out.flush()
    }
}
