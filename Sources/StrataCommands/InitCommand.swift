import Foundation
import ArgumentParser
import StrataRepository
import StrataWorkflows

/// `strata init [DIR]`.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create an empty store (.strata/) in DIR (default: the current folder).")

    @Argument(help: "Folder to create the store in.") var directory: String = "."
    @Flag(name: [.short, .long], help: "Print nothing but errors.") var quiet = false
    @Option(name: .customShort("C"), help: ArgumentHelp("Run as if strata was started in DIR.", valueName: "DIR")) var workingDirectory: String?

    func run() throws {
        if let workingDirectory { guard chdir(workingDirectory) == 0 else { throw RepositoryError.notAStore(workingDirectory) } }
        let repo = try StoreSchemas.initialize(at: directory)
        if !quiet { Out.line("Initialized empty Strata store in \(repo.storePath)"); Out.flush() }
    }
}
