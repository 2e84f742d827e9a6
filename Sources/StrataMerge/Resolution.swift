import Foundation
import StrataDiff
import StrataModel
import StrataPlatform
import StrataRepository
import StrataTables

/// Which version `strata resolve` takes.
public enum ResolveSide: String, Sendable, CaseIterable {
    /// The merge base's version.
    case base
    /// Our version.
    case ours
    /// Their version.
    case theirs
}

/// What `strata resolve` did.
public struct Resolution: Sendable {
    /// The path.
    public var path: String
    /// Rows still conflicting in it (0: resolved).
    public var remainingRows: Int
    /// Conflicts left in the whole merge.
    public var remaining: Int
}

extension Merger {
    /// The merge in progress, after finishing a workspace write a crash interrupted.
    func current() throws -> MergeState {
        guard let s = try repo.resumeMergeWrite() else { throw RepositoryError.noMergeInProgress }
        return s
    }

    /// Resolves a conflicted path: with a side, the whole file becomes that side's version (absent on that side:
    /// removed); without one, the workspace file is taken as it is (edited by hand). The conflict file goes.
    public func resolve(_ rawPath: String, side: ResolveSide?) throws -> Resolution {
        var state = try current()
        let path = try repo.relativePath(rawPath)
        guard let i = state.conflicts.firstIndex(where: { $0.path == path }) else {
            throw RepositoryError.invalidArgument(
                "'\(path)' is not conflicted in this merge; conflicted: \(state.unresolved.map(\.path).joined(separator: ", "))")
        }
        let c = state.conflicts[i]
        if let side {
            let v: FileVersion? = side == .base ? c.base : side == .ours ? c.ours : c.theirs
            try repo.placeVersion(path, v)
        } else if c.kind == .rows, try Posix.lstat(repo.root + "/" + Merger.conflictFile(path)) != nil {
            // Hand-resolved rows: the conflict file must have gone (or been emptied) first.
            let left = try conflictLines(path).count
            if left > 0 {
                throw RepositoryError.invalidArgument(
                    "\(left) row conflict\(left == 1 ? "" : "s") remain in \(Merger.conflictFile(path)); resolve rows with --key K --ours|--theirs, or the file with --ours|--theirs"
                )
            }
        }
        if let s = c.sidecar { try repo.placeVersion(s, nil) }
        state.conflicts[i].resolved = true
        state.conflicts[i].rows = 0
        try repo.updateMergeConflicts(state.conflicts)
        return Resolution(path: path, remainingRows: 0, remaining: state.unresolved.count)
    }

    /// Resolves one conflicting row of a table (its key as `VALUE`, or `COL=VALUE[,COL=VALUE]`): the row becomes our or
    /// their version (absent there: removed) in the workspace table, and leaves the conflict file. The table is
    /// resolved when its last row is.
    public func resolveRow(_ rawPath: String, key: String, side: ResolveSide) throws -> Resolution {
        var state = try current()
        let path = try repo.relativePath(rawPath)
        guard let i = state.conflicts.firstIndex(where: { $0.path == path && $0.kind == .rows && !$0.resolved }) else {
            throw RepositoryError.invalidArgument("'\(path)' has no conflicting rows; resolve the whole file with --ours|--theirs|--base")
        }
        guard side != .base else { throw RepositoryError.invalidArgument("a row is resolved with --ours or --theirs") }
        guard let decl = try tables.declaration(for: path), let format = decl.format ?? TableFormat.guess(path) else {
            throw TableError.notATable(path)
        }
        let wanted = try parseKey(key, columns: decl.key)
        var lines = try conflictLines(path)
        guard let at = lines.firstIndex(where: { ($0["key"] as? [String: String]) == wanted }) else {
            throw RepositoryError.invalidArgument("no conflicting row with key \(key) in \(Merger.conflictFile(path))")
        }
        let chosen = lines[at][side.rawValue] as? [String: Any]
        try rewriteRow(path, format: format, key: decl.key, wanted: wanted, with: chosen)
        lines.remove(at: at)
        let sidePath = repo.root + "/" + Merger.conflictFile(path)
        if lines.isEmpty {
            try Posix.unlink(sidePath)
            state.conflicts[i].resolved = true
        } else {
            var bytes: [UInt8] = []
            for l in lines {
                bytes += Array(try JSONSerialization.data(withJSONObject: l, options: [.sortedKeys, .withoutEscapingSlashes])); bytes.append(10)
            }
            try Posix.writeAtomically(sidePath, bytes)
        }
        state.conflicts[i].rows = lines.count
        try repo.updateMergeConflicts(state.conflicts)
        return Resolution(path: path, remainingRows: lines.count, remaining: state.unresolved.count)
    }

    func parseKey(_ text: String, columns: [String]) throws -> [String: String] {
        if !text.contains("=") {
            guard columns.count == 1 else { throw RepositoryError.invalidArgument("the key has \(columns.count) columns: give --key COL=VALUE,COL=VALUE") }
            return [columns[0]: text]
        }
        var out: [String: String] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, columns.contains(kv[0]) else {
                throw RepositoryError.invalidArgument("'\(part)' is not COL=VALUE for a key column (\(columns.joined(separator: ", ")))")
            }
            out[kv[0]] = kv[1]
        }
        guard out.count == columns.count else { throw RepositoryError.invalidArgument("give every key column: \(columns.joined(separator: ", "))") }
        return out
    }

    func conflictLines(_ path: String) throws -> [[String: Any]] {
        let file = repo.root + "/" + Merger.conflictFile(path)
        guard let bytes = try? Posix.readFile(file) else { return [] }
        return try bytes.split(separator: 10).enumerated().map { n, line in
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                throw RepositoryError.invalidArgument(
                    "line \(n + 1) of \(Merger.conflictFile(path)) is not a JSON object (edited by hand?); resolve the whole file with 'strata resolve \(path) --ours|--theirs|--base', or 'strata merge --abort'"
                )
            }
            return obj
        }
    }

    /// Rewrites the workspace table with the row of `wanted` key replaced by `row` (nil: removed; absent: appended).
    func rewriteRow(_ path: String, format: TableFormat, key: [String], wanted: [String: String], with row: [String: Any]?) throws {
        let full = repo.root + "/" + path
        let tmp = repo.storePath + "/tmp/resolve-" + Posix.randomHex(6)
        try Posix.makeDirectories(repo.storePath + "/tmp")
        let fd = try Posix.createFile(tmp)
        defer { close(fd); try? Posix.unlink(tmp) }
        try TableMerge.replaceRow(
            format: format, source: TableService.fileSource(full), key: key, wanted: wanted, with: row,
            output: { try Posix.writeAll(fd, $0, path: tmp) })
        fsync(fd)
        try Posix.rename(tmp, full)
    }

    // MARK: Continue and abort

    /// Concludes the merge: every conflict must be resolved; the `PATH.theirs` copies are removed; the workspace is
    /// committed with both parents.
    public func conclude(message: String? = nil, author: Signature? = nil, progress: ProgressHandler? = nil) throws -> CommitResult {
        let state = try current()
        let open = state.unresolved.map(\.path)
        if !open.isEmpty { throw RepositoryError.unresolvedConflicts(open) }
        for c in state.conflicts {
            if let s = c.sidecar, s.hasSuffix(".theirs") { try repo.placeVersion(s, nil) }
            if c.kind == .rows, try Posix.lstat(repo.root + "/" + Merger.conflictFile(c.path)) != nil {
                throw RepositoryError.invalidArgument("\(Merger.conflictFile(c.path)) is still in the workspace; remove it or resolve \(c.path) again")
            }
        }
        var options = CommitOptions(message: message ?? state.message)
        options.author = author
        options.concludeMerge = true
        return try repo.commit(options, progress: progress)
    }

    /// Abandons the merge: the workspace returns to HEAD as it was before the merge, byte for byte.
    public func abort(progress: ProgressHandler? = nil) throws -> MergeState {
        try repo.abortMerge(progress: progress)
    }
}
