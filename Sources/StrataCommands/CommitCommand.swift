import ArgumentParser
import StrataWorkflows
import StrataModel
import StrataPlatform
import StrataRepository

/// `strata commit`.
struct CommitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit", abstract: "Record a snapshot of the workspace (or of PATHs) on the current branch.",
        discussion: "Prints the new commit id. Exits with status 2 when there is nothing to commit, 24 when the installed pre-commit hook refuses.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Commit message.") var message: String
    @Option(help: ArgumentHelp("Author as \"Name <email>\" (default: STRATA_AUTHOR, then config user.name/user.email).", valueName: "author")) var author:
        String?
    @Option(help: ArgumentHelp("Commit time, ISO-8601 (e.g. 2026-01-05T12:00:00Z).", valueName: "date")) var date: String?
    @Flag(help: "Record a commit even when nothing changed.") var allowEmpty = false
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Fail when the lineage events cannot be delivered (default: they wait in the store).") var requireLineage = false
    @Flag(help: "Do not run the installed pre-commit hook (.strata/hooks/pre-commit).") var noVerify = false
    @Argument(help: "Only commit these paths (the rest stays as in the parent commit).") var paths: [String] = []

    struct JSONResult: Encodable {
        var version = 1
        var id: String; var branch: String?; var objects_written: Int; var bytes_written: Int64; var changes: [JSONChange]
    }

    func run() throws {
        let repo = try global.repository()
        var opts = CommitOptions(message: message)
        opts.allowEmpty = allowEmpty
        if let author { opts.author = try Signature(parsing: author) }
        if let date {
            guard let (t, off) = Format.parseDate(date) else {
                throw ValidationError("--date '\(date)' is not ISO-8601 (e.g. 2026-01-05T12:00:00Z)")
            }
            opts.time = t; opts.timeZoneOffsetMinutes = off
        }
        if !paths.isEmpty { opts.paths = paths }
        let (handler, printer) = ProgressPrinter.handler(quiet: global.quiet || json)
        let outcome: CommitWorkflow.Outcome
        do { outcome = try CommitWorkflow.commit(repo, opts, lineage: LineageOptions(require: requireLineage), verify: !noVerify, progress: handler) } catch {
            printer?.finish(); throw error
        }
        printer?.finish()
        let r = outcome.commit
        LineageWarning.print(outcome.deliveryWarning, quiet: global.quiet || json)
        if json {
            // The changes are written one at a time, as read (a first commit of a million files holds none of them).
            try Out.json(
                JSONResult(id: r.id.hex, branch: r.branch?.rawValue, objects_written: r.objectsWritten, bytes_written: r.bytesWritten, changes: []),
                streaming: "changes", r.changeCount > 0 ? { each in try repo.forEachChange(of: r) { try each(JSONChange($0)) } } : nil)
            return
        }
        if global.quiet { Out.line(r.id.hex); Out.flush(); return }
        let counts = r.counts
        let summary = [("added", Change.Status.added), ("modified", .modified), ("deleted", .deleted), ("renamed", .renamed)]
            .compactMap { name, s in counts[s].map { "\($0) \(name)" } }.joined(separator: ", ")
        Out.line("[\(r.branch?.rawValue ?? "detached") \(r.id.short)] \(message.textLines(omittingEmpty: true).first ?? "")")
        Out.line(" \(summary.isEmpty ? "no file changes" : summary); \(r.objectsWritten) new objects, \(Format.bytes(UInt64(r.bytesWritten))) stored")
        Out.line(r.id.hex)
        Out.flush()
    }
}

import StrataDiff
