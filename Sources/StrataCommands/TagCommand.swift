import ArgumentParser
import StrataRepository

/// `strata tag`.
struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "List tags, create NAME at REF (default HEAD), or delete one with -d.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .customShort("d"), help: "Delete the tag NAME.") var delete = false
    @Option(name: .shortAndLong, help: "Annotate the tag with a message.") var message: String?
    @Flag(help: "Print JSON.") var json = false
    @Argument(help: "Tag name.") var name: String?
    @Argument(help: "Revision to tag.") var ref: String?

    struct JSONTag: Encodable { var name: String; var commit: String; var message: String?; var tagger: String? }
    struct JSONTags: Encodable { var version = 1; var tags: [JSONTag] }

    func run() throws {
        let repo = try global.repository()
        if delete {
            guard let name else { throw ValidationError("tag -d needs a NAME") }
            let old = try repo.deleteTag(name)
            if !global.quiet { Out.line("Deleted tag \(name) (was \(old.short))"); Out.flush() }
            return
        }
        if let name {
            let id = try repo.createTag(name, at: ref, message: message)
            if !global.quiet { Out.line("Tagged \(id.short) as \(name)"); Out.flush() }
            return
        }
        let tags = try repo.refs.tags()
        if json {
            try Out.json(JSONTags(tags: tags.map { JSONTag(name: $0.name.rawValue, commit: $0.target.hex, message: $0.message, tagger: $0.tagger) })); return
        }
        for t in tags {
            Out.line("\(t.name.rawValue.padded(20)) \(t.target.short)\(t.message.map { "  \($0)" } ?? "")")
        }
        Out.flush()
    }
}
