import ArgumentParser
import StrataModel
import StrataPlatform
import StrataRepository

/// `strata log`.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "List commits reachable from REF (default HEAD), newest first.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Revision to start from.") var ref: String = "HEAD"
    @Option(name: .customShort("n"), help: "Show at most N commits.") var count: Int?
    @Flag(help: "One line per commit.") var oneline = false
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Draw the history as a text graph (children before parents).") var graph = false
    @Flag(help: "Follow only first parents: the branch's own commits, each merge as one entry.") var firstParent = false

    struct JSONLog: Encodable { var version = 1; var commits: [JSONCommit] }

    func run() throws {
        let repo = try global.repository()
        let commits = graph || firstParent ? try repo.history(ref, limit: count, firstParent: firstParent) : try repo.log(ref, limit: count)
        let pruned = (try? repo.prunedCommits()) ?? []
        if json { try Out.json(JSONLog(commits: commits.map { JSONCommit($0, pruned: pruned.contains($0.id)) })); return }
        var lanes = GraphLanes()
        for c in commits {
            if graph {
                let (before, prefix, after) = lanes.place(c.id, parents: firstParent ? Array(c.commit.parents.prefix(1)) : c.commit.parents)
                for l in before { Out.line(l) }
                let mark = pruned.contains(c.id) ? " (pruned: data released)" : ""
                let summary = c.commit.message.textLines(omittingEmpty: true).first ?? ""
                Out.line("\(prefix) \(c.id.short)\(c.commit.parents.count > 1 ? " Merge:" : "") \(summary)\(mark)")
                for l in after { Out.line(l) }
                continue
            }
            let mark = pruned.contains(c.id) ? " (pruned: data released)" : ""
            if oneline {
                Out.line("\(c.id.short) \(c.commit.message.textLines(omittingEmpty: true).first ?? "")\(mark)")
                continue
            }
            Out.line("commit \(c.id.hex)\(mark)")
            if c.commit.parents.count > 1 { Out.line("Merge: \(c.commit.parents.map(\.short).joined(separator: " "))") }
            Out.line("Author: \(c.commit.author)")
            Out.line("Date:   \(Format.date(c.commit.time, offsetMinutes: c.commit.timeZoneOffsetMinutes))")
            Out.line("")
            for l in c.commit.message.textLines() { Out.line("    \(l)") }
            Out.line("")
        }
        Out.flush()
    }
}

/// Lanes of `log --graph`: one column per line of history still to be drawn. A commit takes its lane (`*`), hands it
/// to its first parent, opens lanes for further parents (`\\`), and lanes that were waiting for the same commit join
/// it (`/`).
struct GraphLanes {
    var lanes: [ObjectID] = []

    mutating func place(_ id: ObjectID, parents: [ObjectID]) -> (before: [String], line: String, after: [String]) {
        var before: [String] = []
        // Lanes that were waiting for this same commit join the first of them before it is drawn.
        if let first = lanes.firstIndex(of: id) {
            let joining = lanes.indices.filter { $0 != first && lanes[$0] == id }
            if !joining.isEmpty {
                before.append(lanes.indices.map { joining.contains($0) ? "/" : "|" }.joined(separator: " "))
                for j in joining.reversed() { lanes.remove(at: j) }
            }
        }
        var idx = lanes.firstIndex(of: id) ?? -1
        if idx < 0 { lanes.append(id); idx = lanes.count - 1 }
        let line = lanes.indices.map { $0 == idx ? "*" : "|" }.joined(separator: " ")
        var after: [String] = []
        if parents.isEmpty {
            lanes.remove(at: idx)
            return (before, line, after)
        }
        lanes[idx] = parents[0]
        var opened = 0
        for p in parents.dropFirst() where !lanes.contains(p) {
            lanes.insert(p, at: idx + 1 + opened)
            opened += 1
        }
        if parents.count > 1 {
            after.append(lanes.indices.map { $0 == idx + 1 ? "\\" : "|" }.joined(separator: " "))
        }
        return (before, line, after)
    }
}
