import ArgumentParser
import StrataRepository

/// `strata status`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show files added, modified, deleted or renamed since HEAD.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON (see docs/reference/json.md).") var json = false

    struct JSONStatus: Encodable {
        var version = 1
        var branch: String?; var head: String?; var clean: Bool; var changes: [JSONChange]
    }

    func run() throws {
        let repo = try global.repository()
        let (handler, printer) = ProgressPrinter.handler(quiet: global.quiet || json)
        let st = try repo.status(progress: handler)
        printer?.finish()
        if json {
            try Out.json(JSONStatus(branch: st.branch?.rawValue, head: st.head?.hex, clean: st.isClean, changes: st.changes.map(JSONChange.init)))
            return
        }
        Out.line(st.branch.map { "On branch \($0)" } ?? "HEAD detached at \(st.head?.short ?? "?")")
        if st.head == nil { Out.line("No commits yet") }
        if st.isClean { Out.line("nothing to commit, workspace matches HEAD") }
        for c in st.changes {
            Out.line("  \(c.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(c.displayPath)")
        }
        Out.flush()
    }
}
