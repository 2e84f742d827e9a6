import Foundation
import StrataLineage
import StrataModel
import StrataPlatform
import StrataRemote
import StrataRepository

/// Where a pushed body waits while it is checked: in memory (refs, index fragments) or in a file (packs).
enum Body {
    case bytes([UInt8])
    case file(path: String, sha256: String, size: Int64)
}

/// The outcome of a store request, for the HTTP layer to render.
enum StoreAnswer {
    /// 200 with the object (or a slice of it, 206, when `range` is set: offset and total size unknown → `*`).
    case object(bytes: [UInt8], etag: String, partial: (offset: Int64, length: Int)?)
    /// 200 with an entity tag and no body (HEAD, PUT).
    case etag(String)
    /// 204.
    case deleted
    /// 404.
    case notFound
    /// 412: the condition failed.
    case conditionFailed
    /// 200 with a listing page.
    case listing([ListedObject], next: String?)
}

/// The store protocol (`/{namespace}/store/{key}`): each request checked against the caller's role and the branch's
/// protection, each pushed pack and index fragment verified before it is published, each ref move recorded in the
/// audit log. `ServerCore` calls these off the event loop (they block on storage).
extension ServerCore {
    func scope(_ c: KeyClass) -> Scope {
        switch c {
        case .ref(_, let short, _): .ref(short)
        case .lease: .namespace
        default: .anyRef
        }
    }

    /// Throws 401 for anonymous callers and 404 (never revealing the namespace) for signed-in ones without a role.
    func requireRead(_ p: Principal, _ ns: String) throws {
        if try store.role(for: p, namespace: ns, scope: .anyRef) == nil {
            if p.user == nil { throw ServerError.unauthenticated("this server needs a token") }
            throw ServerError.unknown(kind: "namespace", name: ns)
        }
    }

    func require(_ needed: Role, _ p: Principal, _ ns: String, _ scope: Scope, action: String, target: String) throws -> Role {
        try requireRead(p, ns)
        let role = try store.role(for: p, namespace: ns, scope: scope)
        guard let role, role >= needed else { throw ServerError.forbidden(action: action, needed: needed, target: target) }
        return role
    }

    func storeGet(_ p: Principal, _ ns: Namespace, key: String, range: (Int64, Int)?, headOnly: Bool) throws -> StoreAnswer {
        try requireRead(p, ns.name)
        let c = try KeyClass(key)
        if case .ref(_, let short, _) = c, try store.role(for: p, namespace: ns.name, scope: .ref(short)) == nil { return .notFound }
        if headOnly { return try ns.backend.head(key).map { .etag($0) } ?? .notFound }
        if let (offset, length) = range {
            do {
                let bytes = try ns.backend.getRange(key, offset: offset, length: length)
                metrics.fetchReads.increment()
                metrics.fetchBytes.increment(by: Int64(bytes.count))
                return .object(bytes: bytes, etag: "", partial: (offset, bytes.count))
            } catch RemoteError.notFound { return .notFound }
        }
        guard let o = try ns.backend.get(key) else { return .notFound }
        metrics.fetchReads.increment()
        metrics.fetchBytes.increment(by: Int64(o.bytes.count))
        return .object(bytes: o.bytes, etag: o.etag, partial: nil)
    }

    func storeList(_ p: Principal, _ ns: Namespace, prefix: String, after: String?) throws -> StoreAnswer {
        try requireRead(p, ns.name)
        if !prefix.isEmpty && (prefix.hasPrefix("/") || prefix.contains("..") || prefix.utf8.contains(0)) {
            throw ServerError.badRequest("'\(prefix)' is not a key prefix")
        }
        var page: [ListedObject] = []
        let grants = try store.grants()
        for o in try ns.backend.listDetailed(prefix: prefix) {
            if let after, !Array(after.utf8).lexicographicallyPrecedes(Array(o.key.utf8)) { continue }
            if case .ref(_, let short, _)? = try? KeyClass(o.key), ServerStore.role(for: p, namespace: ns.name, scope: .ref(short), in: grants) == nil {
                continue
            }
            page.append(o)
            if page.count == 1000 { return .listing(page, next: o.key) }
        }
        return .listing(page, next: nil)
    }

    /// A create (`ifMatch` nil, `If-None-Match: *`) or a compare-and-swap.
    func storePut(_ p: Principal, _ ns: Namespace, key: String, body: Body, ifMatch: String?, source: String) throws -> StoreAnswer {
        let c = try KeyClass(key)
        switch c {
        case .ref(let full, let short, let isTag):
            let role = try require(.writer, p, ns.name, .ref(short), action: "moving", target: full)
            guard case .bytes(let bytes) = body, let target = RemoteRefValue.decode(bytes), RemoteRefValue(target: target).encoded() == bytes else {
                throw ServerError.badRequest("the body of '\(full)' is not a strata ref value")
            }
            return try moveRef(p, ns, full: full, short: short, isTag: isTag, role: role, target: target, bytes: bytes, ifMatch: ifMatch, source: source)
        case .pack(let id):
            _ = try require(.writer, p, ns.name, .anyRef, action: "pushing", target: key)
            guard ifMatch == nil, case .file(let path, let sha, let size) = body else { throw ServerError.badRequest("packs are created once, never replaced") }
            guard sha == id else { throw ServerError.verification(key: key, reason: "its content hashes to \(sha), not to its name") }
            do { _ = try RemoteLayout.verifyPack(path: path, name: id) } catch { throw ServerError.verification(key: key, reason: "\(error)") }
            metrics.packsReceived.increment()
            metrics.packBytesReceived.increment(by: size)
            return try answer(ns.backend.createFile(key, path: path, sha256: sha, size: size))
        case .index(let id):
            _ = try require(.writer, p, ns.name, .anyRef, action: "pushing", target: key)
            guard ifMatch == nil, case .bytes(let bytes) = body else { throw ServerError.badRequest("index fragments are created once, never replaced") }
            guard ObjectID.hash(bytes).hex == id, let fragment = IndexFragment.decode(bytes) else {
                throw ServerError.verification(key: key, reason: "it is not an index fragment whose content hashes to its name")
            }
            if !fragment.supersedes.isEmpty || !fragment.dropped.isEmpty {
                _ = try require(.maintainer, p, ns.name, .namespace, action: "compacting the index of", target: ns.name)
            }
            try checkFragment(fragment, ns, key: key)
            return try answer(ns.backend.create(key, bytes))
        case .head:
            _ = try require(.writer, p, ns.name, .anyRef, action: "setting the default branch of", target: ns.name)
            guard case .bytes(let bytes) = body, let text = String(bytes: bytes, encoding: .utf8), text.hasPrefix("refs/heads/"), text.hasSuffix("\n"),
                (try? BranchName(String(text.dropFirst("refs/heads/".count).dropLast()))) != nil
            else { throw ServerError.badRequest("HEAD holds 'refs/heads/NAME' and a newline") }
            return try answer(ifMatch.map { try ns.backend.put(key, bytes, ifMatch: $0) } ?? ns.backend.create(key, bytes))
        case .lease:
            _ = try require(.maintainer, p, ns.name, .namespace, action: "running gc on", target: ns.name)
            guard case .bytes(let bytes) = body, bytes.count < 4096 else { throw ServerError.badRequest("a lease is a small document") }
            return try answer(ifMatch.map { try ns.backend.put(key, bytes, ifMatch: $0) } ?? ns.backend.create(key, bytes))
        case .probe:
            _ = try require(.writer, p, ns.name, .anyRef, action: "probing", target: ns.name)
            guard case .bytes(let bytes) = body, bytes.count < 4096 else { throw ServerError.badRequest("a probe is a small document") }
            return try answer(ifMatch.map { try ns.backend.put(key, bytes, ifMatch: $0) } ?? ns.backend.create(key, bytes))
        case .prune(let id):
            _ = try require(.maintainer, p, ns.name, .namespace, action: "pruning", target: ns.name)
            guard ifMatch == nil, case .bytes(let bytes) = body, ObjectID.hash(bytes).hex == id else {
                throw ServerError.verification(key: key, reason: "a prune record is created once and named by the SHA-256 of its content")
            }
            let outcome = try ns.backend.create(key, bytes)
            if case .written = outcome { try store.audit(actor: p.name, action: "prune", namespace: ns.name, target: key, old: "", new: "", source: source) }
            return answer(outcome)
        case .lineage(let commit):
            _ = try require(.writer, p, ns.name, .anyRef, action: "pushing", target: key)
            guard ifMatch == nil, case .bytes(let bytes) = body, let b = LineageBundle.decode(bytes), b.commit == commit else {
                throw ServerError.verification(key: key, reason: "it is not the lineage bundle of commit \(commit)")
            }
            return try answer(ns.backend.create(key, bytes))
        case .check(let commit):
            _ = try require(.writer, p, ns.name, .anyRef, action: "recording a check in", target: ns.name)
            guard ifMatch == nil, case .bytes(let bytes) = body, var record = CheckRecord.decode(bytes), record.commit == commit,
                record.by == nil, record.signature == nil
            else { throw ServerError.badRequest("'\(key)' is not an unsigned check record of commit \(commit)") }
            record.by = p.name
            record.time = ServerStore.now()
            record.signature = try record.signature(key: store.signingKey)
            let outcome = try ns.backend.create(key, try record.encoded())
            if case .written = outcome {
                try store.audit(
                    actor: p.name, action: "check", namespace: ns.name, target: key, old: "", new: record.checks.joined(separator: ","), source: source)
            }
            return answer(outcome)
        case .marker:
            throw ServerError.forbidden(action: "writing", needed: .admin, target: "STRATA (the server keeps it)")
        }
    }

    func answer(_ o: PutOutcome) -> StoreAnswer {
        switch o {
        case .written(let etag): .etag(etag)
        case .conditionFailed: .conditionFailed
        }
    }

    /// Every pack a fragment names exists and lists, in its verified trailer, exactly the entries the fragment gives.
    func checkFragment(_ f: IndexFragment, _ ns: Namespace, key: String) throws {
        for (pack, entries) in Dictionary(grouping: f.entries, by: \.pack) {
            let pk = RemoteLayout.packKey(pack)
            guard let listed = try ns.backend.listDetailed(prefix: pk).first(where: { $0.key == pk }) else {
                throw ServerError.verification(key: key, reason: "it lists pack \(pack), which was not pushed")
            }
            let tail = try ns.backend.getRange(pk, offset: max(0, listed.size - Int64(RemoteLayout.trailerFixed)), length: RemoteLayout.trailerFixed)
            guard let n = RemoteLayout.trailerCount(tail) else { throw ServerError.verification(key: key, reason: "pack \(pack) has no trailer") }
            let size = Int64(RemoteLayout.trailerSize(n))
            let trailer = try ns.backend.getRange(pk, offset: listed.size - size, length: Int(size))
            guard let inPack = RemoteLayout.decodePackTrailer(trailer, pack: pack) else {
                throw ServerError.verification(key: key, reason: "pack \(pack)'s trailer fails its checksum")
            }
            let known = Set(inPack.map { "\($0.id.hex) \($0.frameOffset) \($0.offset) \($0.length) \($0.kind.rawValue)" })
            for e in entries where !known.contains("\(e.id.hex) \(e.frameOffset) \(e.offset) \(e.length) \(e.kind.rawValue)") {
                throw ServerError.verification(key: key, reason: "it places \(e.id.hex) in pack \(pack), whose trailer does not")
            }
        }
    }

    /// Moves a branch or tag: the commit and everything below it pushed and verified; a protected branch only
    /// fast-forwards (and with require-merge only takes a maintainer's merges); moving a tag needs a maintainer. The
    /// check and the compare-and-swap happen under the namespace's lock, then the audit log records the move.
    func moveRef(
        _ p: Principal, _ ns: Namespace, full: String, short: String, isTag: Bool, role: Role, target: ObjectID, bytes: [UInt8], ifMatch: String?,
        source: String
    ) throws -> StoreAnswer {
        let started = Posix.nowNs()
        ns.lock.lock()
        defer { ns.lock.unlock() }
        metrics.lockWait.recordNanoseconds(Posix.nowNs() - started)
        let current = try ns.backend.get(full)
        if ifMatch == nil && current != nil { return .conditionFailed }
        if let ifMatch, current?.etag != ifMatch { return .conditionFailed }
        let old = current.flatMap { RemoteRefValue.decode($0.bytes) }
        if old == target, let current { return .etag(current.etag) }
        try ns.mirror.withWriteLock { try ns.checkComplete(target, ref: full) }
        let fastForward = try old.map { try ns.mirror.objects.contains($0) && ns.mirror.isAncestor($0, of: target) } ?? true
        if isTag && old != nil && role < .maintainer {
            throw ServerError.forbidden(action: "moving the existing tag", needed: .maintainer, target: full)
        }
        if !isTag, let rule = try store.protections().first(where: { $0.namespace == ns.name && RefGlob.matches($0.pattern, short) }) {
            if !fastForward {
                throw ServerError.protected(ref: full, reason: "it cannot be force-moved (\(old?.short ?? "") is not an ancestor of \(target.short))")
            }
            if rule.requireLineage {
                for c in try ns.newCommits(from: target, since: old) {
                    let problem = try ns.lineageProblem(c)
                    if !problem.isEmpty { throw ServerError.lineageRequired(ref: full, reason: problem) }
                }
            }
            if let stages = rule.requireVerify {
                let needed = ["lineage-verify"] + stages.map { "reproduce:" + $0 }
                let passed = try ns.passedChecks(target, key: store.signingKey)
                let missing = needed.filter { !passed.contains($0) }
                if !missing.isEmpty {
                    throw ServerError.verifyRequired(ref: full, reason: "commit \(target.short) has no signed check for \(missing.joined(separator: ", "))")
                }
            }
            if rule.requireMerge {
                if role < .maintainer { throw ServerError.mergeRequired(ref: full, reason: "\(p.name) is a \(role.rawValue), not a maintainer") }
                for c in try ns.firstParentChain(from: target, to: old) where try ns.mirror.commit(c).parents.count < 2 {
                    throw ServerError.mergeRequired(ref: full, reason: "commit \(c.short) is not a merge")
                }
            }
        }
        let outcome = try current.map { try ns.backend.put(full, bytes, ifMatch: $0.etag) } ?? ns.backend.create(full, bytes)
        guard case .written(let etag) = outcome else { return .conditionFailed }
        try ns.mirror.withWriteLock {
            try ns.mirror.updateRef(full, expected: try ns.mirror.ref(full), new: target, message: "server: \(p.name) pushed")
        }
        metrics.refUpdates.increment()
        try store.audit(
            actor: p.name, action: old == nil ? "ref.create" : fastForward ? "ref.update" : "ref.force", namespace: ns.name, target: full,
            old: old?.hex ?? "", new: target.hex, source: source)
        return .etag(etag)
    }

    func storeDelete(_ p: Principal, _ ns: Namespace, key: String, source: String) throws -> StoreAnswer {
        let c = try KeyClass(key)
        switch c {
        case .ref(let full, let short, let isTag):
            _ = try require(isTag ? .maintainer : .writer, p, ns.name, .ref(short), action: "deleting", target: full)
            if !isTag, try store.protections().contains(where: { $0.namespace == ns.name && RefGlob.matches($0.pattern, short) }) {
                throw ServerError.protected(ref: full, reason: "it cannot be deleted")
            }
            ns.lock.lock()
            defer { ns.lock.unlock() }
            guard let current = try ns.backend.get(full) else { return .notFound }
            try ns.backend.delete(full)
            try ns.mirror.withWriteLock {
                if let t = try ns.mirror.ref(full) { try ns.mirror.updateRef(full, expected: t, new: nil, message: "server: \(p.name) deleted") }
            }
            try store.audit(
                actor: p.name, action: "ref.delete", namespace: ns.name, target: full, old: RemoteRefValue.decode(current.bytes)?.hex ?? "", new: "",
                source: source)
            return .deleted
        case .pack, .index, .lineage, .check:
            _ = try require(.maintainer, p, ns.name, .namespace, action: "deleting", target: key)
            try ns.backend.delete(key)
            try store.audit(actor: p.name, action: "gc.delete", namespace: ns.name, target: key, old: "", new: "", source: source)
            return .deleted
        case .lease:
            _ = try require(.maintainer, p, ns.name, .namespace, action: "running gc on", target: ns.name)
            try ns.backend.delete(key)
            return .deleted
        case .probe:
            _ = try require(.writer, p, ns.name, .anyRef, action: "probing", target: ns.name)
            try ns.backend.delete(key)
            return .deleted
        case .head, .marker, .prune:
            throw ServerError.forbidden(action: "deleting", needed: .admin, target: key)
        }
    }
}
