import ArgumentParser
import StrataRepository

/// `strata fsck`.
struct FsckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck", abstract: "Re-hash every stored object and check every reachable commit and tree.",
        discussion: "Exits with status 12 and lists each problem when anything is wrong.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    struct JSONProblem: Encodable { var kind: String; var object: String?; var location: String; var message: String }
    struct JSONReport: Encodable {
        var version = 1
        var clean: Bool; var objects_checked: Int; var commits_checked: Int; var bytes_checked: UInt64; var problems: [JSONProblem]; var notes: [String]
    }

    func run() throws {
        let repo = try global.repository()
        let (handler, printer) = ProgressPrinter.handler(quiet: global.quiet || json)
        let r = try repo.fsck(progress: handler)
        printer?.finish()
        if json {
            try Out.json(
                JSONReport(
                    clean: r.isClean, objects_checked: r.objectsChecked, commits_checked: r.commitsChecked, bytes_checked: r.bytesChecked,
                    problems: r.problems.map { JSONProblem(kind: $0.kind.rawValue, object: $0.object?.hex, location: $0.location, message: $0.message) },
                    notes: r.notes))
        } else {
            for p in r.problems { Out.line("\(p.kind.rawValue): \(p.object?.hex ?? "-") at \(p.location): \(p.message)") }
            if !global.quiet { for n in r.notes { Out.line("note: \(n)") } }
            Out.line(
                r.isClean
                    ? "fsck: ok — \(r.objectsChecked) objects (\(Format.bytes(r.bytesChecked))) re-hashed, \(r.commitsChecked) commits checked"
                    : "fsck: \(r.problems.count) problem(s) found; see docs/runbooks/troubleshooting.md")
            Out.flush()
        }
        if !r.isClean { throw CommandError(status: ErrorReporter.Status.integrity) }
    }
}
