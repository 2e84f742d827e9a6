import ArgumentParser
import StrataRepository

/// `strata ls`.
struct LsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the entries of a folder in a commit: type, mode, size, sha256, path.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Revision.") var ref: String = "HEAD"
    @Argument(help: "Folder or file inside the commit (default: the root).") var path: String = ""
    @Flag(name: .shortAndLong, help: "List every file below, recursively.") var recursive = false
    @Flag(help: "Print JSON.") var json = false

    struct JSONEntry: Encodable { var path: String; var type: String; var mode: String; var size: UInt64; var sha256: String }
    struct JSONList: Encodable { var version = 1; var commit: String; var entries: [JSONEntry] }

    func run() throws {
        let repo = try global.repository()
        let commit = try repo.resolve(ref)
        if json {
            // Entries are written as the trees are read: `ls -r --json` of a million files holds none of them.
            try Out.json(JSONList(commit: commit.hex, entries: []), streaming: "entries") { each in
                try repo.forEachListed(commit, revision: ref, path: path, recursive: recursive) {
                    try each(JSONEntry(path: $0.path, type: $0.kind.typeName, mode: $0.kind.mode, size: $0.size, sha256: $0.id.hex))
                }
            }
            return
        }
        try repo.forEachListed(commit, revision: ref, path: path, recursive: recursive) { e in
            Out.line(
                "\(e.kind.mode) \(e.kind.typeName.padded(7)) \(String(e.size).leftPad(12)) \(e.id.hex)  \(e.path)\(e.kind == .directory ? "/" : "")"
            )
        }
        Out.flush()
    }
}
