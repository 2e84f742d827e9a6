import ArgumentParser
import Foundation
import StrataLineage
import StrataPipeline
import StrataRepository
import StrataWorkflows

/// `strata lineage`.
struct LineageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract: "OpenLineage events and PROV-O documents recorded for every commit and run.",
        discussion:
            "Transports follow the OpenLineage client conventions (OPENLINEAGE_URL, OPENLINEAGE_API_KEY, openlineage.yml, OPENLINEAGE_DISABLED). See docs/reference/lineage.md.",
        subcommands: [Export.self, Flush.self, Prov.self, Verify.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Write every stored event as JSON lines (stdout or --out FILE).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "File to write.") var out: String?
        func run() throws {
            let lines = try LineageService(repo: try global.repository()).export()
            let text = lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
            if let out { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } else { Out.write(text); Out.flush() }
        }
    }

    struct Flush: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "flush", abstract: "Send the events that could not be delivered yet (e.g. the backend was down).")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let service = try LineageService(repo: try global.repository())
            let (sent, pending) = try service.flush()
            if !global.quiet { Out.line("sent \(sent) event(s); \(pending) still waiting"); Out.flush() }
            if pending > 0 { throw LineageError.deliveryFailed(service.deliveryErrors.last ?? "backend unreachable") }
        }
    }

    struct Prov: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prov", abstract: "Print the PROV-O JSON-LD document of a run (run id, prefix, or commit), or of every run merged (--all).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("Run id, run id prefix, or a commit.", valueName: "run")) var runID: String?
        @Flag(help: "Every run's document merged into one graph.") var all = false
        func validate() throws {
            if all == (runID != nil) { throw ValidationError("give a run id, or --all") }
        }
        func run() throws {
            let service = try LineageService(repo: try global.repository())
            let doc = all ? try service.mergedProv() : try service.prov(try service.run(runID!))
            Out.line(String(decoding: doc, as: UTF8.self)); Out.flush()
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Fail (exit 22) when a commit's outputs lack their lineage events or PROV document.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Revision (default HEAD).") var ref: String = "HEAD"
        func run() throws {
            let problems = try LineageService(repo: try global.repository()).verify(ref)
            if !problems.isEmpty { throw LineageError.verificationFailed(problems) }
            if !global.quiet { Out.line("lineage of \(ref) is complete"); Out.flush() }
        }
    }
}

/// `strata runs`.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List recorded runs: commits, pipeline runs and stage runs, newest first.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .customShort("n"), help: "At most N runs.") var count: Int?
    @Option(help: ArgumentHelp("Only runs that read or wrote this path (a file inside a folder dataset counts).", valueName: "path")) var dataset: String?
    @Option(
        name: .customLong("output-sha256"),
        help: ArgumentHelp("Only runs that output a version with this sha256 (e.g. from 'strata ls --json').", valueName: "sha256"))
    var outputSHA256: String?
    @Flag(help: "Print JSON.") var json = false

    struct JSONRuns: Encodable { var version = 1; var runs: [RunRecord] }

    func run() throws {
        let repo = try global.repository()
        let rel = try dataset.map { try repo.relativePath($0) }
        var runs = try LineageService(repo: repo).runs(dataset: rel, outputSHA256: outputSHA256)
        if let count { runs = Array(runs.prefix(count)) }
        if json { try Out.json(JSONRuns(runs: runs)); return }
        for r in runs {
            Out.line(
                "\(r.runId)  \(r.status.rawValue.padded(8)) \(r.kind.rawValue.padded(8)) \(r.job)  commit \(r.commit.map { String($0.prefix(12)) } ?? "-")  \(r.inputs.count) in, \(r.outputs.count) out"
            )
        }
        Out.flush()
    }
}

/// `strata reproduce`.
struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Re-run a recorded run from its recorded inputs in a scratch folder and compare every output's sha256.",
        discussion: "Exit 0 when every output is byte-identical; 23 with the list of differing outputs (non-determinism made visible).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Run id (a pipeline run or a stage run).", valueName: "run")) var runID: String
    @Option(name: .customLong("in"), help: "Scratch folder (default: a new temporary folder).") var directory: String?
    @Flag(help: "Print JSON.") var json = false

    struct JSONDiff: Encodable { var path: String; var recorded: String?; var reproduced: String? }
    struct JSONReport: Encodable {
        var version = 1; var run: String; var directory: String; var identical: Bool; var matched: [String]; var differing: [JSONDiff]; var failures: [String]
    }

    func run() throws {
        let service = try LineageService(repo: try global.repository())
        let r = try service.reproduce(runID, into: directory)
        if json {
            try Out.json(
                JSONReport(
                    run: r.run.runId, directory: r.directory, identical: r.identical, matched: r.matched,
                    differing: r.differing.map { JSONDiff(path: $0.path, recorded: $0.recorded, reproduced: $0.reproduced) }, failures: r.failures))
        } else {
            for m in r.matched { Out.line("same      \(m)") }
            for d in r.differing { Out.line("DIFFERENT \(d.path): recorded \(d.recorded ?? "-"), reproduced \(d.reproduced ?? "missing")") }
            for f in r.failures { Out.line("FAILED    \(f)") }
            Out.line(
                r.identical
                    ? "reproduced: every output is byte-identical (in \(r.directory))"
                    : "not reproducible: \(r.differing.count) output(s) differ, \(r.failures.count) stage(s) failed (in \(r.directory))")
            Out.flush()
        }
        if !r.identical { throw CommandError(status: ErrorReporter.Status.notReproducible) }
    }
}

/// `strata catalog`.
struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Write a DCAT 3 / DCAT-AP 3 catalogue (JSON-LD) of the published datasets, with a Markdown page per dataset.",
        discussion: """
            Published datasets are the outputs marked `published: true` in Pipeline.swift, plus --include paths. Metadata (licence, \
            publisher, contact point, keywords, themes, spatial and temporal coverage) comes from Pipeline.swift's `catalog:` and the \
            store config (`catalog.*`, `dataset.PATH.*`). --check lists what DCAT-AP 3 recommends and is not declared (exit 1 when \
            anything is missing).
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Revision (default HEAD).") var ref: String = "HEAD"
    @Option(help: "Also publish this path (repeatable).") var include: [String] = []
    @Option(help: "Output folder (default .strata/catalogue, outside the workspace).") var out: String?
    @Option(help: "Catalogue title (default: catalog.title, else 'Datasets of NAMESPACE').") var title: String?
    @Flag(help: "List the missing mandatory and recommended metadata instead of writing.") var check = false

    func run() throws {
        let repo = try global.repository()
        if check {
            let missing = try CatalogWorkflow.check(repo, include: include)
            for m in missing { Out.line(m) }
            if missing.isEmpty, !global.quiet { Out.line("the catalogue metadata is complete (DCAT-AP 3 mandatory and recommended properties)") }
            Out.flush()
            if !missing.isEmpty { throw CommandError(status: 1) }
            return
        }
        let (outcome, warnings) = try CatalogWorkflow.write(repo, revision: ref, include: include, out: out, title: title)
        if !global.quiet {
            for w in warnings { Out.err("strata: warning: \(w)") }
            Out.line("wrote \(outcome.directory)/catalog.jsonld and \(outcome.pages) page(s)"); Out.flush()
        }
    }
}

/// `strata hooks`.
struct HooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks", abstract: "Install the hooks that block a commit or publish when lineage or versioning artefacts are missing.",
        subcommands: [Install.self])

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install", abstract: "Copy the shipped hooks into .strata/hooks/ (and .git/hooks/ when the workspace is a git checkout).")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let repo = try global.repository()
            let installed = try Hooks.install(repo: repo)
            if !global.quiet { for h in installed { Out.line("installed \(h)") }; Out.flush() }
        }
    }
}
