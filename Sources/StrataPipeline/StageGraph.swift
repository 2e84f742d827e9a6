import Foundation
import StrataModel
import StrataPlatform

/// The validated stage graph: producers, edges and a deterministic order.
public struct StageGraph: Sendable {
    /// Stages by name.
    public let stages: [String: StageSpec]
    /// Upstream stages of each stage.
    public let upstream: [String: Set<String>]
    /// Downstream stages of each stage.
    public let downstream: [String: Set<String>]
    /// Topological order, ties broken by name.
    public let order: [String]

    /// A declared path without leading, trailing or doubled slashes.
    /// The normalised form of a declared path (`WorkspacePath`); paths are validated when the graph is built, so an
    /// invalid one only reaches this through a caller that skipped validation and is then left as written.
    public static func normalize(_ p: String) -> String { (try? WorkspacePath.normalize(p, allowRoot: true)) ?? p }

    /// Validates a declared path: inside the workspace, not the root, not in `.strata/` or `.git/`.
    static func checked(_ p: String, _ what: String, stage: String, allowRoot: Bool = false) throws -> String {
        do { return try WorkspacePath.normalize(p, allowRoot: allowRoot) } catch {
            throw PipelineError.invalidGraph("stage '\(stage)' declares \(what) \(error); nothing was run or deleted")
        }
    }

    static func overlaps(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8) || (!b.isEmpty && WorkspacePath.isWithin(a, b)) || (!a.isEmpty && WorkspacePath.isWithin(b, a))
    }

    /// Validates the pipeline: unique names, one producer per output, inputs that exist or are produced, no cycles.
    /// `exists` tells whether a workspace path exists now.
    public init(_ spec: PipelineSpec, exists: (String) -> Bool) throws {
        var stages: [String: StageSpec] = [:]
        for s in spec.stages {
            if s.name.isEmpty || s.name.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: " ") }) || SlashEdges.merge(s.name) {
                throw PipelineError.invalidGraph("stage name '\(s.name)' must be non-empty without spaces, '/' or a leading combining mark")
            }
            if stages[s.name] != nil { throw PipelineError.invalidGraph("two stages are named '\(s.name)'") }
            stages[s.name] = s
        }
        var producers: [(path: String, stage: String)] = []
        for s in spec.stages {
            for o in s.outputs {
                let p = try StageGraph.checked(o.path, "output", stage: s.name)
                if let other = producers.first(where: { StageGraph.overlaps($0.path, p) }) {
                    throw PipelineError.invalidGraph("output '\(o.path)' of stage '\(s.name)' overlaps output '\(other.path)' of stage '\(other.stage)'")
                }
                producers.append((p, s.name))
            }
        }
        var up: [String: Set<String>] = [:], down: [String: Set<String>] = [:]
        for s in spec.stages { up[s.name] = []; down[s.name] = [] }
        for s in spec.stages {
            if let wd = s.workingDirectory { _ = try StageGraph.checked(wd, "working folder", stage: s.name, allowRoot: true) }
            for i in s.inputs {
                let p = try StageGraph.checked(i.path, "input", stage: s.name)
                let from = producers.filter { StageGraph.overlaps($0.path, p) }.map(\.stage).filter { $0 != s.name }
                if from.isEmpty && !exists(p) {
                    throw PipelineError.invalidGraph("input '\(i.path)' of stage '\(s.name)' does not exist and no stage produces it")
                }
                for f in from { up[s.name]!.insert(f); down[f]!.insert(s.name) }
            }
            for a in s.after {
                guard stages[a] != nil else { throw PipelineError.invalidGraph("stage '\(s.name)' runs after '\(a)', which does not exist") }
                up[s.name]!.insert(a); down[a]!.insert(s.name)
            }
        }
        // Kahn's algorithm with name order; anything left over sits on a cycle.
        var indegree = up.mapValues(\.count)
        var ready = indegree.filter { $0.value == 0 }.map(\.key).sorted()
        var order: [String] = []
        while !ready.isEmpty {
            let n = ready.removeFirst()
            order.append(n)
            for d in down[n]!.sorted() {
                indegree[d]! -= 1
                if indegree[d] == 0 { ready.append(d); ready.sort() }
            }
        }
        if order.count < stages.count {
            let left = Set(stages.keys).subtracting(order)
            throw PipelineError.invalidGraph("the stages form a cycle: \(StageGraph.cycle(in: left, up: up))")
        }
        self.stages = stages; upstream = up; downstream = down; self.order = order
    }

    static func cycle(in nodes: Set<String>, up: [String: Set<String>]) -> String {
        var path: [String] = []
        var cur = nodes.sorted().first!
        while !path.contains(cur) {
            path.append(cur)
            cur = up[cur]!.filter(nodes.contains).sorted().first!
        }
        let loop = Array(path[path.firstIndex(of: cur)!...]).reversed()
        return (loop + [loop.first!]).joined(separator: " -> ")
    }

    /// The stages in `names` and everything they depend on (or, with `downstream`, everything after them).
    public func closure(_ names: [String], downstream wantDown: Bool) throws -> Set<String> {
        var out = Set<String>()
        var stack = names
        for n in names where stages[n] == nil { throw PipelineError.unknownStage(n) }
        while let n = stack.popLast() {
            guard out.insert(n).inserted else { continue }
            stack.append(contentsOf: wantDown ? downstream[n]! : upstream[n]!)
        }
        return out
    }
}
