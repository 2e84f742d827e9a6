import Foundation
import StrataModel
import StrataPlatform
import StrataRemote
import StrataRepository

/// What `strata audit revert` did.
public struct RevertOutcome: Sendable, Equatable {
    /// The ref put back.
    public var ref: String
    /// The namespace.
    public var namespace: String
    /// Where it pointed (nil: it did not exist).
    public var from: ObjectID?
    /// Where it points now (nil: deleted, because the entry created it).
    public var to: ObjectID?
}

/// Administration run on the server's machine, against the server root (the same records the running server uses).
public enum ServerAdmin {
    /// Puts a ref back where an audit entry found it: the entry's `old` id (or deletes the ref when the entry created
    /// it, or recreates it when the entry deleted it). Refused when the ref has moved since the entry (the entry is no
    /// longer the last word), or when the old commit's objects are gone from the remote (a gc collected them). The
    /// move is compare-and-swap on the remote and is itself audited (`ref.restore`).
    public static func revert(_ store: ServerStore, seq: Int64, actor: String, environment: [String: String]) throws -> RevertOutcome {
        guard let entry = try store.auditLog().first(where: { $0.seq == seq }) else { throw ServerError.unknown(kind: "audit entry", name: String(seq)) }
        guard ["ref.create", "ref.update", "ref.force", "ref.delete", "ref.restore"].contains(entry.action) else {
            throw ServerError.badRequest("audit entry \(seq) is a '\(entry.action)', not a ref move")
        }
        guard let storage = try store.namespaces().first(where: { $0.name == entry.namespace })?.storage else {
            throw ServerError.unknown(kind: "namespace", name: entry.namespace)
        }
        let ns = try Namespace(root: store.root, name: entry.namespace, storage: storage, environment: environment)
        let ref = entry.target
        ns.lock.lock()
        defer { ns.lock.unlock() }
        let current = try ns.backend.get(ref)
        let now = current.flatMap { RemoteRefValue.decode($0.bytes) }
        guard now?.hex ?? "" == entry.new else {
            throw ServerError.badRequest(
                "'\(ref)' has moved since audit entry \(seq) (it is at \(now?.short ?? "nothing") now); revert the later entry first")
        }
        let old = entry.old.isEmpty ? nil : ObjectID(hex: entry.old)
        if let old {
            try ns.mirror.withWriteLock { try ns.checkComplete(old, ref: ref) }
            let bytes = RemoteRefValue(target: old).encoded()
            let outcome = try current.map { try ns.backend.put(ref, bytes, ifMatch: $0.etag) } ?? ns.backend.create(ref, bytes)
            guard case .written = outcome else { throw ServerError.badRequest("'\(ref)' moved during the revert; look at the audit log and try again") }
        } else if current != nil {
            try ns.backend.delete(ref)
        }
        try ns.mirror.withWriteLock { try ns.mirror.updateRef(ref, expected: try ns.mirror.ref(ref), new: old, message: "server: audit revert \(seq)") }
        try store.audit(
            actor: actor, action: "ref.restore", namespace: entry.namespace, target: ref, old: now?.hex ?? "", new: old?.hex ?? "", source: "cli")
        return RevertOutcome(ref: ref, namespace: entry.namespace, from: now, to: old)
    }
}
