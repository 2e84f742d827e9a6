import ArgumentParser
import StrataRepository

/// `strata log`.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "List commits reachable from REF (default HEAD), newest first.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Revision to start from.") var ref: String = "HEAD"
    @Option(name: .customShort("n"), help: "Show at most N commits.") var count: Int?
    @Flag(help: "One line per commit.") var oneline = false
    @Flag(help: "Print JSON.") var json = false

    struct JSONLog: Encodable { var version = 1; var commits: [JSONCommit] }

    func run() throws {
        let repo = try global.repository()
        let commits = try repo.log(ref, limit: count)
        let pruned = (try? repo.prunedCommits()) ?? []
        if json { try Out.json(JSONLog(commits: commits.map { JSONCommit($0, pruned: pruned.contains($0.id)) })); return }
        for c in commits {
            let mark = pruned.contains(c.id) ? " (pruned: data released)" : ""
            if oneline {
                Out.line("\(c.id.short) \(c.commit.message.split(separator: "\n").first ?? "")\(mark)")
                continue
            }
            Out.line("commit \(c.id.hex)\(mark)")
            if c.commit.parents.count > 1 { Out.line("Merge: \(c.commit.parents.map(\.short).joined(separator: " "))") }
            Out.line("Author: \(c.commit.author)")
            Out.line("Date:   \(Format.date(c.commit.time, offsetMinutes: c.commit.timeZoneOffsetMinutes))")
            Out.line("")
            for l in c.commit.message.split(separator: "\n", omittingEmptySubsequences: false) { Out.line("    \(l)") }
            Out.line("")
        }
        Out.flush()
    }
}
