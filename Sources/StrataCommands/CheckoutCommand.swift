import ArgumentParser
import StrataRepository
import StrataWorkflows

/// `strata checkout`.
struct CheckoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout", abstract: "Make the workspace match REF and move HEAD there; with -- PATH..., restore only those paths.",
        discussion: "HEAD is detached unless REF is a branch. Refuses to overwrite uncommitted changes unless --force.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .shortAndLong, help: "Discard uncommitted changes that would be overwritten.") var force = false
    @Argument(help: "Revision to check out.") var ref: String
    @Argument(parsing: .postTerminator, help: "Only restore these paths (after --); HEAD does not move.") var paths: [String] = []

    func run() throws {
        let repo = try global.repository()
        let (handler, printer) = ProgressPrinter.handler(quiet: global.quiet)
        do {
            if !paths.isEmpty {
                let r = try repo.checkoutPaths(ref, paths: paths, force: force, progress: handler)
                printer?.finish()
                if !global.quiet { Out.line("Restored \(r.written) files from \(r.commit.short)"); Out.flush() }
                return
            }
            let r = try MonitorWorkflow.checkout(repo, ref, force: force, progress: handler)
            printer?.finish()
            if !global.quiet {
                let where_ = r.branch.map { "branch '\($0)'" } ?? "detached HEAD at \(r.commit.short)"
                Out.line("Checked out \(where_): \(r.written) files written (\(Format.bytes(r.bytes))), \(r.removed) removed")
                Out.flush()
            }
        } catch { printer?.finish(); throw error }
    }
}
