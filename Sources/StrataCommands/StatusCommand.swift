import ArgumentParser
import StrataPipeline
import StrataRepository

/// `strata status`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show files added, modified, deleted or renamed since HEAD.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON (see docs/reference/json.md).") var json = false

    struct JSONStage: Encodable { var name: String; var reason: String }

    /// Stages of Pipeline.swift that `repro` would run (nil without a manifest); a broken manifest is a warning here.
    func outOfDateStages(_ repo: Repository) -> [JSONStage]? {
        let loader = ManifestLoader(root: repo.root, storePath: repo.storePath)
        guard loader.exists else { return nil }
        do {
            let runner = try PipelineRunner(repo: repo, spec: try loader.load().spec)
            var o = ReproOptions(); o.dryRun = true
            return try runner.run(o).outcomes.filter { $0.action == .wouldRun || $0.action == .wouldRestore }.map { JSONStage(name: $0.name, reason: $0.reason) }
        } catch {
            Out.err("strata: warning: cannot check the pipeline: \(error)")
            return nil
        }
    }

    struct JSONStatus: Encodable {
        var version = 1
        var branch: String?; var head: String?; var clean: Bool; var changes: [JSONChange]
        var stages_out_of_date: [JSONStage]?

        enum CodingKeys: String, CodingKey { case version, branch, head, clean, changes, stages_out_of_date }

        /// `branch` and `head` are always present, `null` when detached or unborn (docs/reference/json.md).
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(version, forKey: .version)
            try c.encode(branch, forKey: .branch)
            try c.encode(head, forKey: .head)
            try c.encode(clean, forKey: .clean)
            try c.encode(changes, forKey: .changes)
            try c.encodeIfPresent(stages_out_of_date, forKey: .stages_out_of_date)
        }
    }

    func run() throws {
        let repo = try global.repository()
        let (handler, printer) = ProgressPrinter.handler(quiet: global.quiet || json)
        let st = try repo.status(progress: handler)
        printer?.finish()
        let stages = outOfDateStages(repo)
        if json {
            try Out.json(JSONStatus(branch: st.branch?.rawValue, head: st.head?.hex, clean: st.isClean, changes: st.changes.map(JSONChange.init),
                                    stages_out_of_date: stages))
            return
        }
        Out.line(st.branch.map { "On branch \($0)" } ?? "HEAD detached at \(st.head?.short ?? "?")")
        if st.head == nil { Out.line("No commits yet") }
        if st.isClean { Out.line("nothing to commit, workspace matches HEAD") }
        for c in st.changes {
            Out.line("  \(c.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(c.displayPath)")
        }
        if let stages, !stages.isEmpty {
            Out.line("Pipeline stages out of date (run 'strata repro'):")
            for s in stages { Out.line("  \(s.name): \(s.reason)") }
        }
        Out.flush()
    }
}
