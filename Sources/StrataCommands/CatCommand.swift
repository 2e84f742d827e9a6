import ArgumentParser
import StrataRepository

/// `strata cat REF:PATH`.
struct CatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat", abstract: "Stream the bytes of a file in a commit to stdout (verified against its sha256).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("REF:PATH, e.g. HEAD:tables/orgs.csv or v1:notes.md.", valueName: "ref:path")) var spec: String

    func run() throws {
        guard let colon = spec.firstIndex(of: ":") else { throw ValidationError("expected REF:PATH, e.g. HEAD:tables/orgs.csv") }
        let ref = String(spec[..<colon]), path = String(spec[spec.index(after: colon)...])
        let repo = try global.repository()
        try repo.cat(ref.isEmpty ? "HEAD" : ref, path: path) { Out.raw($0) }
    }
}
