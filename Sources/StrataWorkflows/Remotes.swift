import Foundation
import StrataRemote
import StrataMaintenance
import StrataModel
import StrataLineage
import StrataPlatform
import StrataRepository
import StrataTables

/// A configured remote, as `remote list` shows it (never with credentials: none are stored).
public struct RemoteEntry: Sendable, Equatable {
    /// Its name (`origin`).
    public var name: String
    /// Where it is.
    public var location: RemoteLocation
    /// What the probe found when it was added.
    public var capabilities: RemoteCapabilities
    /// Added with `--single-writer` (the storage ignores conditional writes).
    public var singleWriter: Bool
    /// The remote repository's id, from its `STRATA` marker.
    public var repoId: String?
}

/// `strata remote add | list | remove` as library calls. Remotes live in the store's config (`remote.NAME.*`);
/// credentials never do: they come from the environment or the AWS profile each time.
public enum RemoteWorkflow {
    /// Adds a remote after probing its storage's conditional writes; storage that ignores them is refused unless
    /// `singleWriter`. Returns what the probe found.
    /// `backend` replaces the one the location names (tests use it to bring storage that misbehaves).
    public static func add(
        _ repo: Repository, name: String, location: RemoteLocation, singleWriter: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        backend given: (any RemoteBackend)? = nil
    ) throws -> RemoteEntry {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), name.first?.isLetter == true else {
            throw RemoteSetupError.badName(name, reason: "use letters, digits, '-' and '_', starting with a letter")
        }
        if try repo.config("remote.\(name).url") != nil { throw RemoteSetupError.badName(name, reason: "a remote of that name exists (remove it first)") }
        let backend = try given ?? location.backend(environment: environment)
        let caps = try RemoteProbe.probe(backend)
        if !caps.safeForManyWriters && !singleWriter { throw RemoteSetupError.unsafeStorage(location.url, caps) }
        let marker = try RemoteMarker.ensure(backend)
        try repo.setConfig("remote.\(name).url", location.url)
        try repo.setConfig("remote.\(name).endpoint", location.endpoint)
        try repo.setConfig("remote.\(name).region", location.region)
        try repo.setConfig("remote.\(name).capabilities", caps.summary)
        try repo.setConfig("remote.\(name).single-writer", singleWriter ? "true" : nil)
        try repo.setConfig("remote.\(name).repo-id", marker.repoId)
        return RemoteEntry(name: name, location: location, capabilities: caps, singleWriter: singleWriter, repoId: marker.repoId)
    }

    /// Every configured remote, by name.
    public static func list(_ repo: Repository) throws -> [RemoteEntry] {
        var byName: [String: [String: String]] = [:]
        for (k, v) in try repo.allConfig() where k.hasPrefix("remote.") {
            let rest = k.dropFirst("remote.".count)
            guard let dot = rest.lastIndex(of: ".") else { continue }
            byName[String(rest[..<dot]), default: [:]][String(rest[rest.index(after: dot)...])] = v
        }
        return try byName.keys.sorted().compactMap { name in
            let f = byName[name]!
            guard let url = f["url"] else { return nil }
            let caps = Set((f["capabilities"] ?? "").split(separator: ",").map(String.init))
            return RemoteEntry(
                name: name, location: try RemoteLocation(url: url, endpoint: f["endpoint"], region: f["region"]),
                capabilities: RemoteCapabilities(
                    createOnly: caps.contains("create-only"), compareAndSwap: caps.contains("compare-and-swap"), multipart: caps.contains("multipart")),
                singleWriter: f["single-writer"] == "true", repoId: f["repo-id"])
        }
    }

    /// Removes a remote's configuration (nothing on the remote changes).
    public static func remove(_ repo: Repository, name: String) throws {
        guard try repo.config("remote.\(name).url") != nil else { throw RemoteSetupError.unknownRemote(name) }
        for key in ["url", "endpoint", "region", "capabilities", "single-writer", "repo-id", "connections", "pack-size"] {
            try repo.setConfig("remote.\(name).\(key)", nil)
        }
        for (k, v) in try repo.allConfig() where k.hasPrefix("branch.") && k.hasSuffix(".remote") && v == name { try repo.setConfig(k, nil) }
        for r in try repo.refs(prefix: "refs/remotes/\(name)/") { try repo.updateRef(r.name, expected: r.target, new: nil, message: "remote remove \(name)") }
        try RemoteSync.forget(repo, remote: name)
    }
}

/// Tracking information of the checked-out branch: its upstream and how far apart they are.
public struct UpstreamStatus: Sendable, Equatable {
    /// `origin/main`.
    public var upstream: String
    /// Commits on the branch and not upstream, and the reverse.
    public var divergence: Divergence
}

/// `strata push | fetch | pull | clone` as library calls.
public enum SyncWorkflow {
    /// Connections used unless `remote.NAME.connections` or `STRATA_CONNECTIONS` say otherwise.
    public static let defaultConnections = 8

    /// The remote to use when none is named: the current branch's upstream, else `origin`, else the only one.
    public static func defaultRemote(_ repo: Repository) throws -> String {
        if let b = try repo.currentBranch(), let r = try repo.config("branch.\(b).remote") { return r }
        let all = try RemoteWorkflow.list(repo)
        if all.contains(where: { $0.name == "origin" }) { return "origin" }
        if all.count == 1 { return all[0].name }
        throw RemoteSetupError.unknownRemote("origin")
    }

    /// Opens the sync engine for a configured remote (credentials from `environment` and the AWS profile).
    public static func open(
        _ repo: Repository, remote: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        backend given: (any RemoteBackend)? = nil
    ) throws -> RemoteSync {
        let name = try remote ?? defaultRemote(repo)
        guard let entry = try RemoteWorkflow.list(repo).first(where: { $0.name == name }) else { throw RemoteSetupError.unknownRemote(name) }
        var backend = try given ?? entry.location.backend(environment: environment)
        // Packs larger than the default target go up in parts where the probe found multipart uploads.
        let packSize = Int64(try repo.config("remote.\(name).pack-size") ?? "") ?? (32 << 20)
        if var s3 = backend as? S3Backend, entry.capabilities.multipart {
            s3.multipartThreshold = 40 << 20
            backend = s3
        }
        let configured = try repo.config("remote.\(name).connections")
        let width = Int(environment["STRATA_CONNECTIONS"] ?? "") ?? Int(configured ?? "") ?? defaultConnections
        let sync = try RemoteSync(repo: repo, name: name, backend: backend, connections: width)
        sync.packTarget = max(16 << 20, min(256 << 20, packSize))
        return sync
    }

    /// Lets a partial store download what checkout and cat need from the remote it was cloned from.
    public static func installSupplier(_ repo: Repository, environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let name = try? repo.partialRemote(), let entry = try? RemoteWorkflow.list(repo).first(where: { $0.name == name }),
            let backend = try? entry.location.backend(environment: environment)
        else { return }
        repo.setObjectSupplier(RemoteSupplier(name: name, backend: backend, connections: defaultConnections))
    }

    /// What to push: named branches or tags, all branches, all tags; by default the checked-out branch.
    public static func refsToPush(_ repo: Repository, names: [String], all: Bool, tags: Bool) throws -> [String] {
        var out: [String] = []
        for n in names {
            if n.hasPrefix("refs/") { out.append(n); continue }
            if try repo.ref("refs/heads/" + n) != nil {
                out.append("refs/heads/" + n)
            } else if try repo.ref("refs/tags/" + n) != nil {
                out.append("refs/tags/" + n)
            } else {
                throw RemoteSyncError.unknownRef(n)
            }
        }
        if all { out += try repo.refs(prefix: "refs/heads/").map(\.name) }
        if tags { out += try repo.refs(prefix: "refs/tags/").map(\.name) }
        if names.isEmpty && !all && !tags {
            guard let b = try repo.currentBranch() else { throw RepositoryError.detachedHead("push without a branch name") }
            out.append("refs/heads/" + b.rawValue)
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    /// Pushes; with `requireLineage`, every commit to publish must have its lineage recorded (nothing is sent otherwise).
    /// The first push of a branch makes the remote its upstream.
    public static func push(
        _ repo: Repository, remote: String?, refs names: [String] = [], all: Bool = false, tags: Bool = false, forceWithLease: Bool = false,
        requireLineage: Bool = false, verify: Bool = true, environment: [String: String] = ProcessInfo.processInfo.environment,
        backend: (any RemoteBackend)? = nil
    ) throws -> SyncReport {
        let sync = try open(repo, remote: remote, environment: environment, backend: backend)
        let refs = try refsToPush(repo, names: names, all: all, tags: tags)
        // The installed pre-push hook sees what would be published, as git's does, before anything is sent.
        if verify {
            let zero = String(repeating: "0", count: 64)
            let lines = try refs.map { r -> String in
                let local = try repo.resolve(r).hex
                let short = r.hasPrefix("refs/heads/") ? String(r.dropFirst("refs/heads/".count)) : nil
                let remote = try short.flatMap { try repo.refs(prefix: "refs/remotes/\(sync.name)/\($0)").first?.target.hex } ?? zero
                return "\(r) \(local) \(r) \(remote)"
            }
            try Hooks.run(
                "pre-push", repo: repo, arguments: [sync.name, try repo.config("remote.\(sync.name).url") ?? ""], input: lines.joined(separator: "\n") + "\n")
        }
        try probeBeforeFirstWrite(repo, sync)
        let service = try LineageOptions().service(repo)
        let report = try repo.withWriteLock {
            try sync.push(
                refs, forceWithLease: forceWithLease,
                checkCommits: { commits in
                    guard requireLineage else { return }
                    let missing = try commits.filter { !(try service.verify($0.hex)).isEmpty }
                    if !missing.isEmpty { throw RemoteSyncError.lineageMissing(missing) }
                }, lineage: { try service.bundle(for: $0)?.encoded() })
        }
        for r in refs where r.hasPrefix("refs/heads/") {
            let b = String(r.dropFirst("refs/heads/".count))
            if try repo.config("branch.\(b).remote") == nil { try repo.setConfig("branch.\(b).remote", sync.name) }
        }
        // Lineage: what was published, and where (events that cannot be delivered wait in the store's outbox).
        let moved = report.updates.filter { $0.outcome != .upToDate }.compactMap { u in u.new.map { (old: u.old, new: $0) } }
        if !moved.isEmpty, let url = try repo.config("remote.\(sync.name).url") {
            _ = try LineageOptions().service(repo).recordPublish(location: url, updates: moved)
        }
        return report
    }

    /// A remote known from a clone was never probed: probe before the first write, as `remote add` does, and refuse
    /// storage that ignores conditional writes unless the remote is marked single-writer.
    static func probeBeforeFirstWrite(_ repo: Repository, _ sync: RemoteSync) throws {
        guard try repo.config("remote.\(sync.name).capabilities") == nil else { return }
        let caps = try RemoteProbe.probe(sync.storage)
        let single = try repo.config("remote.\(sync.name).single-writer") == "true"
        if !caps.safeForManyWriters && !single { throw RemoteSetupError.unsafeStorage(sync.storage.displayName, caps) }
        try repo.setConfig("remote.\(sync.name).capabilities", caps.summary)
    }

    /// Promotes a commit to another remote (dev → dist): pushes `revision` as `branch` on `remote` (a fast-forward,
    /// or a create), and records a `strata.promote` lineage run whose inputs are located where the commit came from
    /// (the remote of a remote-tracking revision such as `origin/main`, else this store) and whose outputs are at the
    /// destination. On a `strata serve` namespace the server's policy decides who may (typically maintainers of dist).
    public static func promote(
        _ repo: Repository, revision: String, to remote: String, branch: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        backend: (any RemoteBackend)? = nil
    ) throws -> SyncReport {
        let commit = try repo.resolve(revision)
        _ = try BranchName(branch)
        let sync = try open(repo, remote: remote, environment: environment, backend: backend)
        try probeBeforeFirstWrite(repo, sync)
        let full = "refs/heads/" + branch
        let service = try LineageOptions().service(repo)
        let report = try repo.withWriteLock { try sync.push([full], sources: [full: commit], lineage: { try service.bundle(for: $0)?.encoded() }) }
        var source: String?
        if revision.hasPrefix("refs/remotes/") || revision.contains("/") {
            let name = revision.hasPrefix("refs/remotes/") ? revision.dropFirst("refs/remotes/".count) : Substring(revision)
            if let r = name.split(separator: "/").first, let url = try repo.config("remote.\(r).url") { source = url }
        }
        let moved = report.updates.filter { $0.outcome != .upToDate }.compactMap { u in u.new.map { (old: u.old, new: $0) } }
        if !moved.isEmpty, let url = try repo.config("remote.\(sync.name).url") {
            _ = try LineageOptions().service(repo).recordPublish(location: url, updates: moved, job: "strata.promote", source: source)
        }
        return report
    }

    /// Fetches; `allData` makes a partial store whole; `prune` drops tracking refs of branches gone on the remote.
    public static func fetch(
        _ repo: Repository, remote: String?, allData: Bool = false, prune: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment, backend: (any RemoteBackend)? = nil
    ) throws -> SyncReport {
        let sync = try open(repo, remote: remote, environment: environment, backend: backend)
        return try repo.withWriteLock { try sync.fetch(allData: allData, prune: prune) }
    }

    /// Deletes branches or tags on the remote (`push --delete`); each must still be where this store last saw it.
    public static func deleteOnRemote(
        _ repo: Repository, remote: String?, names: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        backend: (any RemoteBackend)? = nil
    ) throws -> SyncReport {
        let sync = try open(repo, remote: remote, environment: environment, backend: backend)
        let refs = try names.map { n -> String in
            if n.hasPrefix("refs/") { return n }
            if try repo.ref("refs/tags/" + n) != nil && repo.ref("refs/remotes/\(sync.name)/" + n) == nil { return "refs/tags/" + n }
            return "refs/heads/" + n
        }
        return try repo.withWriteLock { try sync.deleteRemote(refs) }
    }

    /// What a pull did.
    public struct PullOutcome: Sendable {
        /// The fetch.
        public var fetch: SyncReport
        /// The checkout of the fast-forward, nil when the branch was up to date (or ahead).
        public var checkout: CheckoutResult?
        /// The upstream (`origin/main`).
        public var upstream: String
    }

    /// Fetch, then fast-forward the checked-out branch and the workspace to its upstream; refuses to overwrite
    /// uncommitted changes, and refuses diverged histories (merge is issue 12).
    public static func pull(
        _ repo: Repository, remote: String?, branch: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        backend: (any RemoteBackend)? = nil, progress: ProgressHandler? = nil
    ) throws -> PullOutcome {
        guard let current = try repo.currentBranch() else { throw RepositoryError.detachedHead("pull") }
        let sync = try open(repo, remote: remote, environment: environment, backend: backend)
        let fetched = try repo.withWriteLock { try sync.fetch() }
        let upstreamName = "\(sync.name)/\(branch ?? current.rawValue)"
        guard let theirs = try repo.ref("refs/remotes/" + upstreamName) else {
            throw RemoteSyncError.invalid(
                "the remote \(sync.name) has no branch '\(branch ?? current.rawValue)'",
                next: "push it first, or name a branch: strata pull \(sync.name) BRANCH")
        }
        let ours = try repo.ref("refs/heads/" + current.rawValue)
        if let ours {
            let behindOnly = try repo.isAncestor(theirs, of: ours)
            if ours == theirs || behindOnly { return PullOutcome(fetch: fetched, checkout: nil, upstream: upstreamName) }
            if !(try repo.isAncestor(ours, of: theirs)) {
                let d = try repo.divergence(ours, theirs)
                throw RemoteSyncError.diverged(branch: current.rawValue, remote: sync.name, ahead: d.ahead, behind: d.behind)
            }
        }
        installSupplier(repo, environment: environment)
        let r = try repo.fastForward(to: theirs, message: "pull: fast-forward to \(upstreamName)", progress: progress)
        if try repo.config("branch.\(current).remote") == nil { try repo.setConfig("branch.\(current).remote", sync.name) }
        return PullOutcome(fetch: fetched, checkout: r, upstream: upstreamName)
    }

    /// What a clone did.
    public struct CloneOutcome: Sendable {
        /// The new store.
        public var repo: Repository
        /// The fetch.
        public var fetch: SyncReport
        /// The branch checked out (nil when the remote has none yet).
        public var branch: String?
        /// The checkout (nil with `noCheckout` or an empty remote).
        public var checkout: CheckoutResult?
    }

    /// Creates a store in `directory` (absent or empty), adds the remote as `origin`, fetches, and checks out the
    /// remote's default branch. `noCheckout` downloads history only: the store is partial, and checkout then
    /// downloads just the files it writes.
    public static func clone(
        location: RemoteLocation, into directory: String, noCheckout: Bool = false, remoteName: String = "origin",
        environment: [String: String] = ProcessInfo.processInfo.environment, backend given: (any RemoteBackend)? = nil,
        progress: ProgressHandler? = nil
    ) throws -> CloneOutcome {
        if let entries = try? Posix.listDirectory(directory), !entries.isEmpty {
            throw RemoteSyncError.invalid("'\(directory)' exists and is not empty", next: "clone into a new or empty folder")
        }
        let backend = try given ?? location.backend(environment: environment)
        guard let markerBytes = try backend.get("STRATA") else {
            throw RemoteSetupError.notARemote(location.url, reason: "it has no STRATA marker (nothing was ever pushed there)")
        }
        let marker = try RemoteMarker.check(markerBytes.bytes, backend)
        let repo = try StoreSchemas.initialize(at: directory)
        try repo.setConfig("remote.\(remoteName).url", location.url)
        try repo.setConfig("remote.\(remoteName).endpoint", location.endpoint)
        try repo.setConfig("remote.\(remoteName).region", location.region)
        try repo.setConfig("remote.\(remoteName).repo-id", marker.repoId)
        if noCheckout { try repo.setConfig(Repository.partialKey, remoteName) }
        let sync = try open(repo, remote: remoteName, environment: environment, backend: backend)
        let fetched = try repo.withWriteLock { try sync.fetch() }
        // The default branch: the remote's HEAD, else main, else the first.
        let heads = try repo.refs(prefix: "refs/remotes/\(remoteName)/")
        let headText = (try? backend.get(RemoteLayout.headKey)).flatMap { $0.map { String(decoding: $0.bytes, as: UTF8.self) } } ?? ""
        let named = headText.trimmingCharacters(in: .whitespacesAndNewlines)
        let preferred = named.hasPrefix("refs/heads/") ? String(named.dropFirst("refs/heads/".count)) : "main"
        let pick = heads.first { $0.name == "refs/remotes/\(remoteName)/\(preferred)" } ?? heads.first
        guard let pick else { return CloneOutcome(repo: repo, fetch: fetched, branch: nil, checkout: nil) }
        let branch = String(pick.name.dropFirst("refs/remotes/\(remoteName)/".count))
        try repo.updateRef("refs/heads/" + branch, expected: nil, new: pick.target, message: "clone: from \(location.url)")
        try repo.setConfig("branch.\(branch).remote", remoteName)
        var checkout: CheckoutResult?
        if noCheckout { try repo.attachHead(to: branch) } else { checkout = try repo.checkout(branch, force: true, progress: progress) }
        return CloneOutcome(repo: repo, fetch: fetched, branch: branch, checkout: checkout)
    }

    /// How the checked-out branch relates to its upstream (nil without one).
    public static func upstreamStatus(_ repo: Repository) throws -> UpstreamStatus? {
        guard let b = try repo.currentBranch(), let remote = try repo.config("branch.\(b).remote"),
            let theirs = try repo.ref("refs/remotes/\(remote)/\(b)"), let ours = try repo.ref("refs/heads/\(b)")
        else { return nil }
        return UpstreamStatus(upstream: "\(remote)/\(b)", divergence: try repo.divergence(ours, theirs))
    }
}

/// Retention on a remote: `strata prune --remote` and `strata gc --remote`.
public enum RemoteRetentionWorkflow {
    /// What a remote prune decided.
    public struct PruneOutcome: Sendable {
        /// The plan over the remote's history (branch heads and tags always kept).
        public var plan: RetentionPlan
        /// The prune record written on the remote (nil for a dry run or nothing to forget).
        public var record: String?
        /// Commits already pruned there before.
        public var alreadyPruned: Set<ObjectID>
        /// The policies applied.
        public var policies: [RetentionPolicy]
    }

    /// Applies retention policies (explicit `rules`, else the saved ones) to the remote's branches and tags, and records
    /// the commits whose data is released in a `prunes/` record; `strata gc --remote` then reclaims the space.
    public static func prune(
        _ repo: Repository, remote: String?, rules: RetentionPolicy?, now: Date, timeZone: TimeZone, dryRun: Bool,
        environment: [String: String] = ProcessInfo.processInfo.environment, backend: (any RemoteBackend)? = nil
    ) throws -> PruneOutcome {
        let policies = try rules.map { [$0] } ?? Retention(repo: repo).saved().map(\.policy)
        if policies.isEmpty { throw RetentionError.emptyPolicy }
        let sync = try SyncWorkflow.open(repo, remote: remote, environment: environment, backend: backend)
        let history = try sync.remoteHistory()
        var commits: [ObjectID: HistoryCommit] = [:]
        for (id, c) in history.commits { commits[id] = HistoryCommit(id: id, time: c.time, parents: c.parents) }
        let input = RetentionInput(
            commits: commits, branches: history.branches.map { (name: $0.0, head: $0.1) }, tags: history.tags.map { (name: $0.0, target: $0.1) },
            head: nil, reflog: [])
        let plan = try PolicyEngine(now: now, timeZone: timeZone, reflogExpire: try RetentionDuration(parsing: "0s")).plan(input, policies: policies)
        let already = try sync.remotePruned()
        let fresh = plan.forget.filter { !already.contains($0) }
        let record = dryRun ? nil : try sync.recordPrune(fresh, policy: policies.map(\.summary).joined(separator: " | "))
        return PruneOutcome(plan: plan, record: record, alreadyPruned: already, policies: policies)
    }

    /// Garbage-collects the remote under its lease (see `RemoteSync.gc`).
    public static func gc(
        _ repo: Repository, remote: String?, graceSeconds: Int64, leaseSeconds: Int64 = 900, dryRun: Bool,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        backend: (any RemoteBackend)? = nil
    ) throws -> RemoteGCReport {
        let sync = try SyncWorkflow.open(repo, remote: remote, environment: environment, backend: backend)
        return try repo.withWriteLock { try sync.gc(grace: graceSeconds, leaseSeconds: leaseSeconds, dryRun: dryRun) }
    }
}

/// `strata blame` as a library call: the commit that last changed each row of a table, with the stage run (if one)
/// that produced that version of the table.
public enum BlameWorkflow {
    /// One row's answer.
    public struct Line: Sendable {
        /// The row's key values.
        public var key: [String: String]
        /// The commit, its author and time.
        public var commit: ObjectID
        /// Who made the commit (as recorded).
        public var author: String
        /// When (seconds since the epoch).
        public var time: Int64
        /// The OpenLineage run id of the stage run that wrote this version of the table, when one did.
        public var run: String?
        /// The table version holding the row's value, and the one before the change (for a changed row).
        public var version: ObjectID
        /// See `version`.
        public var previous: ObjectID?
    }

    /// `strata blame --prov`: every row of the table at `revision` as a PROV-O entity, streamed to `write`.
    public static func prov(_ repo: Repository, revision: String, path: String, key: [String] = [], write: @escaping (String) throws -> Void) throws {
        try LineageOptions().service(repo).rowProvenance(path: try repo.relativePath(path), write: write) { row in
            try blame(repo, revision: revision, path: path, key: key) { l in
                try row(
                    RowProvenance(
                        key: l.key.keys.sorted().map { "\($0)=\(l.key[$0]!)" }.joined(separator: ","), version: l.version, previous: l.previous,
                        commit: l.commit, run: l.run))
            }
        }
    }

    /// Blames every row (or the row with `key`) of `path` at `revision`.
    public static func blame(_ repo: Repository, revision: String, path: String, key: [String] = [], onlyKey: [String: String]? = nil) throws -> [Line] {
        var out: [Line] = []
        try blame(repo, revision: revision, path: path, key: key, onlyKey: onlyKey) { out.append($0) }
        return out
    }

    /// The same, streamed in key order (bounded by the keys, not by a record per row).
    public static func blame(
        _ repo: Repository, revision: String, path: String, key: [String] = [], onlyKey: [String: String]? = nil, each: (Line) throws -> Void
    ) throws {
        var options = TableDiffOptions()
        options.key = key
        // Stage runs by the table version they output.
        let rel = try repo.relativePath(path)
        var runs: [String: String] = [:]
        for r in try LineageOptions().service(repo).storedRuns() where r.kind == .stage && r.status == .complete {
            for o in r.outputs where o.path == rel { if let h = o.sha256 { runs[h] = r.runId } }
        }
        var commits: [ObjectID: Commit] = [:]
        try TableWorkflow.service(repo).0.blame(revision, path: path, options: options, onlyKey: onlyKey) { b in
            let c = try commits[b.commit] ?? repo.commit(b.commit)
            commits[b.commit] = c
            try each(
                Line(
                    key: b.key, commit: b.commit, author: c.author.description, time: c.time, run: runs[b.version.hex], version: b.version,
                    previous: b.previous))
        }
    }
}

/// Tables with the declarations of Pipeline.swift (its `tables:`) merged over the config's.
public enum TableWorkflow {
    /// The table service of a store; a Pipeline.swift that does not evaluate is a warning, not an error.
    public static func service(_ repo: Repository) -> (TableService, warning: String?) {
        guard PipelineWorkflow.hasManifest(repo) else { return (TableService(repo: repo), nil) }
        do {
            let tables = try PipelineWorkflow.load(repo).spec.tables.map {
                TableDeclaration(
                    path: $0.path, format: $0.format.flatMap(TableFormat.init(rawValue:)), key: $0.key, description: $0.description,
                    appendOnly: $0.appendOnly == true,
                    types: try ColumnType.parse(($0.types ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")))
            }
            return (TableService(repo: repo, pipelineTables: tables), nil)
        } catch {
            return (TableService(repo: repo), "cannot read the tables of Pipeline.swift: \(error)")
        }
    }
}

/// Why `strata check` did not record a check.
public enum CheckError: StrataError {
    /// `lineage verify` found problems.
    case lineageIncomplete(commit: String, problems: [String])
    /// No completed run of the stage produced data of the commit.
    case stageNotFound(stage: String, commit: String)
    /// The stage's run did not reproduce byte-identically.
    case notReproducible(stage: String, run: String, details: String)

    public var code: String {
        switch self {
        case .lineageIncomplete: "check.lineage-incomplete"
        case .stageNotFound: "check.stage-not-found"
        case .notReproducible: "check.not-reproducible"
        }
    }
    public var category: ErrorCategory {
        switch self {
        case .lineageIncomplete: .lineage
        case .stageNotFound: .notFound
        case .notReproducible: .notReproducible
        }
    }
    public var message: String {
        switch self {
        case .lineageIncomplete(let c, let p): "the lineage of commit \(c) is incomplete:\n" + ErrorText.list(p)
        case .stageNotFound(let s, let c): "no completed run of stage '\(s)' produced data of commit \(c)"
        case .notReproducible(let s, let r, let d): "stage '\(s)' (run \(r)) did not reproduce: \(d)"
        }
    }
    public var nextStep: String? {
        switch self {
        case .lineageIncomplete: "record the missing lineage ('strata repro', 'strata commit' with lineage on), then check again"
        case .stageNotFound: "name a stage of Pipeline.swift that this commit's data came from ('strata runs')"
        case .notReproducible: "'strata reproduce RUN' shows which outputs differ; make the stage deterministic, then check again"
        }
    }
}

/// `strata check`: verification a protected branch can require (`protect --require-verify`).
public enum CheckWorkflow {
    /// Verifies `revision`'s lineage, reproduces the run of each stage in `stages` that produced the commit's data,
    /// and when everything passed sends a check record to `remote` (a strata server signs and keeps it). Throws,
    /// sending nothing, when anything did not pass.
    public static func check(
        _ repo: Repository, revision: String, stages: [String], remote: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> CheckRecord {
        let commit = try repo.resolve(revision)
        let service = try LineageOptions().service(repo)
        let problems = try service.verify(commit.hex)
        if !problems.isEmpty { throw CheckError.lineageIncomplete(commit: commit.short, problems: problems) }
        var runs: [String: String] = [:]
        let bundle = try service.bundle(for: commit)
        for stage in stages {
            let candidates = (bundle?.runs ?? []).filter { $0.kind == .stage && $0.status == .complete && $0.job.hasSuffix("." + stage) }
            guard let run = candidates.max(by: { $0.started < $1.started }) else { throw CheckError.stageNotFound(stage: stage, commit: commit.short) }
            let report = try service.reproduce(run.runId, into: nil)
            if !report.identical {
                let details = report.differing.map(\.path).prefix(5).joined(separator: ", ") + report.failures.prefix(3).joined(separator: "; ")
                throw CheckError.notReproducible(stage: stage, run: run.runId, details: details)
            }
            try? FileManager.default.removeItem(atPath: report.directory)
            runs[stage] = run.runId
        }
        let record = CheckRecord(commit: commit, checks: ["lineage-verify"] + stages.map { "reproduce:" + $0 }, runs: runs)
        let sync = try SyncWorkflow.open(repo, remote: remote, environment: environment)
        guard case .written = try sync.storage.create(CheckRecord.key(commit: commit.hex), try record.encoded()) else {
            throw RemoteSyncError.raced(ref: "check of \(commit.short)", remote: sync.name)
        }
        return record
    }
}

/// `strata switch` as git users expect it.
public enum SwitchWorkflow {
    /// Switches to branch `name`; with `create`, makes it at HEAD first. A branch that does not exist here but exists
    /// on exactly one remote (`origin/NAME`) is created there and tracks it, as `git switch NAME` does. Returns the
    /// checkout and, when a tracking branch was made, its remote.
    public static func switchBranch(_ repo: Repository, name: String, create: Bool, force: Bool) throws -> (CheckoutResult, tracking: String?) {
        if !create, try repo.ref("refs/heads/" + name) == nil {
            _ = try BranchName(name)
            let matches = try RemoteWorkflow.list(repo).compactMap { r in try repo.ref("refs/remotes/\(r.name)/\(name)").map { (r.name, $0) } }
            if matches.count == 1, let (remote, target) = matches.first {
                try repo.withWriteLock {
                    try repo.updateRef("refs/heads/" + name, expected: nil, new: target, message: "branch: created from \(remote)/\(name)")
                }
                try repo.setConfig("branch.\(name).remote", remote)
                return (try MonitorWorkflow.checkout(repo, name, branch: true, force: force), remote)
            }
        }
        if create { return (try repo.switchBranch(name, create: true, force: force), nil) }
        return (try MonitorWorkflow.checkout(repo, name, branch: true, force: force), nil)
    }
}
