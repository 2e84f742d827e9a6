import ArgumentParser
import StrataRepository

/// `strata reflog`.
struct ReflogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reflog", abstract: "Show how refs moved (default: HEAD), newest first; 'all' lists every ref.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "HEAD, a branch, a tag, or 'all'.") var ref: String = "HEAD"
    @Flag(help: "Print JSON.") var json = false

    struct JSONEntry: Encodable { var seq: Int64; var ref: String; var old: String?; var new: String?; var time: String; var message: String }
    struct JSONReflog: Encodable { var version = 1; var entries: [JSONEntry] }

    func run() throws {
        let repo = try global.repository()
        let entries = try repo.reflog(ref == "all" ? nil : ref)
        if json {
            try Out.json(
                JSONReflog(
                    entries: entries.map {
                        JSONEntry(seq: $0.sequence, ref: $0.ref, old: $0.old?.hex, new: $0.new?.hex, time: Format.date($0.time), message: $0.message)
                    }))
            return
        }
        for (i, e) in entries.enumerated() {
            Out.line("\(e.new?.short ?? "(deleted)   ") \(ref == "all" ? e.ref : ref)@{\(i)}: \(e.message)  [\(Format.date(e.time))]")
        }
        Out.flush()
    }
}
