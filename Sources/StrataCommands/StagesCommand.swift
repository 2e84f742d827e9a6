import ArgumentParser
import StrataPipeline
import StrataWorkflows

/// `strata stages`.
struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stages", abstract: "List the stages of Pipeline.swift in graph order with their state (up to date or why they would run).")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    struct JSONStage: Encodable {
        var name: String; var command: String; var state: String; var reason: String
        var inputs: [String]; var outputs: [String]; var upstream: [String]; var frozen: Bool; var always_run: Bool
    }
    struct JSONStages: Encodable { var version = 1; var pipeline: String; var stages: [JSONStage] }

    func run() throws {
        let repo = try global.repository()
        let loaded = try PipelineLoading.load(repo, quiet: global.quiet || json)
        let rows = try PipelineWorkflow.stageStates(repo, spec: loaded.spec).map {
            JSONStage(
                name: $0.name, command: $0.command, state: $0.state, reason: $0.reason, inputs: $0.inputs, outputs: $0.outputs, upstream: $0.upstream,
                frozen: $0.frozen, always_run: $0.alwaysRun)
        }
        if json { try Out.json(JSONStages(pipeline: loaded.spec.name, stages: rows)); return }
        for r in rows {
            Out.line("\(r.state.padded(12)) \(r.name)\(r.state == "out-of-date" ? "  (\(r.reason))" : "")")
        }
        Out.flush()
    }
}

/// `strata dag`.
struct DagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dag", abstract: "Print the stage graph of Pipeline.swift (text, Graphviz dot or Mermaid).")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Graphviz dot.") var dot = false
    @Flag(help: "Mermaid flowchart.") var mermaid = false

    func run() throws {
        let repo = try global.repository()
        let loaded = try PipelineLoading.load(repo, quiet: global.quiet)
        let g = try PipelineRunner(repo: repo, spec: loaded.spec).graph
        let edges = g.order.flatMap { n in g.upstream[n]!.sorted().map { ($0, n) } }
        func id(_ s: String) -> String { s.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined() }
        if dot {
            Out.line("digraph \"\(loaded.spec.name)\" {")
            Out.line("  rankdir=LR;")
            for n in g.order { Out.line("  \"\(n)\";") }
            for (a, b) in edges { Out.line("  \"\(a)\" -> \"\(b)\";") }
            Out.line("}")
        } else if mermaid {
            Out.line("flowchart LR")
            for n in g.order { Out.line("  \(id(n))[\"\(n)\"]") }
            for (a, b) in edges { Out.line("  \(id(a)) --> \(id(b))") }
        } else {
            for n in g.order {
                let ups = g.upstream[n]!.sorted()
                Out.line(ups.isEmpty ? n : "\(n) <- \(ups.joined(separator: ", "))")
            }
        }
        Out.flush()
    }
}
