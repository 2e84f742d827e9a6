import ArgumentParser
import Foundation
import StrataPlatform
import StrataRepository
import StrataTables
import StrataWorkflows

/// `strata show`.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a commit and the files it changed against its first parent; REV:PATH shows a file, folder or table.",
        discussion: """
            REV:PATH on a Delta table folder prints its table version, protocol, schema, partition columns, file and row counts and \
            history; on a file, its bytes (as 'strata cat'); on another folder, its entries.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Revision.") var ref: String = "HEAD"
    @Flag(help: "Print JSON.") var json = false

    struct JSONShow: Encodable { var version = 1; var commit: JSONCommit; var changes: [JSONChange] }

    struct JSONDelta: Encodable {
        struct Field: Encodable { var name: String; var type: String }
        struct Entry: Encodable { var version: Int64; var operation: String; var timestamp: Int64? }
        var version = 1; var table: String; var commit: String; var delta_version: Int64; var checkpoint: Int64?; var files: Int; var rows: Int64?;
        var bytes: Int64
        var protocol_: String; var partition_columns: [String]; var schema: [Field]; var configuration: [String: String]; var history: [Entry]
        enum CodingKeys: String, CodingKey {
            case version, table, commit, delta_version, checkpoint, files, rows, bytes
            case protocol_ = "protocol"
            case partition_columns, schema, configuration, history
        }
    }

    func showPath(_ repo: Repository, _ rev: String, _ path: String) throws {
        let id = try repo.resolve(rev)
        let tables = TableWorkflow.service(repo).0
        if try tables.isDeltaTable(rev, path) {
            let snap = try tables.deltaSnapshot(rev, path)
            let bytes = snap.files.values.reduce(Int64(0)) { $0 + $1.size }
            if json {
                try Out.json(
                    JSONDelta(
                        table: path, commit: id.hex, delta_version: snap.version, checkpoint: snap.checkpoint, files: snap.files.count, rows: snap.rows,
                        bytes: bytes,
                        protocol_: snap.protocolText, partition_columns: snap.partitionColumns, schema: snap.schema.map { .init(name: $0.name, type: $0.type) },
                        configuration: snap.configuration,
                        history: snap.history.map { .init(version: $0.version, operation: $0.operation, timestamp: $0.timestamp) }))
                return
            }
            Out.line("Delta table \(path) at \(id.short): version \(snap.version)")
            Out.line("files:    \(snap.files.count) (\(bytes) bytes), rows: \(snap.rows.map(String.init) ?? "unknown (no statistics)")")
            Out.line("protocol: \(snap.protocolText)")
            if !snap.partitionColumns.isEmpty { Out.line("partitioned by: \(snap.partitionColumns.joined(separator: ", "))") }
            Out.line("schema:")
            for f in snap.schema { Out.line("  \(f.name) \(f.type)") }
            for (k, v) in snap.configuration.sorted(by: { $0.key < $1.key }) { Out.line("property \(k) = \(v)") }
            Out.line("history:" + (snap.checkpoint.map { " (the versions after the checkpoint of version \($0))" } ?? ""))
            for h in snap.history.reversed() {
                Out.line("  \(h.version)  \(h.operation.isEmpty ? "-" : h.operation)" + (h.timestamp.map { "  " + Format.date($0 / 1000) } ?? ""))
            }
            Out.flush()
            return
        }
        if try tables.isIcebergTable(rev, path) {
            let snap = try tables.icebergSnapshot(rev, path)
            Out.line("Iceberg table \(path) at \(id.short): format version \(snap.formatVersion), \(snap.metadataFile)")
            Out.line(
                "snapshot: \(snap.current.map(String.init) ?? "none"), records: \(snap.total("total-records").map(String.init) ?? "-"), data files: \(snap.total("total-data-files").map(String.init) ?? "-")"
            )
            if !snap.partitioning.isEmpty { Out.line("partitioned by: \(snap.partitioning.joined(separator: ", "))") }
            Out.line("schema:")
            for f in snap.schema { Out.line("  \(f.id) \(f.name) \(f.type)") }
            Out.line("history:")
            for s in snap.ancestry { Out.line("  \(s.id)  \(s.operation)  \(Format.date(s.timestamp / 1000))") }
            Out.flush()
            return
        }
        guard let e = try repo.entry(at: try repo.relativePath(path), in: id) else { throw RepositoryError.pathNotFound(path, revision: rev) }
        if e.kind == .directory {
            for entry in try repo.tree(e.id).entries { Out.line(entry.name + (entry.kind == .directory ? "/" : "")) }
            Out.flush()
            return
        }
        try repo.cat(id.hex, path: try repo.relativePath(path)) { Out.raw($0) }
        Out.flush()
    }

    func run() throws {
        let repo = try global.repository()
        if let colon = ref.firstIndex(of: ":") {
            return try showPath(repo, String(ref[..<colon]).isEmpty ? "HEAD" : String(ref[..<colon]), String(ref[ref.index(after: colon)...]))
        }
        let id = try repo.resolve(ref)
        let info = CommitInfo(id: id, commit: try repo.commit(id))
        let pruned = ((try? repo.prunedCommits()) ?? []).contains(id)
        if json {
            // The changes are written as they are read: a first commit of a million files holds none of them.
            try Out.json(JSONShow(commit: JSONCommit(info, pruned: pruned), changes: []), streaming: "changes") { each in
                try repo.forEachChange(ofCommit: id) { try each(JSONChange($0)) }
            }
            return
        }
        Out.line("commit \(id.hex)\(pruned ? " (pruned: data released)" : "")")
        Out.line("Tree:   \(info.commit.tree.hex)")
        for p in info.commit.parents { Out.line("Parent: \(p.hex)") }
        Out.line("Author: \(info.commit.author)")
        Out.line("Date:   \(Format.date(info.commit.time, offsetMinutes: info.commit.timeZoneOffsetMinutes))")
        Out.line("")
        for l in info.commit.message.textLines() { Out.line("    \(l)") }
        Out.line("")
        try repo.forEachChange(ofCommit: id) { c in Out.line("\(Format.statusLetter(c.status))  \(c.displayPath)") }
        Out.flush()
    }
}
