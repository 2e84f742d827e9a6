import ArgumentParser
import StrataRepository

/// `strata switch`.
struct SwitchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "switch", abstract: "Switch to branch NAME (with -c, create it at HEAD first).")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .customShort("c"), help: "Create the branch at HEAD and switch to it.") var create = false
    @Flag(name: .shortAndLong, help: "Discard uncommitted changes that would be overwritten.") var force = false
    @Argument(help: "Branch name.") var name: String

    func run() throws {
        let repo = try global.repository()
        let r = try repo.switchBranch(name, create: create, force: force)
        if !global.quiet {
            Out.line(create ? "Switched to a new branch '\(name)'" : "Switched to branch '\(name)' (\(r.written) files written, \(r.removed) removed)")
            Out.flush()
        }
    }
}
