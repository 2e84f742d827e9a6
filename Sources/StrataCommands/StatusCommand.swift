import ArgumentParser
import StrataWorkflows
import StrataRepository

/// `strata status`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show files added, modified, deleted or renamed since HEAD.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON (see docs/reference/json.md).") var json = false

    struct JSONStage: Encodable { var name: String; var reason: String }
    struct JSONUpstream: Encodable { var name: String; var ahead: Int; var behind: Int }
    struct JSONMergeState: Encodable {
        var merging: String; var merge_head: String; var orig_head: String; var base: String?
        var conflicts: [MergeCommand.JSONConflict]
    }

    struct JSONStatus: Encodable {
        var version = 1
        var branch: String?; var head: String?; var clean: Bool; var changes: [JSONChange]
        var stages_out_of_date: [JSONStage]?
        var upstream: JSONUpstream?
        var merge: JSONMergeState?

        enum CodingKeys: String, CodingKey { case version, branch, head, clean, changes, stages_out_of_date, upstream, merge }

        /// `branch` and `head` are always present, `null` when detached or unborn (docs/reference/json.md).
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(version, forKey: .version)
            try c.encode(branch, forKey: .branch)
            try c.encode(head, forKey: .head)
            try c.encode(clean, forKey: .clean)
            try c.encode(changes, forKey: .changes)
            try c.encodeIfPresent(stages_out_of_date, forKey: .stages_out_of_date)
            try c.encodeIfPresent(upstream, forKey: .upstream)
            try c.encodeIfPresent(merge, forKey: .merge)
        }
    }

    func run() throws { try Self.show(json: json, quiet: global.quiet, directory: global.directory) }

    /// The command lines `strata status`, with `--json`, `-q` or `--quiet` at most once each and nothing else, are
    /// matched here before ArgumentParser: they are what scripts and prompts run most often, and ArgumentParser's
    /// reflection of the command tree (its check for `--generate-completion-script` among it) costs about 4 ms of a
    /// 35 ms status of 10,000 files. Every other command line, `--help` included, goes through ArgumentParser; both
    /// ways call `show`. Returns nil when `arguments` (without the program name) are not such a line.
    static func fastPath(_ arguments: ArraySlice<String>) -> (json: Bool, quiet: Bool)? {
        guard arguments.first == "status" else { return nil }
        var json = false
        var quiet = false
        for a in arguments.dropFirst() {
            switch a {
            case "--json" where !json: json = true
            case "-q" where !quiet, "--quiet" where !quiet: quiet = true
            default: return nil
            }
        }
        return (json, quiet)
    }

    static func show(json: Bool, quiet: Bool, directory: String?) throws {
        let repo = try GlobalOptions.repository(directory: directory)
        let (handler, printer) = ProgressPrinter.handler(quiet: quiet || json)
        let report = try StatusWorkflow.status(repo, progress: handler)
        printer?.finish()
        if let w = report.pipelineWarning { Out.err("strata: warning: \(w)") }
        let st = report.workspace
        let stages = report.outOfDateStages?.map { JSONStage(name: $0.name, reason: $0.reason) }
        if json {
            try Out.json(
                JSONStatus(
                    branch: st.branch?.rawValue, head: st.head?.hex, clean: st.isClean, changes: st.changes.map(JSONChange.init),
                    stages_out_of_date: stages,
                    upstream: report.upstream.map { JSONUpstream(name: $0.upstream, ahead: $0.divergence.ahead, behind: $0.divergence.behind) },
                    merge: st.merge.map {
                        JSONMergeState(
                            merging: $0.mergeName, merge_head: $0.mergeHead.hex, orig_head: $0.origHead.hex, base: $0.base?.hex,
                            conflicts: $0.conflicts.map(MergeCommand.JSONConflict.init))
                    }))
            return
        }
        Out.line(st.branch.map { "On branch \($0)" } ?? "HEAD detached at \(st.head?.short ?? "?")")
        if let u = report.upstream {
            let d = u.divergence
            Out.line(d.ahead == 0 && d.behind == 0 ? "Up to date with \(u.upstream)" : "ahead \(d.ahead), behind \(d.behind) of \(u.upstream)")
        }
        if st.head == nil { Out.line("No commits yet") }
        if let m = st.merge {
            let open = m.unresolved
            Out.line(
                "Merging \(m.mergeName) (\(m.mergeHead.short))"
                    + (m.phase == .applying ? ": interrupted while writing; 'strata merge --continue' finishes it" : ""))
            if open.isEmpty {
                Out.line("All conflicts resolved: run 'strata merge --continue' to record the merge")
            } else {
                Out.line("Unmerged paths (resolve with 'strata resolve PATH --ours|--theirs|--base', or --abort):")
                for c in open {
                    let rows = c.rows > 0 ? ", \(c.rows) conflicting row\(c.rows == 1 ? "" : "s")" : ""
                    Out.line("  \(c.kind.rawValue.padded(15)) \(c.path)\(rows)")
                }
            }
        }
        if st.isClean { Out.line("nothing to commit, workspace matches HEAD") }
        for c in st.changes {
            Out.line("  \(c.status.rawValue.padded(9)) \(c.displayPath)")
        }
        if let stages, !stages.isEmpty {
            Out.line("Pipeline stages out of date (run 'strata repro'):")
            for s in stages { Out.line("  \(s.name): \(s.reason)") }
        }
        Out.flush()
    }
}
