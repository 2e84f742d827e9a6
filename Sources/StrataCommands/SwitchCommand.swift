import ArgumentParser
import StrataRepository
import StrataWorkflows

/// `strata switch`.
struct SwitchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switch", abstract: "Switch to branch NAME (with -c, create it at HEAD first).",
        discussion: "A NAME that only one remote has (origin/NAME) becomes a local branch there that tracks it, as in git.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .customShort("c"), help: "Create the branch at HEAD and switch to it.") var create = false
    @Flag(name: .shortAndLong, help: "Discard uncommitted changes that would be overwritten.") var force = false
    @Argument(help: "Branch name.") var name: String

    func run() throws {
        let repo = try global.repository()
        let (r, tracking) = try SwitchWorkflow.switchBranch(repo, name: name, create: create, force: force)
        if !global.quiet {
            if let tracking { Out.line("Branch '\(name)' set up to track '\(tracking)/\(name)'.") }
            Out.line(create ? "Switched to a new branch '\(name)'" : "Switched to branch '\(name)' (\(r.written) files written, \(r.removed) removed)")
            Out.flush()
        }
    }
}
