import ArgumentParser
import StrataRepository

/// `strata reset`.
struct ResetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset", abstract: "Move the current branch to REF (rollback); --hard also makes the workspace match.",
        discussion: "The old position stays in 'strata reflog', so a rollback can be undone with another reset.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Also overwrite the workspace with REF's files (uncommitted changes are lost).") var hard = false
    @Argument(help: "Revision to move to.") var ref: String

    func run() throws {
        let repo = try global.repository()
        let id = try repo.reset(ref, hard: hard)
        if !global.quiet {
            Out.line("\(try repo.currentBranch().map { "Branch \($0)" } ?? "HEAD") is now at \(id.short)\(hard ? "; workspace updated" : "")")
            Out.flush()
        }
    }
}
