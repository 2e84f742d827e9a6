import ArgumentParser
import Foundation
import StrataRepository
import StrataWorkflows

/// `strata blame`.
struct BlameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blame", abstract: "For each row of a table, the commit that last added or changed it, and the stage run that wrote it.",
        discussion: """
            Rows are identified by the table's key (declared with 'strata table add', or --columns); a keyless table is \
            blamed by whole rows. Walks first-parent history from REV, diffing each version of the table with its parent's.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The table's path.") var path: String
    @Argument(help: "Revision (default HEAD).") var revision = "HEAD"
    @Option(help: "Key columns, comma-separated (default: the declaration's).") var columns: String?
    @Option(help: "Only the row with this key value (comma-separated for a composite key, in key order).") var key: String?
    @Flag(help: "Print JSON Lines: one record per row.") var json = false

    struct JSONLine: Encodable { var key: [String: String]; var commit: String; var author: String; var time: String; var run: String? }

    func run() throws {
        let repo = try global.repository()
        let cols = columns.map { $0.split(separator: ",").map(String.init) } ?? []
        var only: [String: String]?
        if let key {
            let names = cols.isEmpty ? (try StrataTablesBridge.declaredKey(repo, path)) : cols
            let values = key.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard !names.isEmpty, names.count == values.count else {
                throw ValidationError("--key needs one value per key column (\(names.joined(separator: ",")))")
            }
            only = Dictionary(uniqueKeysWithValues: zip(names, values))
        }
        let lines = try BlameWorkflow.blame(repo, revision: revision, path: path, key: cols, onlyKey: only)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var dates: [Int64: String] = [:]  // formatting a date is slow; commits are few
        func date(_ t: Int64) -> String {
            if let d = dates[t] { return d }
            let d = Format.date(t)
            dates[t] = d
            return d
        }
        for l in lines {
            if json {
                Out.line(
                    String(
                        decoding: try enc.encode(JSONLine(key: l.key, commit: l.commit.hex, author: l.author, time: date(l.time), run: l.run)),
                        as: UTF8.self))
                continue
            }
            let k = l.key.keys.sorted().map { "\($0)=\(l.key[$0]!)" }.joined(separator: ",")
            Out.line(
                "\(l.commit.short) \(date(l.time)) \(l.author)\(l.run.map { " run \($0)" } ?? "")  \(k.replacingOccurrences(of: "\n", with: "\\n"))")
        }
        Out.flush()
    }
}
