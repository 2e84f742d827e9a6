import ArgumentParser
import StrataDiff
import StrataRepository
import StrataTables
import StrataWorkflows

/// `strata diff`.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "File-level changes between two commits, or between a commit (default HEAD) and the workspace.",
        discussion: """
            Lists added, modified, deleted and renamed (same content, new path) files with old and new sha256 and sizes.             A...B compares the merge base of A and B with B: what B changed since the histories parted.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Old revision (default HEAD), or A...B.") var first: String?
    @Argument(help: "New revision (default: the workspace).") var second: String?
    @Flag(help: "Summarise: paths with size changes and totals.") var stat = false
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Also diff changed tables (csv, tsv, jsonl, or declared) row by row; see 'strata table diff'.") var rows = false
    @Argument(parsing: .postTerminator, help: "Only these paths (after --).") var paths: [String] = []

    struct JSONDiff: Encodable { var version = 1; var from: String; var to: String; var changes: [JSONChange] }

    func run() throws {
        let repo = try global.repository()
        var a = first, b = second
        // A...B: from the merge base of A and B to B, as in git.
        if let f = first, second == nil, let dots = f.range(of: "...") {
            let left = String(f[..<dots.lowerBound]), right = String(f[dots.upperBound...])
            let l = left.isEmpty ? "HEAD" : left, r = right.isEmpty ? "HEAD" : right
            guard let base = try repo.mergeBases(try repo.resolve(l), try repo.resolve(r)).first else {
                throw ValidationError("\(l) and \(r) share no history: '\(f)' has no merge base")
            }
            a = base.hex; b = r
        }
        let from = a ?? "HEAD"
        let changes = try repo.diff(from, b, paths: paths)
        // Delta tables among the changes: folders whose log changed; their files are shown as one table.
        let deltaRoots = Array(Set(changes.compactMap { c in c.path.range(of: "/_delta_log/").map { String(c.path[..<$0.lowerBound]) } })).sorted()
        func inDelta(_ p: String) -> Bool { deltaRoots.contains { p.hasPrefix($0 + "/") } }
        if rows {
            let tables = TableWorkflow.service(repo).0
            var row = try RowDiffOptions.parse([])
            row.json = json; row.stat = stat
            for root in deltaRoots { _ = try row.run(repo, from, b, path: root, quiet: global.quiet) }
            let icebergRoots = Set(
                changes.compactMap { c -> String? in
                    guard c.path.hasSuffix(".metadata.json"), let r = c.path.range(of: "/metadata/") else { return nil }
                    return String(c.path[..<r.lowerBound])
                })
            for root in icebergRoots.sorted() { _ = try row.run(repo, from, b, path: root, quiet: global.quiet) }
            for c in changes where c.status != .renamed && !inDelta(c.path) && !icebergRoots.contains(where: { c.path.hasPrefix($0 + "/") }) {
                if try tables.isTable(c.path) { _ = try row.run(repo, from, b, path: c.path, quiet: global.quiet) }
            }
            return
        }
        if json {
            try Out.json(
                JSONDiff(from: try repo.resolve(from).hex, to: try b.map { try repo.resolve($0).hex } ?? "workspace", changes: changes.map(JSONChange.init)))
            return
        }
        if stat {
            var grow: Int64 = 0
            for c in changes {
                let delta = Int64(c.new?.size ?? 0) - Int64(c.old?.size ?? 0)
                grow += delta
                Out.line(" \(Format.statusLetter(c.status)) \(c.displayPath) | \(delta >= 0 ? "+" : "")\(delta) bytes")
            }
            let n = { (s: Change.Status) in changes.filter { $0.status == s }.count }
            Out.line(
                " \(changes.count) files changed: \(n(.added)) added, \(n(.modified)) modified, \(n(.deleted)) deleted, \(n(.renamed)) renamed; \(grow >= 0 ? "+" : "")\(grow) bytes"
            )
            Out.flush(); return
        }
        for c in changes {
            let old = c.old.map { "\($0.id.short) \($0.size)" } ?? "-"
            let new = c.new.map { "\($0.id.short) \($0.size)" } ?? "-"
            Out.line("\(Format.statusLetter(c.status))  \(c.displayPath)  (\(old) -> \(new))")
        }
        let tables = TableWorkflow.service(repo).0
        for root in deltaRoots {
            do {
                for line in RowDiffOptions.deltaText(try tables.deltaDiff(from, b, path: root)) { Out.line(line) }
            } catch let e as TableError {
                Out.err("strata: warning: \(e.message)")
            }
        }
        let icebergRoots = Set(
            changes.compactMap { c -> String? in
                guard c.path.hasSuffix(".metadata.json"), let r = c.path.range(of: "/metadata/") else { return nil }
                return String(c.path[..<r.lowerBound])
            })
        for root in icebergRoots.sorted() {
            do {
                for line in RowDiffOptions.icebergText(try tables.icebergDiff(from, b, path: root)) { Out.line(line) }
            } catch let e as TableError {
                Out.err("strata: warning: \(e.message)")
            }
        }
        Out.flush()
    }
}
