import ArgumentParser
import StrataRepository

/// `strata branch`.
struct BranchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "branch", abstract: "List branches, create NAME at START (default HEAD), or delete one with -d.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .customShort("d"), help: "Delete the branch NAME.") var delete = false
    @Flag(help: "Print JSON.") var json = false
    @Argument(help: "Branch to create or delete.") var name: String?
    @Argument(help: "Where the new branch starts.") var start: String?

    struct JSONBranch: Encodable { var name: String; var commit: String; var current: Bool }
    struct JSONBranches: Encodable { var version = 1; var branches: [JSONBranch] }

    func run() throws {
        let repo = try global.repository()
        if delete {
            guard let name else { throw ValidationError("branch -d needs a NAME") }
            let old = try repo.deleteBranch(name)
            if !global.quiet { Out.line("Deleted branch \(name) (was \(old.short))"); Out.flush() }
            return
        }
        if let name {
            let id = try repo.createBranch(name, at: start)
            if !global.quiet { Out.line("Created branch \(name) at \(id.short)"); Out.flush() }
            return
        }
        let current = try repo.currentBranch()
        let list = try repo.refs.branches()
        if json {
            try Out.json(JSONBranches(branches: list.map { JSONBranch(name: $0.name.rawValue, commit: $0.target.hex, current: $0.name == current) })); return
        }
        for (b, t) in list { Out.line("\(b == current ? "*" : " ") \(b.rawValue.padded(20)) \(t.short)") }
        Out.flush()
    }
}
