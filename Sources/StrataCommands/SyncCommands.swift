import ArgumentParser
import Foundation
import StrataModel
import StrataPlatform
import StrataRemote
import StrataRepository
import StrataWorkflows

/// JSON of a push or fetch (docs/reference/json.md).
struct JSONSync: Encodable {
    struct Update: Encodable { var ref: String; var old: String?; var new: String?; var outcome: String }
    var version = 1
    var remote: String
    var updates: [Update]
    var objects: Int
    var packs: Int
    var requests: Int
    var bytes_sent: Int64
    var bytes_received: Int64

    init(remote: String, _ r: SyncReport) {
        self.remote = remote
        updates = r.updates.map { Update(ref: $0.ref, old: $0.old?.hex, new: $0.new?.hex, outcome: $0.outcome.rawValue) }
        objects = r.objects; packs = r.packs; requests = r.transfer.requests
        bytes_sent = r.transfer.bytesSent; bytes_received = r.transfer.bytesReceived
    }
}

enum SyncText {
    /// A push or fetch report: JSON, or the heading, the ref movements and the transfer.
    static func show(_ r: SyncReport, heading: String, remote: String, json: Bool, quiet: Bool) throws {
        if json { try Out.json(JSONSync(remote: remote, r)); return }
        if quiet { return }
        Out.line("\(heading) \(remote)")
        updates(r)
        Out.line(transfer(r))
        Out.flush()
    }

    static func updates(_ r: SyncReport) {
        for u in r.updates {
            let range = u.old.map { "\($0.short)..\(u.new?.short ?? "deleted")" } ?? (u.new?.short ?? "")
            Out.line(
                "  \(u.ref.replacingOccurrences(of: "refs/heads/", with: "").padded(24)) \(range) (\(u.outcome.rawValue))"
            )
        }
    }
    static func transfer(_ r: SyncReport) -> String {
        "\(r.objects) objects, \(Format.bytes(UInt64(max(0, r.transfer.bytesSent)))) sent, \(Format.bytes(UInt64(max(0, r.transfer.bytesReceived)))) received, \(r.transfer.requests) requests"
    }
}

/// `strata push`.
struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Send branches or tags to a remote: only what it lacks, then each ref by compare-and-swap.",
        discussion: """
            Without names, pushes the checked-out branch. A push that is not a fast-forward is refused ("fetch and merge, \
            or --force-with-lease"); --force-with-lease overwrites only when the remote still holds what this store last \
            fetched. Two pushes of one branch at the same moment: exactly one wins, the other is told (exit 4) and nothing \
            is lost. An installed .strata/hooks/pre-push that exits non-zero stops the push before anything is sent (exit 24). \
            Exit statuses: 4 rejected, 6 data missing locally, 12 remote corrupt, 24 refused by the pre-push hook, 1 storage failure.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Remote name (default: the branch's upstream, else origin).") var remote: String?
    @Argument(help: "Branches or tags to push.") var refs: [String] = []
    @Flag(help: "Push every branch.") var all = false
    @Flag(help: "Push every tag.") var tags = false
    @Flag(help: "Overwrite a remote ref only if it still points where this store last saw it.") var forceWithLease = false
    @Flag(help: "Refuse unless every commit to publish has its lineage recorded.") var requireLineage = false
    @Flag(help: "Delete the named branches or tags on the remote (each must still be where your last fetch saw it).") var delete = false
    @Flag(help: "Do not run the installed pre-push hook (.strata/hooks/pre-push).") var noVerify = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        Heap.forTransfers()
        let repo = try global.repository()
        // `strata push main` names a branch, not a remote, when no remote has that name.
        var remoteName = remote
        var names = refs
        if let r = remote, try RemoteWorkflow.list(repo).first(where: { $0.name == r }) == nil {
            remoteName = nil; names.insert(r, at: 0)
        }
        let name = try remoteName ?? SyncWorkflow.defaultRemote(repo)
        if delete && names.isEmpty { throw ValidationError("--delete needs the branches or tags to delete") }
        let report =
            delete
            ? try SyncWorkflow.deleteOnRemote(repo, remote: name, names: names)
            : try SyncWorkflow.push(
                repo, remote: name, refs: names, all: all, tags: tags, forceWithLease: forceWithLease, requireLineage: requireLineage,
                verify: !noVerify)
        try SyncText.show(report, heading: "To", remote: name, json: json, quiet: global.quiet)
    }
}

/// `strata fetch`.
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch", abstract: "Download a remote's branches and tags into remote-tracking refs (origin/main).",
        discussion: "A partial store (clone --no-checkout) fetches history only; --all-data downloads every file and makes it whole.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Remote name (default: the branch's upstream, else origin).") var remote: String?
    @Flag(help: "Download the file data of every commit (makes a partial store whole).") var allData = false
    @Flag(help: "Delete remote-tracking refs of branches the remote no longer has.") var prune = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        Heap.forTransfers()
        let repo = try global.repository()
        let name = try remote ?? SyncWorkflow.defaultRemote(repo)
        let report = try SyncWorkflow.fetch(repo, remote: name, allData: allData, prune: prune)
        try SyncText.show(report, heading: "From", remote: name, json: json, quiet: global.quiet)
    }
}

/// `strata pull`.
struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Fetch, then fast-forward the checked-out branch and the workspace to its upstream.",
        discussion: "Refuses to overwrite uncommitted changes (exit 4) and refuses diverged histories (exit 4; merge comes with issue 12).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Remote name (default: the branch's upstream, else origin).") var remote: String?
    @Argument(help: "Remote branch (default: the checked-out branch's name).") var branch: String?
    @Flag(help: "Print JSON.") var json = false

    struct JSONPull: Encodable {
        var version = 1; var upstream: String; var fetch: JSONSync; var fast_forward: Bool; var commit: String?
        var written: Int; var removed: Int
    }

    func run() throws {
        Heap.forTransfers()
        let repo = try global.repository()
        let (handler, printer) = ProgressPrinter.handler(quiet: global.quiet || json)
        let name = try remote ?? SyncWorkflow.defaultRemote(repo)
        let r: SyncWorkflow.PullOutcome
        do { r = try SyncWorkflow.pull(repo, remote: name, branch: branch, progress: handler) } catch {
            printer?.finish(); throw error
        }
        printer?.finish()
        if json {
            try Out.json(
                JSONPull(
                    upstream: r.upstream, fetch: JSONSync(remote: name, r.fetch), fast_forward: r.checkout != nil, commit: r.checkout?.commit.hex,
                    written: r.checkout?.written ?? 0, removed: r.checkout?.removed ?? 0))
            return
        }
        if !global.quiet {
            if let c = r.checkout {
                Out.line("Fast-forward to \(r.upstream) (\(c.commit.short)): \(c.written) files written (\(Format.bytes(c.bytes))), \(c.removed) removed")
            } else {
                Out.line("Already up to date with \(r.upstream)")
            }
            Out.line(SyncText.transfer(r.fetch))
            Out.flush()
        }
    }
}

/// `strata clone`.
struct CloneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clone", abstract: "Create a store from a remote and check out its default branch.",
        discussion: """
            With --no-checkout only history is downloaded: the store is partial, and 'strata checkout REV -- PATH' then \
            downloads just the files it writes ('strata fetch --all-data' takes the rest).
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "file:///absolute/path or s3://bucket[/prefix].") var url: String
    @Argument(help: "Folder to create (default: the last part of the URL).") var directory: String?
    @Option(help: ArgumentHelp("S3 endpoint (default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS).", valueName: "url")) var endpoint: String?
    @Option(help: "S3 region.") var region: String?
    @Flag(help: "Download history only; files come when checked out.") var noCheckout = false
    @Flag(help: "Print JSON.") var json = false

    struct JSONClone: Encodable {
        var version = 1; var directory: String; var branch: String?; var partial: Bool; var fetch: JSONSync; var written: Int
    }

    func run() throws {
        Heap.forTransfers()
        let location = try RemoteLocation(url: url, endpoint: endpoint, region: region)
        let last = url.split(separator: "/").last.map(String.init) ?? "clone"
        let dir = directory ?? last
        let (handler, printer) = ProgressPrinter.handler(quiet: global.quiet || json)
        let r: SyncWorkflow.CloneOutcome
        do { r = try SyncWorkflow.clone(location: location, into: dir, noCheckout: noCheckout, progress: handler) } catch {
            printer?.finish(); throw error
        }
        printer?.finish()
        if json {
            try Out.json(
                JSONClone(
                    directory: r.repo.root, branch: r.branch, partial: noCheckout, fetch: JSONSync(remote: "origin", r.fetch), written: r.checkout?.written ?? 0
                ))
            return
        }
        if !global.quiet {
            Out.line("Cloned \(url) into \(dir)\(r.branch.map { " (branch \($0))" } ?? " (empty remote)")\(noCheckout ? ", history only" : "")")
            if let c = r.checkout { Out.line("\(c.written) files written (\(Format.bytes(c.bytes)))") }
            Out.line(SyncText.transfer(r.fetch))
            Out.flush()
        }
    }
}

/// `strata promote`.
struct PromoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote", abstract: "Publish a commit to another remote's branch (dev → dist), recorded in lineage as a promotion.",
        discussion: """
            REVISION is any commit: a branch, a tag, or a remote-tracking ref such as origin/main (fetch it first). It \
            goes to --to's branch --as (default: main) as a fast-forward or a new branch; the lineage run strata.promote \
            names where the data came from and where it went. On a 'strata serve' namespace the server decides who may \
            (typically the maintainers of dist): refusals exit 27.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The commit to promote, e.g. origin/main.") var revision: String
    @Option(help: "The remote to promote to, e.g. dist.") var to: String
    @Option(name: .customLong("as"), help: "The branch on that remote (default: main).") var branch = "main"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        Heap.forTransfers()
        let repo = try global.repository()
        let report = try SyncWorkflow.promote(repo, revision: revision, to: to, branch: branch)
        try SyncText.show(report, heading: "To", remote: to, json: json, quiet: global.quiet)
    }
}

/// `strata check`.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Verify a commit's lineage, reproduce named stages, and record the passed check on a remote.",
        discussion: """
            What CI runs before a release: 'lineage verify' must find nothing, and each --stage's run that produced the \
            commit's data must reproduce byte-identically; then a check record goes to the remote, where a strata server \
            signs it. A branch protected with --require-verify takes a new tip only with such a check. Exit 22 when the \
            lineage is incomplete, 23 when a stage does not reproduce; nothing is recorded then.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The commit to check (default: HEAD).") var revision = "HEAD"
    @Option(help: "The remote to record the check on (default: the branch's upstream, else origin).") var remote: String?
    @Option(help: ArgumentHelp("A stage to reproduce (repeatable).", valueName: "stage")) var stage: [String] = []
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let record = try CheckWorkflow.check(try global.repository(), revision: revision, stages: stage, remote: remote)
        if json { try Out.json(record); return }
        if !global.quiet {
            Out.line("checked \(record.commit.prefix(12)): \(record.checks.joined(separator: ", ")) — recorded")
            Out.flush()
        }
    }
}
