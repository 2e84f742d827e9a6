import ArgumentParser
import StrataRepository

/// `strata init [DIR]`.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create an empty store (.strata/) in DIR (default: the current folder).")

    @Argument(help: "Folder to create the store in.") var directory: String = "."
    @Flag(name: [.short, .long], help: "Print nothing but errors.") var quiet = false

    func run() throws {
        let repo = try Repository.initialize(at: directory, schemas: StoreSchemas.all)
        if !quiet { Out.line("Initialized empty Strata store in \(repo.storePath)"); Out.flush() }
    }
}
