import StrataModel
import StrataPlatform
import StrataRefs

extension Repository {
    /// Creates a branch at `start` (default HEAD).
    public func createBranch(_ name: String, at start: String? = nil) throws -> ObjectID {
        let b = try BranchName(name)
        return try withWriteLock {
            let target = try resolve(start ?? "HEAD")
            if try refs.branch(b) != nil { throw RefError.exists(name) }
            try refs.updateBranch(b, expected: nil, new: target, message: "branch: created from \(start ?? "HEAD")", time: Posix.nowNs() / 1_000_000_000)
            return target
        }
    }

    /// Deletes a branch (not the checked-out one).
    public func deleteBranch(_ name: String) throws -> ObjectID {
        let b = try BranchName(name)
        return try withWriteLock {
            guard let old = try refs.branch(b) else { throw RefError.notFound(name) }
            if try currentBranch() == b { throw RefError.deletingCurrentBranch(name) }
            try refs.updateBranch(b, expected: old, new: nil, message: "branch: deleted", time: Posix.nowNs() / 1_000_000_000)
            return old
        }
    }

    /// Creates a tag (annotated when `message` is given).
    public func createTag(_ name: String, at revision: String? = nil, message: String? = nil) throws -> ObjectID {
        let t = try TagName(name)
        return try withWriteLock {
            let target = try resolve(revision ?? "HEAD")
            if try refs.tag(t) != nil { throw RefError.exists(name) }
            try refs.updateTag(
                t, expected: nil, new: target, message: message, tagger: message == nil ? nil : try defaultAuthor().description,
                time: Posix.nowNs() / 1_000_000_000)
            return target
        }
    }

    /// Deletes a tag.
    public func deleteTag(_ name: String) throws -> ObjectID {
        let t = try TagName(name)
        return try withWriteLock {
            guard let old = try refs.tag(t) else { throw RefError.notFound(name) }
            try refs.updateTag(t, expected: old.target, new: nil, message: nil, tagger: nil, time: Posix.nowNs() / 1_000_000_000)
            return old.target
        }
    }

    /// Reflog entries of a ref (user name like `main`, `v1` or `HEAD`), or of all refs.
    public func reflog(_ ref: String?) throws -> [ReflogEntry] {
        guard let ref else { return try refs.reflog(nil) }
        guard let full = try refs.fullName(of: ref) else {
            // A deleted branch still has its log.
            let asBranch = "refs/heads/" + ref
            let entries = try refs.reflog(asBranch)
            if !entries.isEmpty { return entries }
            throw RepositoryError.unknownRevision(ref)
        }
        return try refs.reflog(full)
    }
}
