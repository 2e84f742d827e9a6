import ArgumentParser
import Foundation
import StrataRepository
import StrataTables
import StrataWorkflows

/// `strata table add | list | remove | diff`.
struct TableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table", abstract: "Declare tables (format, key columns) and diff them row by row.",
        subcommands: [Add.self, List.self, Remove.self, Diff.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Declare the table at PATH (or a glob) with its key columns.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Workspace path or glob, e.g. tables/organisations.csv or tables/*.csv.") var path: String
        @Option(help: "Key columns, comma-separated (JSON pointers like /org/id for JSONL).") var key: String?
        @Option(help: "csv, tsv, jsonl, parquet, delta or iceberg (default: from the extension, or the folder's log).") var format: String?
        @Option(help: "What the table holds.") var description: String?
        @Flag(help: "An append-only log (evidence): merges keep both sides' appended records, each once; no key needed.") var appendOnly = false
        @Option(
            name: .customLong("type"),
            help:
                "A column type, COLUMN=TYPE (string, integer, decimal, double, boolean, date, timestamp); repeat for more columns. Row diffs compare that column's cells as values of the type."
        )
        var types: [String] = []

        func run() throws {
            let f = try format.map { v -> TableFormat in
                guard let f = TableFormat(rawValue: v) else {
                    throw ValidationError("--format must be one of \(TableFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return f
            }
            try TableService(repo: try global.repository()).declare(
                TableDeclaration(
                    path: path, format: f, key: (key ?? "").split(separator: ",").map(String.init), description: description, appendOnly: appendOnly,
                    types: try ColumnType.parse(types.joined(separator: ","))))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List declared tables.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        struct JSONTables: Encodable { var version = 1; var tables: [TableDeclaration] }
        func run() throws {
            let (service, warning) = TableWorkflow.service(try global.repository())
            if let warning { Out.err("strata: warning: \(warning)") }
            let all = try service.declarations()
            if json { try Out.json(JSONTables(tables: all)); return }
            for t in all {
                let key =
                    t.appendOnly == true
                    ? "append-only" + (t.key.isEmpty ? "" : ", key \(t.key.joined(separator: ","))") : "key \(t.key.joined(separator: ","))"
                let types = t.types.map { "\ttypes " + ColumnType.text($0) } ?? ""
                Out.line("\(t.path)\t\(t.format?.rawValue ?? "auto")\t\(key)\(types)\(t.description.map { "\t" + $0 } ?? "")")
            }
            Out.flush()
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Forget a table declaration (the file is untouched).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The declared path or glob.") var path: String
        func run() throws { try TableService(repo: try global.repository()).undeclare(path) }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff", abstract: "Row-level diff of a table between two revisions (or a revision and the workspace).",
            discussion: """
                Rows are paired by key (--key, else the declaration); without a key the table is compared as a multiset of rows. \
                Duplicate keys are reported and their groups diffed as multisets (--strict-keys: an error). Memory stays under \
                --memory: larger tables are partitioned to spill files. --json prints JSON Lines (docs/reference/json.md).
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var options: RowDiffOptions
        @Argument(help: "Old revision.") var a: String
        @Argument(help: "New revision, or the table's path to compare with the workspace.") var b: String
        @Argument(help: "The table's path (when two revisions are given).") var path: String?

        func run() throws {
            let repo = try global.repository()
            let (newRev, table) = path.map { (Optional(b), $0) } ?? (nil, b)
            let differences = try options.run(repo, a, newRev, path: table, quiet: global.quiet)
            if options.exitCode && differences { throw ExitCode(1) }
        }
    }
}

/// Options shared by `table diff` and `diff --rows`.
struct RowDiffOptions: ParsableArguments {
    @Option(help: "Key columns, comma-separated (overrides the declaration).") var key: String?
    @Flag(help: "Per-table counts and per-column change counts only.") var stat = false
    @Flag(help: "JSON Lines: one record per changed row, then a summary record.") var json = false
    @Option(help: "Show at most N changed rows (counts stay complete).") var limit: Int?
    @Option(name: .customLong("where"), help: ArgumentHelp("Only rows where COLUMN=VALUE (before or after).", valueName: "column=value"))
    var filter: String?
    @Flag(help: "Duplicate keys are an error.") var strictKeys = false
    @Option(help: "Memory budget for the rows (e.g. 256MB, 64MB); larger tables spill to disk.") var memory = "256MB"
    @Flag(help: "Exit with status 1 when the table differs.") var exitCode = false
    @Option(
        help: ArgumentHelp(
            "text or daff: daff's highlighter CSV (@@ header, ! schema, +++ added, --- removed, -> modified with old->new cells), which daff and Tabular Diff viewers read.",
            valueName: "format"))
    var format = "text"

    struct Summary: Encodable { var summary: TableDiffSummary; var path: String }

    /// The record closing the JSON Lines of an open table format: the table-level change under `format` (`delta`,
    /// `iceberg`), the row summary, and (Iceberg) whether rows were compared and why not.
    struct OpenTableSummary<D: Encodable>: Encodable {
        var format: String; var table: D; var summary: TableDiffSummary?; var rowsCompared: Bool?; var reason: String?
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(table, forKey: Key(format))
            try c.encode(summary, forKey: Key("summary"))
            try c.encodeIfPresent(rowsCompared, forKey: Key("rows_compared"))
            try c.encodeIfPresent(reason, forKey: Key("reason"))
        }
    }

    /// The options every row diff takes from the command line.
    func tableOptions() throws -> TableDiffOptions {
        var o = TableDiffOptions()
        if let key { o.key = key.split(separator: ",").map(String.init) }
        o.strictKeys = strictKeys
        o.memoryBudget = try RowDiffOptions.bytes(memory)
        return o
    }

    /// `--where COLUMN=VALUE`, parsed.
    func whereFilter() throws -> (String, String)? {
        try filter.map { f -> (String, String) in
            guard let eq = f.firstIndex(of: "=") else { throw ValidationError("--where takes COLUMN=VALUE") }
            return (String(f[..<eq]), String(f[f.index(after: eq)...]))
        }
    }

    /// One JSON line, keys sorted.
    static func jsonLine(_ value: some Encodable) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        Out.line(String(decoding: try enc.encode(value), as: UTF8.self))
    }

    /// Prints changed rows as they come: `--where`, `--limit`, text or JSON; nothing with --stat or --quiet.
    final class RowPrinter {
        let options: RowDiffOptions, cond: (String, String)?, silent: Bool, color: Bool
        var shown = 0
        init(_ options: RowDiffOptions, cond: (String, String)?, quiet: Bool) {
            self.options = options; self.cond = cond; silent = options.stat || quiet; color = !options.json && isatty(1) != 0
        }
        func callAsFunction(_ change: RowChange) throws {
            if silent { return }
            if let (c, v) = cond, change.before?[c] != v && change.after?[c] != v { return }
            if let limit = options.limit, shown >= limit { return }
            shown += 1
            if options.json { try RowDiffOptions.jsonLine(change) } else { Out.line(RowDiffOptions.text(change, color: color)) }
        }
    }

    /// A Delta or Iceberg table folder: the table-level change (`lines`, or `record` in JSON), then unless --stat the
    /// rows of the data files that differ; a table whose rows cannot be compared (`TableError`s that `fallback`
    /// accepts) keeps the table-level change, with the reason. True when the table changed.
    func runOpenTable<D: Encodable>(
        format: String, table d: D, lines: [String], changed: Bool, path: String, quiet: Bool, fallback: (TableError) -> Bool,
        rows: (TableDiffOptions, (RowChange) throws -> Void) throws -> TableDiffSummary
    ) throws -> Bool {
        if !json && !quiet { for line in lines { Out.line(line) } }
        var summary: TableDiffSummary?
        var reason: String?
        if !stat {
            let printer = RowPrinter(self, cond: try whereFilter(), quiet: quiet)
            do { summary = try rows(try tableOptions()) { try printer($0) } } catch let e as TableError where fallback(e) {
                reason = e.message
                if !json && !quiet { Out.err("strata: warning: rows not compared: \(e.message)") }
            }
            if let summary, !json, !quiet {
                Out.line(
                    "\(path): rows \(summary.added) added, \(summary.removed) removed, \(summary.modified) modified (from the \(summary.source ?? "changed data files"))"
                )
            }
        }
        if json {
            try RowDiffOptions.jsonLine(
                OpenTableSummary(format: format, table: d, summary: summary, rowsCompared: format == "iceberg" ? summary != nil : nil, reason: reason))
        }
        Out.flush()
        return changed
    }

    /// The table-level change of an Iceberg table as text lines.
    static func icebergText(_ d: IcebergDiff) -> [String] {
        var out = [
            "Iceberg table \(d.table): snapshot \(d.snapshotBefore.map(String.init) ?? "none") -> \(d.snapshotAfter.map(String.init) ?? "none")"
                + (d.operations.isEmpty ? "" : " (\(d.operations.joined(separator: ", ")))"),
            "  data files: +\(d.filesAdded) -\(d.filesDeleted); records: +\(d.recordsAdded) -\(d.recordsDeleted)"
                + (d.recordsAfter.map { " (\(d.recordsBefore.map(String.init) ?? "0") -> \($0))" } ?? ""),
        ]
        if !d.columnsAdded.isEmpty { out.append("  columns added: \(d.columnsAdded.joined(separator: ", "))") }
        if !d.columnsRemoved.isEmpty { out.append("  columns removed: \(d.columnsRemoved.joined(separator: ", "))") }
        for r in d.renamed { out.append("  column renamed (same field id): \(r)") }
        for t in d.retyped { out.append("  type changed: \(t)") }
        if d.formatVersionBefore != d.formatVersionAfter { out.append("  format version: \(d.formatVersionBefore) -> \(d.formatVersionAfter)") }
        if d.partitioningBefore != d.partitioningAfter {
            out.append("  partitioning: [\(d.partitioningBefore.joined(separator: ", "))] -> [\(d.partitioningAfter.joined(separator: ", "))]")
        }
        return out
    }

    /// The table-level change of a Delta table as text lines.
    static func deltaText(_ d: DeltaDiff) -> [String] {
        var out = [
            "Delta table \(d.table): version \(d.versionBefore < 0 ? "none" : String(d.versionBefore)) -> \(d.versionAfter)"
                + (d.operations.isEmpty ? "" : " (\(d.operations.joined(separator: ", ")))")
        ]
        var files = "  files: +\(d.filesAdded) -\(d.filesRemoved)"
        if d.filesRewritten > 0 { files += ", \(d.filesRewritten) rewritten without data change" }
        if let a = d.rowsAdded, let r = d.rowsRemoved { files += "; rows in them: +\(a) -\(r)" }
        out.append(files)
        if !d.columnsAdded.isEmpty { out.append("  columns added: \(d.columnsAdded.joined(separator: ", "))") }
        if !d.columnsRemoved.isEmpty { out.append("  columns removed: \(d.columnsRemoved.joined(separator: ", "))") }
        for t in d.typeChanges { out.append("  type changed: \(t)") }
        if let p = d.protocolAfter { out.append("  protocol: \(d.protocolBefore ?? "-") -> \(p)") }
        for c in d.configurationChanges { out.append("  property \(c)") }
        if !d.partitionsTouched.isEmpty { out.append("  partitions touched: \(d.partitionsTouched.joined(separator: ", "))") }
        return out
    }

    /// Runs the diff of one table and prints it; true when it differs.
    func run(_ repo: Repository, _ a: String, _ b: String?, path: String, quiet: Bool) throws -> Bool {
        let (service, warning) = TableWorkflow.service(repo)
        if try service.isDeltaTable(b, path) || service.isDeltaTable(a, path) {
            let d = try service.deltaDiff(a, b, path: path)
            return try runOpenTable(
                format: "delta", table: d, lines: RowDiffOptions.deltaText(d), changed: d.versionBefore != d.versionAfter, path: path, quiet: quiet,
                fallback: { _ in false }, rows: { try service.deltaRowDiff(a, b, path: path, options: $0, emit: $1) })
        }
        if try service.isIcebergTable(b, path) || service.isIcebergTable(a, path) {
            let d = try service.icebergDiff(a, b, path: path)
            return try runOpenTable(
                format: "iceberg", table: d, lines: RowDiffOptions.icebergText(d), changed: d.snapshotBefore != d.snapshotAfter, path: path,
                quiet: quiet, fallback: { if case .iceberg = $0 { return true } else { return false } },
                rows: { try service.icebergRowDiff(a, b, path: path, options: $0, emit: $1) })
        }
        let o = try tableOptions()
        let cond = try whereFilter()
        guard format == "text" || format == "daff" else { throw ValidationError("--format is text or daff") }
        if format == "daff" { return try runDaff(repo, a, b, path: path, options: o, filter: cond) }
        let printer = RowPrinter(self, cond: cond, quiet: quiet)
        if !json && !stat && !quiet { Out.line("--- \(path) (\(a))"); Out.line("+++ \(path) (\(b ?? "workspace"))") }
        if let warning, !quiet { Out.err("strata: warning: \(warning)") }
        let summary: TableDiffSummary
        do {
            summary = try service.diff(a, b, path: path, options: o) { try printer($0) }
        } catch let e as ParquetError {
            guard case .unsupported = e else { throw e }
            return try fileLevel(repo, a, b, path: path, reason: e.message, quiet: quiet)
        }
        if json {
            try RowDiffOptions.jsonLine(Summary(summary: summary, path: path))
        } else if !quiet {
            let s = summary.schema
            if !s.added.isEmpty { Out.line("columns added: \(s.added.joined(separator: ", "))") }
            if !s.removed.isEmpty { Out.line("columns removed: \(s.removed.joined(separator: ", "))") }
            for r in s.renamed { Out.line("column renamed: \(r[0]) -> \(r[1])") }
            if s.reordered { Out.line("columns reordered: \(s.before.joined(separator: ",")) -> \(s.after.joined(separator: ","))") }
            for t in s.retyped { Out.line("column type changed: \(t)") }
            if summary.duplicateKeys > 0 {
                Out.line(
                    "duplicate keys: \(summary.duplicateKeys) (e.g. \(summary.duplicateExamples.joined(separator: "; "))); their rows were diffed as multisets")
            }
            Out.line(
                "\(path): \(summary.added) added, \(summary.removed) removed, \(summary.modified) modified, \(summary.unchanged) unchanged"
                    + (summary.columns.isEmpty
                        ? "" : "; changed values: " + summary.columns.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        }
        Out.flush()
        return !summary.isEmpty
    }

    struct FileLevel: Encodable {
        var path: String; var rows_compared = false; var reason: String; var status: String?; var before: String?; var after: String?
    }

    /// A table whose rows cannot be read (an unsupported Parquet encoding or codec): the file-level change, never a
    /// guessed row diff.
    func fileLevel(_ repo: Repository, _ a: String, _ b: String?, path: String, reason: String, quiet: Bool) throws -> Bool {
        let change = try repo.diff(a, b, paths: [path]).first
        if json {
            try Out.json(
                FileLevel(path: path, reason: reason, status: change?.status.rawValue, before: change?.old?.id.hex, after: change?.new?.id.hex))
        } else if !quiet {
            Out.err("strata: warning: rows not compared: \(reason); showing the file-level change")
            Out.line("\(path): " + (change.map { "\($0.status.rawValue) (\($0.old?.id.short ?? "-") -> \($0.new?.id.short ?? "-"))" } ?? "unchanged"))
        }
        Out.flush()
        return change != nil
    }

    /// daff's highlighter format (https://paulfitz.github.io/daff-doc/spec.html): the changes are collected (they are
    /// proportional to the change), then written with the header of the new version plus removed columns.
    func runDaff(_ repo: Repository, _ a: String, _ b: String?, path: String, options: TableDiffOptions, filter: (String, String)?) throws -> Bool {
        var changes: [RowChange] = []
        let summary = try TableWorkflow.service(repo).0.diff(a, b, path: path, options: options) { c in
            if let (col, v) = filter, c.before?[col] != v && c.after?[col] != v { return }
            if let limit, changes.count >= limit { return }
            changes.append(c)
        }
        let s = summary.schema
        let renamedTo = Dictionary(uniqueKeysWithValues: s.renamed.map { ($0[1], $0[0]) })
        let columns = s.after + s.removed
        func cell(_ v: String?) -> String {
            guard let v else { return "NULL" }
            if v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r") {
                return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return v
        }
        func line(_ tag: String, _ cells: [String]) { Out.line(([tag] + cells).joined(separator: ",")) }
        if !s.added.isEmpty || !s.removed.isEmpty || !s.renamed.isEmpty {
            line("!", columns.map { c in s.added.contains(c) ? "+++" : s.removed.contains(c) ? "---" : renamedTo[c].map { "(\($0))" } ?? "" })
        }
        line("@@", columns.map(cell))
        // One separator for the whole table, which is also the tag of modified rows: "->", lengthened while any
        // changed value contains it (as daff does).
        var sep = "->"
        while changes.contains(where: { c in
            (c.changed ?? []).contains { col in (c.before?[renamedTo[col] ?? col] ?? "").contains(sep) || (c.after?[col] ?? "").contains(sep) }
        }) { sep = "-" + sep }
        for c in changes {
            switch c.op {
            case .added: line("+++", columns.map { cell(c.after?[$0]) })
            case .removed: line("---", columns.map { cell(c.before?[renamedTo[$0] ?? $0] ?? c.before?[$0]) })
            case .modified:
                line(
                    sep,
                    columns.map { col in
                        let old = c.before?[renamedTo[col] ?? col], new = c.after?[col]
                        guard (c.changed ?? []).contains(col), let old, let new else { return cell(new ?? old) }
                        return cell(old + sep + new)
                    })
            }
        }
        Out.flush()
        return !summary.isEmpty
    }

    static func text(_ c: RowChange, color: Bool) -> String {
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        // Line breaks and tabs inside values are shown escaped, so one change stays on one line.
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
                .replacingOccurrences(of: "\t", with: "\\t")
        }
        let key = c.key.map { k in k.keys.sorted().map { "\($0)=\(esc(k[$0]!))" }.joined(separator: ",") }
        func row(_ r: Row?) -> String { (r ?? [:]).keys.sorted().map { "\($0)=\(esc(r![$0]!))" }.joined(separator: " ") }
        let dup = c.duplicateKey == true ? " (duplicate key)" : ""
        switch c.op {
        case .added: return paint("+ " + (key.map { $0 + "  " } ?? "") + row(c.after) + dup, "32")
        case .removed: return paint("- " + (key.map { $0 + "  " } ?? "") + row(c.before) + dup, "31")
        case .modified:
            let parts = (c.changed ?? []).map { "\($0): \(esc(c.before?[$0] ?? "∅")) → \(esc(c.after?[$0] ?? "∅"))" }
            return paint("~ " + (key ?? "") + "  " + parts.joined(separator: "; "), "33")
        }
    }

    /// `256MB`, `64M`, `1GB`, or bytes.
    static func bytes(_ text: String) throws -> Int {
        let t = text.uppercased().replacingOccurrences(of: "B", with: "")
        let units: [(String, Int)] = [("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]
        for (u, m) in units where t.hasSuffix(u) {
            if let n = Int(t.dropLast()), n > 0 { return n * m }
        }
        guard let n = Int(t), n > 0 else { throw ValidationError("--memory takes a size like 256MB") }
        return n
    }
}

/// Declared keys for commands that need them before calling a workflow.
enum StrataTablesBridge {
    static func declaredKey(_ repo: Repository, _ path: String) throws -> [String] {
        try TableWorkflow.service(repo).0.declaration(for: try repo.relativePath(path))?.key ?? []
    }
}
