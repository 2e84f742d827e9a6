import ArgumentParser
import Foundation
import StrataWorkflows
import StrataModel
import StrataPipeline
import StrataRepository

/// Loads Pipeline.swift for the commands that need it, printing the loader's warnings.
enum PipelineLoading {
    static func load(_ repo: Repository, quiet: Bool) throws -> LoadedPipeline {
        let loaded = try PipelineWorkflow.load(repo)
        if !quiet { for w in loaded.warnings { Out.err("strata: warning: \(w)") } }
        return loaded
    }
}

/// `strata repro`.
struct ReproCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repro",
        abstract: "Bring the pipeline of Pipeline.swift up to date: run exactly the stages whose command, inputs, parameters or environment changed.",
        discussion: """
            Outputs produced before are restored from the run cache instead of running again; independent stages run in parallel. \
            Every stage says why it ran or was skipped. A failing stage records nothing and leaves its Pipeline.lock entry as it was. \
            See docs/reference/pipeline.md.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Stages to bring up to date (default: all), with the stages they depend on.") var stages: [String] = []
    @Flag(help: "Show the plan and why; run nothing.") var dryRun = false
    @Flag(name: .shortAndLong, help: "Run the selected stages even when up to date.") var force = false
    @Flag(help: "With STAGE: also run everything downstream of it.") var downstream = false
    @Flag(help: "After a failure, keep running stages that do not depend on it.") var keepGoing = false
    @Option(name: .shortAndLong, help: "Stages to run in parallel (default: number of cores).") var jobs: Int?
    @Flag(help: "Record the new state as a commit after a successful run.") var commit = false
    @Flag(help: "With --commit: do not run the installed pre-commit hook.") var noVerify = false
    @Option(name: .shortAndLong, help: "Message of the --commit commit.") var message: String?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Fail when lineage events cannot be delivered (default: they wait in the store).") var requireLineage = false

    struct JSONStage: Encodable { var name: String; var action: String; var reason: String; var seconds: Double; var key: String?; var stderr_tail: String? }
    struct JSONRepro: Encodable {
        var version = 1; var pipeline: String; var succeeded: Bool; var lock_changed: Bool; var commit: String?; var stages: [JSONStage]
    }

    func run() throws {
        let repo = try global.repository()
        var session = ReproSession(repo: repo)
        session.options.targets = stages; session.options.dryRun = dryRun; session.options.force = force
        session.options.downstream = downstream; session.options.keepGoing = keepGoing
        if let jobs { session.options.jobs = max(1, jobs) }
        session.lineage = LineageOptions(require: requireLineage)
        session.commit = commit; session.commitMessage = message; session.verify = !noVerify
        session.observer = (!global.quiet && !json && !dryRun) ? ConsoleObserver() : nil
        let outcome: ReproSession.Outcome
        do { outcome = try session.run() } catch PipelineError.interrupted {
            Out.err("strata: interrupted: finished stages were recorded in Pipeline.lock; running stages were stopped")
            throw CommandError(status: ErrorReporter.Status.interrupted)
        }
        if !(global.quiet || json) { for w in outcome.manifestWarnings { Out.err("strata: warning: \(w)") } }
        let result = outcome.result
        if json {
            try Out.json(
                JSONRepro(
                    pipeline: outcome.pipeline, succeeded: result.succeeded, lock_changed: result.lockChanged, commit: outcome.commit?.hex,
                    stages: result.outcomes.map {
                        JSONStage(
                            name: $0.name, action: $0.action.rawValue, reason: $0.reason,
                            seconds: ($0.seconds * 1000).rounded() / 1000, key: $0.key, stderr_tail: $0.stderrTail)
                    }))
        } else if !global.quiet {
            for o in result.outcomes where dryRun || [.skipped, .notRun].contains(o.action) {
                Out.line("\(o.action.rawValue.padded(13)) \(o.name): \(o.reason)")
            }
            for o in result.outcomes where o.action == .failed {
                Out.line("failed        \(o.name): \(o.reason)")
                if let t = o.stderrTail, !t.isEmpty {
                    Out.line(t.split(separator: "\n", omittingEmptySubsequences: false).map { "    | \($0)" }.joined(separator: "\n"))
                }
            }
            let counts = Dictionary(grouping: result.outcomes, by: \.action).mapValues(\.count)
            Out.line(
                StageOutcome.Action.allCasesOrdered.compactMap { a in counts[a].map { "\($0) \(a.rawValue)" } }.joined(separator: ", ")
                    + (result.lockChanged ? "; Pipeline.lock updated" : "; Pipeline.lock unchanged") + (outcome.commit.map { "; committed \($0.short)" } ?? ""))
        }
        Out.flush()
        LineageWarning.print(outcome.deliveryWarning, quiet: global.quiet || json)
        if !result.succeeded { throw CommandError(status: ErrorReporter.Status.stageFailed) }
    }
}

extension StageOutcome.Action {
    static let allCasesOrdered: [StageOutcome.Action] = [.ran, .restored, .skipped, .failed, .notRun, .wouldRun, .wouldRestore]
}

/// Prints each stage as it starts and ends.
struct ConsoleObserver: ReproObserver {
    func stageStarted(_ stage: StageSpec, inputs: [LockedPath]) { Out.err("running       \(stage.name): \(stage.command)") }
    func stageFinished(_ stage: StageSpec, outcome: StageOutcome, inputs: [LockedPath], outputs: [LockedPath]) {
        switch outcome.action {
        case .ran: Out.err("ran           \(stage.name) in \(String(format: "%.2f", outcome.seconds)) s: \(outcome.reason)")
        case .restored: Out.err("restored      \(stage.name): \(outcome.reason)")
        default: break
        }
    }
}
