import ArgumentParser
import StrataRepository

/// `strata show`.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a commit and the files it changed against its first parent.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Revision.") var ref: String = "HEAD"
    @Flag(help: "Print JSON.") var json = false

    struct JSONShow: Encodable { var version = 1; var commit: JSONCommit; var changes: [JSONChange] }

    func run() throws {
        let repo = try global.repository()
        let id = try repo.resolve(ref)
        let info = CommitInfo(id: id, commit: try repo.commit(id))
        let changes = try repo.changes(of: id)
        let pruned = ((try? repo.prunedCommits()) ?? []).contains(id)
        if json { try Out.json(JSONShow(commit: JSONCommit(info, pruned: pruned), changes: changes.map(JSONChange.init))); return }
        Out.line("commit \(id.hex)\(pruned ? " (pruned: data released)" : "")")
        Out.line("Tree:   \(info.commit.tree.hex)")
        for p in info.commit.parents { Out.line("Parent: \(p.hex)") }
        Out.line("Author: \(info.commit.author)")
        Out.line("Date:   \(Format.date(info.commit.time, offsetMinutes: info.commit.timeZoneOffsetMinutes))")
        Out.line("")
        for l in info.commit.message.split(separator: "\n", omittingEmptySubsequences: false) { Out.line("    \(l)") }
        Out.line("")
        for c in changes { Out.line("\(Format.statusLetter(c.status))  \(c.displayPath)") }
        Out.flush()
    }
}
