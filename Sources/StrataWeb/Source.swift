import Foundation
import StrataLineage
import StrataMaintenance
import StrataModel
import StrataPipeline
import StrataRepository

/// Who is looking, and what they may do: shown on every page, and it decides which forms are offered. The forms'
/// requests are checked again by the source (the page only hides what would be refused).
public struct Viewer: Sendable {
    /// The user's name; nil for anonymous.
    public var name: String?
    /// Roles as text (`writer on main`, `reader on **`), for the "signed in as" page.
    public var roles: [String]
    /// May create branches and tags somewhere.
    public var canWrite: Bool
    /// May protect branches.
    public var canProtect: Bool
    /// Whether this is a server (token sign-in is offered) or a local store (no sign-in).
    public var signIn: Bool

    /// A viewer.
    public init(name: String?, roles: [String], canWrite: Bool, canProtect: Bool, signIn: Bool) {
        self.name = name; self.roles = roles; self.canWrite = canWrite; self.canProtect = canProtect; self.signIn = signIn
    }
}

/// One stage of a pipeline as the pipeline page shows it.
public struct StageView: Sendable {
    /// Its name.
    public var name: String
    /// Its command.
    public var command: String
    /// Stages it depends on.
    public var upstream: [String]
    /// `up-to-date`, `out-of-date`, `frozen`, or, where nothing can be compared (a server), the last recorded run's status.
    public var state: String
    /// Why it would run, or what was recorded.
    public var reason: String
    /// Declared inputs and outputs.
    public var inputs: [String], outputs: [String]

    /// A stage view.
    public init(name: String, command: String, upstream: [String], state: String, reason: String, inputs: [String], outputs: [String]) {
        self.name = name; self.command = command; self.upstream = upstream; self.state = state; self.reason = reason
        self.inputs = inputs; self.outputs = outputs
    }
}

/// What the pages read: a local store (`strata ui`, `strata site`) or a server namespace's mirror (`strata serve`).
/// Every read names a revision and goes through `resolve`, which is where a server checks the viewer's role.
public protocol WebSource: Sendable {
    /// The store read.
    var repo: Repository { get }
    /// The name shown in the header (the workspace folder or the namespace).
    var name: String { get }
    /// Who is looking.
    var viewer: Viewer { get }
    /// The revision pages show by default (HEAD, or the server's default branch).
    var defaultRevision: String { get }
    /// A revision the viewer may read, resolved (missing and unreadable look the same).
    func resolve(_ revision: String) throws -> ObjectID
    /// The branches and tags the viewer may read, as full names.
    func refs() throws -> [(name: String, target: ObjectID)]
    /// The lineage runs a commit's files came from (its commit run and every producer), redacted.
    func runs(of commit: ObjectID) throws -> [RunRecord]
    /// The PROV-O document (JSON-LD) of a commit's run, redacted; nil when no lineage was recorded or pushed.
    func prov(of commit: ObjectID) throws -> Data?
    /// Every recorded run the viewer may see, newest first, redacted; nil where runs are only known per commit.
    func allRuns(limit: Int) throws -> [RunRecord]?
    /// The stages of the pipeline at a commit, with their state.
    func stages(at commit: ObjectID) throws -> (pipeline: String, stages: [StageView])?
    /// What `prune` with these rules (nil: the saved and declared policies) would keep and forget.
    func retention(rules: [String]?) throws -> [RetentionDecision]
    /// The DCAT catalogue (JSON-LD) and the Markdown page of each dataset, at a commit.
    func catalog(at commit: ObjectID) throws -> (Data, [String: String])
    /// Creates a branch or tag (with the viewer's rights; audited on a server).
    func createRef(tag: Bool, name: String, at revision: String, message: String?) throws -> ObjectID
    /// Merges branch `source` into branch `target` and says what happened. Locally, into the checked-out branch with
    /// `strata merge` (a merge commit, or conflicts left for `strata resolve`); on a server, a fast-forward only (a
    /// merge commit is made on a clone and pushed).
    func merge(_ source: String, into target: String) throws -> String
    /// Protects a branch pattern (servers only).
    func protect(pattern: String, requireMerge: Bool, requireLineage: Bool) throws
    /// Redacts personal data out of free text (as the lineage exports do).
    func redact(_ text: String) -> String
}
