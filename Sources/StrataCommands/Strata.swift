import ArgumentParser
import Foundation
import StrataPlatform

/// The `strata` command: content-addressed versioning for data.
public struct Strata: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Content-addressed versioning for data: commits, branches, diffs and time travel for tables and evidence logs.",
        discussion: """
            Every file is identified by the SHA-256 of its bytes (check it with sha256sum). Large files are split \
            into content-defined chunks, so a new version of a big table stores only its changed chunks.
            Exit statuses are listed in docs/reference/exit-codes.md.
            """,
        version: StrataVersion.string,
        subcommands: [
            InitCommand.self, StatusCommand.self, CommitCommand.self, LogCommand.self, ShowCommand.self, LsCommand.self,
            CatCommand.self, DiffCommand.self, BranchCommand.self, SwitchCommand.self, TagCommand.self, CheckoutCommand.self,
            ResetCommand.self, ReflogCommand.self, FsckCommand.self, ConfigCommand.self,
            PruneCommand.self, GcCommand.self, RetentionCommand.self, ReproCommand.self, StagesCommand.self, DagCommand.self,
            LineageCommand.self, RunsCommand.self, ReproduceCommand.self, CatalogCommand.self, HooksCommand.self, RemoteCommand.self,
            PushCommand.self, FetchCommand.self, PullCommand.self, CloneCommand.self, TableCommand.self, BlameCommand.self, MergeCommand.self,
            ResolveCommand.self, MergeBaseCommand.self, ServeCommand.self, NamespaceCommand.self, UserCommand.self, TokenCommand.self,
            PolicyCommand.self, ProtectCommand.self, AuditCommand.self, PromoteCommand.self, CheckCommand.self, MCPCommand.self,
            UICommand.self, SiteCommand.self, WatchCommand.self,
        ]
    )

    public init() {}

    /// Runs the command line and exits with the documented status.
    public static func runMain() -> Never {
        do {
            if let status = StatusCommand.fastPath(CommandLine.arguments.dropFirst()) {
                try StatusCommand.show(json: status.json, quiet: status.quiet, directory: nil)
                Foundation.exit(0)
            }
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch let e as ExitCode {
            Foundation.exit(e.rawValue)
        } catch let e as CommandError {
            Foundation.exit(e.status)
        } catch {
            if let status = ErrorReporter.status(for: error) {
                ErrorReporter.print(error)
                Foundation.exit(status)
            }
            // Help and --version go through ArgumentParser; every real failure, bad flags included, is reported the
            // same way as the others: `strata: error: …` on stderr and a documented status (64 for usage).
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let usage = message(for: error)
            FileHandle.standardError.write(Data("strata: error: \(URLRedaction.redact(usage)); see 'strata help' or 'strata COMMAND --help'\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }
}

/// Strata's version.
public enum StrataVersion {
    /// The version string.
    public static let string = "0.1.0"
}
