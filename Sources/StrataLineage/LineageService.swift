import Foundation
import StrataModel
import StrataPlatform
import StrataRepository
import StrataSQLite

/// One recorded run (a commit, a pipeline run, or a stage run).
public struct RunRecord: Codable, Sendable, Equatable {
    /// UUIDv7.
    public var runId: String
    /// What the run was.
    public var kind: RunKind
    /// Job name (`strata.commit`, `PIPELINE`, `PIPELINE.STAGE`).
    public var job: String
    /// Parent run id (stage runs).
    public var parent: String?
    /// Where the run is.
    public var status: RunStatus
    /// The commit it made, or the HEAD it ran on.
    public var commit: String?
    /// Branch.
    public var branch: String?
    /// SHA-256 of Pipeline.lock after the run.
    public var lockfileHash: String?
    /// Start, epoch milliseconds.
    public var started: Int64
    /// End, epoch milliseconds.
    public var ended: Int64?
    /// What it read.
    public var inputs: [DatasetRef]
    /// What it wrote.
    public var outputs: [DatasetRef]
    /// The stage command (stage runs).
    public var command: String?
    /// Stage parameters as text.
    public var params: [String: String]?
    /// Values of the declared environment variables (kept in the store only; never emitted).
    public var environment: [String: String?]?
    /// Working directory of the stage.
    public var workingDirectory: String?
    /// Error message of a failed run.
    public var error: String?
    /// Pseudonym of the person behind the run.
    public var agent: String?
    /// A stage restored from the run cache: the run that originally produced its outputs.
    public var restoredFrom: String?
    /// The commit that recorded this run's outputs (set by `repro --commit` or the later commit that records them).
    public var recordedIn: String?
}

/// What a recorded run was (the raw values are stored and exported).
public enum RunKind: String, Codable, Sendable, CaseIterable {
    /// A commit.
    case commit
    /// A `repro` of a whole pipeline (the parent of its stage runs).
    case pipeline
    /// One stage.
    case stage
    /// A push that published commits on a remote: its outputs carry the remote address.
    case publish
    /// A tool called by an agent over MCP (job `strata.mcp.<tool>`), with its arguments as parameters.
    case tool
}

/// The state of a recorded run; the raw values are OpenLineage's event types (and what the store keeps).
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    /// Started, not finished.
    case running = "RUNNING"
    /// Finished successfully.
    case complete = "COMPLETE"
    /// Failed.
    case fail = "FAIL"
    /// Stopped (Ctrl-C) or abandoned.
    case abort = "ABORT"
}

/// Failures of lineage commands.
public enum LineageError: StrataError {
    /// No run or commit by that id.
    case unknownRun(String)
    /// Events could not be delivered and delivery was required.
    case deliveryFailed(String)
    /// `lineage verify` found gaps.
    case verificationFailed([String])
    /// The lineage configuration (openlineage.yml, `OPENLINEAGE__*`) is invalid: nothing is guessed.
    case badConfig(String)
    /// The configured list of names to redact cannot be read: nothing is emitted rather than something unredacted.
    case namesFileUnreadable(String)

    var parts: (code: String, category: ErrorCategory, message: String, next: String?) {
        switch self {
        case .unknownRun(let r): return ("lineage.unknown-run", .notFound, "no recorded run or commit '\(r)'", "list runs with 'strata runs'")
        case .deliveryFailed(let m):
            return (
                "lineage.delivery-failed", .lineage, "lineage could not be delivered: \(m)", "the events wait in the store ('strata lineage flush' sends them)"
            )
        case .verificationFailed(let p): return ("lineage.incomplete", .lineage, "lineage is incomplete:\n  " + p.joined(separator: "\n  "), nil)
        case .badConfig(let m):
            return ("lineage.config", .usage, "lineage configuration: \(m)", "fix it as the OpenLineage client documents it (docs/reference/lineage.md)")
        case .namesFileUnreadable(let f):
            return (
                "lineage.names-file", .usage, "the names to redact cannot be read from '\(f)' (lineage.redact-names-file)",
                "fix the path with 'strata config lineage.redact-names-file PATH'"
            )
        }
    }

    public var code: String { parts.code }
    public var category: ErrorCategory { parts.category }
    public var message: String { parts.message }
    public var nextStep: String? { parts.next }
}

/// Records every run's OpenLineage events and PROV document in the store and delivers the events.
public final class LineageService: @unchecked Sendable {
    // `lock` guards the pending-delivery bookkeeping; the database serialises itself.
    private let lock = NSLock()
    /// Strata's version in `producer` URIs.
    public static let version = "0.1.0"
    /// The store.
    public let repo: Repository
    /// Configuration.
    public let config: LineageConfig
    /// Redaction and pseudonyms.
    public let redactor: Redactor
    /// Delivery problems seen during this process (for warnings).
    public private(set) var deliveryErrors: [String] = []

    /// Lineage's tables (owner `lineage`): runs with their records and PROV documents, and the event outbox.
    public static let schema = ModuleSchema(
        owner: "lineage",
        migrations: [
            Migration(
                1, "lineage runs and the event outbox",
                """
                CREATE TABLE IF NOT EXISTS lineage_runs (run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, job TEXT NOT NULL, parent TEXT,
                    status TEXT NOT NULL, commit_id TEXT, started INTEGER NOT NULL, record TEXT NOT NULL, prov TEXT);
                CREATE INDEX IF NOT EXISTS lineage_runs_by_commit ON lineage_runs(commit_id);
                CREATE TABLE IF NOT EXISTS lineage_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, event_type TEXT NOT NULL,
                    json TEXT NOT NULL, delivered INTEGER NOT NULL DEFAULT 0);
                """),
            Migration(
                2, "one generating run per dataset version (PROV generation uniqueness), backfilled from completed runs",
                """
                CREATE TABLE IF NOT EXISTS lineage_generations (entity TEXT PRIMARY KEY, run_id TEXT NOT NULL);
                INSERT OR IGNORE INTO lineage_generations (entity, run_id)
                    SELECT json_extract(o.value, '$.path') || '@' || json_extract(o.value, '$.sha256'), r.run_id
                    FROM lineage_runs r, json_each(r.record, '$.outputs') o
                    WHERE r.status = 'COMPLETE' AND r.kind IN ('commit', 'stage') AND json_extract(o.value, '$.sha256') IS NOT NULL
                        AND json_extract(o.value, '$.location') IS NULL
                    ORDER BY r.started, r.run_id;
                """),
        ])

    /// Opens lineage for a store (applying its schema when missing, and creating its salt).
    public init(repo: Repository, config: LineageConfig? = nil) throws {
        self.repo = repo
        self.config = try config ?? LineageConfig.load(storePath: repo.storePath, workspace: repo.root)
        try repo.attach(LineageService.schema)
        var salt = try repo.config("lineage.salt")
        if salt == nil { salt = Posix.randomHex(16); try repo.setConfig("lineage.salt", salt) }
        let patterns = (try repo.config("lineage.redact")).map(ConfigList.lines) ?? []
        var names = (try repo.config("lineage.redact-names")).map(ConfigList.items) ?? []
        if let file = try repo.config("lineage.redact-names-file") {
            let path = file.hasPrefix("/") ? file : repo.root + "/" + file
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw LineageError.namesFileUnreadable(file) }
            names += text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.hasPrefix("#") }
        }
        redactor = Redactor(salt: salt!, patterns: patterns, names: names)
    }

    /// The remote a commit is published on (one whose remote-tracking refs reach it), as its URL, or nil.
    public func publishedLocation(of commit: ObjectID) throws -> String? {
        for (key, url) in try repo.allConfig() where key.hasPrefix("remote.") && key.hasSuffix(".url") {
            let name = String(key.dropFirst("remote.".count).dropLast(".url".count))
            for r in try repo.refs(prefix: "refs/remotes/\(name)/") where try repo.isAncestor(commit, of: r.target) { return url }
        }
        return nil
    }

    // MARK: Runs

    /// Starts a run: records it and emits START.
    public func start(
        kind: RunKind, job: String, parent: RunRecord? = nil, inputs: [DatasetRef] = [], command: String? = nil,
        params: [String: String]? = nil, environment: [String: String?]? = nil, workingDirectory: String? = nil,
        agent: String? = nil, restoredFrom: String? = nil
    ) throws -> RunRecord {
        let now = Date()
        var r = RunRecord(
            runId: UUIDv7.make(now), kind: kind, job: job, parent: parent?.runId, status: .running,
            commit: try repo.refs.headCommit()?.hex, branch: try repo.currentBranch()?.rawValue, lockfileHash: nil,
            started: Int64(now.timeIntervalSince1970 * 1000), ended: nil, inputs: inputs, outputs: [], command: command,
            params: params, environment: environment, workingDirectory: workingDirectory, error: nil,
            agent: agent.map(redactor.pseudonym))
        r.agent = r.agent ?? redactor.pseudonym((try? repo.defaultAuthor().email) ?? "unknown")
        r.restoredFrom = restoredFrom
        try emit(r, type: "START", parent: parent, prov: nil)
        return r
    }

    /// Ends a run with COMPLETE, FAIL or ABORT, recording its outputs and PROV document.
    public func finish(
        _ run: RunRecord, status: RunStatus, outputs: [DatasetRef], commit: String? = nil, error: String? = nil,
        parent: RunRecord? = nil
    ) throws -> RunRecord {
        var r = run
        r.status = status; r.outputs = outputs; r.error = error
        r.ended = Int64(Date().timeIntervalSince1970 * 1000)
        if let commit { r.commit = commit }
        if let lock = try? Posix.readFile(repo.root + "/Pipeline.lock") { r.lockfileHash = ObjectID.hash(lock).hex }
        let generated = status == .complete && !config.disabled ? try claimGenerations(r) : []
        // OPENLINEAGE_DISABLED: no PROV document is built either (emit records nothing).
        try emit(r, type: status.rawValue, parent: parent, prov: config.disabled ? nil : try ProvBuilder(service: self).document(for: r, generated: generated))
        return r
    }

    /// The key of a dataset version in `lineage_generations`.
    static func entityKey(_ d: DatasetRef) -> String? { d.sha256.map { d.path + "@" + $0 } }

    /// Records `r` as the generating run of each output version that no earlier run generated; returns the keys it
    /// generated (the others were generated before, e.g. restored from the run cache or committed again).
    func claimGenerations(_ r: RunRecord) throws -> Set<String> {
        guard r.kind == .commit || r.kind == .stage, r.restoredFrom == nil else { return [] }
        var mine = Set<String>()
        for o in r.outputs where o.location == nil {
            guard let key = LineageService.entityKey(o) else { continue }
            try repo.db.run("INSERT OR IGNORE INTO lineage_generations (entity, run_id) VALUES (?, ?)", [.text(key), .text(r.runId)])
            if try producer(of: key) == r.runId { mine.insert(key) }
        }
        return mine
    }

    /// The COMPLETE commit run of a commit, if recorded.
    func commitRun(of commit: ObjectID) throws -> String? {
        var id: String?
        try repo.db.query(
            "SELECT run_id FROM lineage_runs WHERE kind = 'commit' AND commit_id = ? AND status = 'COMPLETE' ORDER BY started LIMIT 1", [.text(commit.hex)]
        ) { id = $0.text(0) }
        return id
    }

    /// The run that generated a dataset version (`path@sha256`), if any.
    func producer(of key: String) throws -> String? {
        var id: String?
        try repo.db.query("SELECT run_id FROM lineage_generations WHERE entity = ?", [.text(key)]) { id = $0.text(0) }
        return id
    }

    func save(_ r: RunRecord, prov: Data? = nil) throws {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let record = String(decoding: try enc.encode(r), as: UTF8.self)
        try repo.db.run(
            """
            INSERT INTO lineage_runs (run_id, kind, job, parent, status, commit_id, started, record, prov) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(run_id) DO UPDATE SET status = excluded.status, commit_id = excluded.commit_id, record = excluded.record,
                prov = coalesce(excluded.prov, lineage_runs.prov)
            """,
            [
                .text(r.runId), .text(r.kind.rawValue), .text(r.job), r.parent.map { .text($0) } ?? .null, .text(r.status.rawValue),
                r.commit.map { .text($0) } ?? .null, .int(r.started), .text(record), prov.map { .text(String(decoding: $0, as: UTF8.self)) } ?? .null,
            ])
    }

    // MARK: Events

    /// Builds the RunEvent of `type` for a run (all literals redacted).
    public func event(_ r: RunRecord, type: String, parent: RunRecord?) -> [String: Any] {
        let time = Date(timeIntervalSince1970: Double(type == "START" ? r.started : (r.ended ?? r.started)) / 1000)
        let f = ISO8601DateFormatter(); f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var runFacets: [String: Any] = [
            "processing_engine": EventBuilder.olFacet("ProcessingEngineRunFacet", "1-1-1", ["version": LineageService.version, "name": "strata"]),
            "strata_run": EventBuilder.facet(
                EventBuilder.runFacetSchema,
                [
                    "commit": r.commit ?? NSNull(), "branch": r.branch.map(redactor.redact) ?? NSNull(), "lockfileHash": r.lockfileHash ?? NSNull(),
                    "kind": r.kind.rawValue, "agent": r.agent ?? NSNull(),
                ]),
        ]
        // An agent's tool call carries its arguments (values redacted like every literal).
        if r.kind == .tool, let p = r.params {
            runFacets["strata_arguments"] = EventBuilder.facet(
                EventBuilder.argumentsFacetSchema, ["tool": String(r.job.split(separator: ".").last ?? ""), "arguments": p.mapValues(redactor.redact)])
        }
        if let from = r.restoredFrom {
            runFacets["strata_restored"] = EventBuilder.facet(EventBuilder.restoredFacetSchema, ["originalRunId": from])
        }
        if let p = parent {
            runFacets["parent"] = EventBuilder.olFacet(
                "ParentRunFacet", "1-2-0",
                [
                    "run": ["runId": p.runId], "job": ["namespace": config.namespace, "name": p.job],
                ])
        }
        // The error goes out with FAIL and with ABORT (docs/reference/lineage.md), redacted.
        if type == RunStatus.fail.rawValue || type == RunStatus.abort.rawValue, let e = r.error {
            runFacets["errorMessage"] = EventBuilder.olFacet("ErrorMessageRunFacet", "1-0-1", ["message": redactor.redact(e), "programmingLanguage": "shell"])
        }
        var jobFacets: [String: Any] = [
            "jobType": EventBuilder.olFacet(
                "JobTypeJobFacet", "2-0-4", ["processingType": "BATCH", "integration": "STRATA", "jobType": r.kind.rawValue.uppercased()])
        ]
        if let c = r.command {
            jobFacets["sourceCode"] = EventBuilder.olFacet("SourceCodeJobFacet", "1-0-1", ["language": "shell", "sourceCode": redactor.redact(c)])
        }
        var e: [String: Any] = [
            "eventType": type, "eventTime": f.string(from: time), "producer": EventBuilder.producer, "schemaURL": EventBuilder.schemaURL,
            "run": ["runId": r.runId, "facets": runFacets],
            "job": ["namespace": config.namespace, "name": redactor.redact(r.job), "facets": jobFacets],
            "inputs": r.inputs.map { EventBuilder.dataset($0, namespace: config.namespace, root: repo.root, redactor: redactor, output: false) },
        ]
        e["outputs"] =
            type == "START" ? [] : r.outputs.map { EventBuilder.dataset($0, namespace: config.namespace, root: repo.root, redactor: redactor, output: true) }
        // The last line of defence: every string of the event goes through the redactor once more.
        return redactor.scrub(e) as? [String: Any] ?? e
    }

    /// Delivers the event, then records the run and the event (delivered or queued) in one relaxed transaction.
    /// A crash between the two may send an event twice, which the OpenLineage model tolerates; it never loses one.
    func emit(_ r: RunRecord, type: String, parent: RunRecord?, prov: Data?) throws {
        if config.disabled { return }  // OPENLINEAGE_DISABLED: nothing is produced, not even queued
        let data = try JSONSerialization.data(withJSONObject: event(r, type: type, parent: parent), options: [.sortedKeys, .withoutEscapingSlashes])
        let delivered = config.disabled ? false : deliver(runID: r.runId, data: data)
        try repo.db.relaxedTransaction {
            try save(r, prov: prov)
            try repo.db.run(
                "INSERT INTO lineage_events (run_id, event_type, json, delivered) VALUES (?, ?, ?, ?)",
                [.text(r.runId), .text(type), .text(String(decoding: data, as: UTF8.self)), .int(delivered ? 1 : 0)])
        }
    }

    /// Delivers one event; a failure only queues it (and, once seen, later events of this process are queued
    /// without trying, so a backend that is down costs one timeout, not one per event).
    func deliver(runID: String, data: Data) -> Bool {
        lock.lock(); let broken = !deliveryErrors.isEmpty; lock.unlock()
        if broken { return false }
        do {
            for t in config.transports { try Delivery.send(data, runID: runID, to: t) }
            return true
        } catch {
            lock.lock(); deliveryErrors.append((error as? StrataError)?.message ?? "\(error)"); lock.unlock()
            return false
        }
    }

    /// Throws when delivery was required and something could not be delivered.
    public func checkDelivery() throws {
        lock.lock(); let e = deliveryErrors.last; lock.unlock()
        if config.requireLineage, let e { throw LineageError.deliveryFailed(e) }
    }

    /// Sends every event not delivered yet, oldest first; returns (sent, still pending).
    public func flush() throws -> (sent: Int, pending: Int) {
        var rows: [(Int64, String, String)] = []
        try repo.db.query("SELECT seq, run_id, json FROM lineage_events WHERE delivered = 0 ORDER BY seq") { r in rows.append((r.int(0), r.text(1), r.text(2)))
        }
        var sent = 0
        for (seq, run, json) in rows {
            do {
                for t in config.transports { try Delivery.send(Data(json.utf8), runID: run, to: t) }
                try repo.db.run("UPDATE lineage_events SET delivered = 1 WHERE seq = ?", [.int(seq)])
                sent += 1
            } catch {
                lock.lock(); deliveryErrors.append((error as? StrataError)?.message ?? "\(error)"); lock.unlock()
                break
            }
        }
        return (sent, rows.count - sent)
    }

    /// Every stored event as JSON lines, oldest first, redacted again on the way out (events stored by an older
    /// version, or before a name was added to the list, are covered too).
    public func export() throws -> [String] {
        var out: [String] = []
        try repo.db.query("SELECT json FROM lineage_events ORDER BY seq") { r in
            out.append(String(decoding: self.redactor.scrubJSON(Data(r.text(0).utf8)), as: UTF8.self))
        }
        return out
    }

    /// Recorded runs, newest first, redacted for output: paths pseudonymised, commands, errors and parameters
    /// redacted, environment values dropped.
    public func runs() throws -> [RunRecord] { try storedRuns().map(redactor.redacted) }

    /// Runs that read or wrote `dataset` (a workspace path; a file inside a folder dataset counts), and/or that
    /// output a version with content hash `outputSHA256`, newest first, redacted for output.
    public func runs(dataset: String?, outputSHA256: String?) throws -> [RunRecord] {
        let path = dataset.map { $0.slashSeparated().joined(separator: "/") }
        func touches(_ d: DatasetRef) -> Bool {
            guard let path else { return true }
            let p = d.path.slashSeparated().joined(separator: "/")
            return p == path || (d.path.hasSuffix("/") && path.hasPrefix(p + "/"))
        }
        return try storedRuns().filter { r in
            (path == nil || (r.inputs + r.outputs).contains(where: touches))
                && (outputSHA256 == nil || r.outputs.contains { $0.sha256 == outputSHA256?.lowercased() && touches($0) })
        }.map(redactor.redacted)
    }

    /// A run by id (or unique prefix), or the commit run of a commit id, redacted for output.
    public func run(_ id: String) throws -> RunRecord { redactor.redacted(try storedRun(id)) }

    /// Recorded runs as stored (raw commands and paths), newest first: for reproducing and matching, never for output.
    public func storedRuns() throws -> [RunRecord] {
        var out: [RunRecord] = []
        try repo.db.query("SELECT record FROM lineage_runs ORDER BY started DESC, run_id DESC") { r in
            if let rec = try? JSONDecoder().decode(RunRecord.self, from: Data(r.text(0).utf8)) { out.append(rec) }
        }
        return out
    }

    /// A run by id (or unique prefix), or the commit run of a commit id, as stored: never for output.
    public func storedRun(_ id: String) throws -> RunRecord {
        var exact: RunRecord?
        try repo.db.query("SELECT record FROM lineage_runs WHERE run_id = ?", [.text(id)]) { r in
            exact = try? JSONDecoder().decode(RunRecord.self, from: Data(r.text(0).utf8))
        }
        if let exact { return exact }
        let all = try storedRuns()
        if let r = all.first(where: { $0.runId == id }) { return r }
        let byPrefix = all.filter { $0.runId.hasPrefix(id) }
        if byPrefix.count == 1 { return byPrefix[0] }
        if let c = try? repo.resolve(id), let r = all.first(where: { $0.kind == .commit && $0.commit == c.hex }) { return r }
        throw LineageError.unknownRun(id)
    }

    /// The stored PROV document of a run.
    public func prov(_ run: RunRecord) throws -> Data {
        var text: String?
        try repo.db.query("SELECT prov FROM lineage_runs WHERE run_id = ?", [.text(run.runId)]) { r in if !r.isNull(0) { text = r.text(0) } }
        let document = try text.map { Data($0.utf8) } ?? ProvBuilder(service: self).document(for: try storedRun(run.runId))
        return redactor.scrubJSON(document, pretty: true)
    }

    /// Every stored PROV document merged into one graph (nodes with the same `@id` merged, differing values of a
    /// property kept as a set), redacted: what a PROV store would hold after loading every run. Each dataset version
    /// has at most one `prov:wasGeneratedBy` in it.
    public func mergedProv() throws -> Data {
        var nodes: [String: [String: Any]] = [:]
        var order: [String] = []
        func key(_ v: Any) -> String {
            String(decoding: (try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed])) ?? Data(), as: UTF8.self)
        }
        try repo.db.query("SELECT prov FROM lineage_runs WHERE prov IS NOT NULL ORDER BY started, run_id") { r in
            guard let doc = try? JSONSerialization.jsonObject(with: Data(r.text(0).utf8)) as? [String: Any], let graph = doc["@graph"] as? [[String: Any]]
            else { return }
            for n in graph {
                guard let id = n["@id"] as? String else { continue }
                guard var merged = nodes[id] else { nodes[id] = n; order.append(id); continue }
                for (k, v) in n where k != "@id" {
                    guard let old = merged[k] else { merged[k] = v; continue }
                    var values = (old as? [Any]) ?? [old]
                    for x in (v as? [Any]) ?? [v] where !values.contains(where: { key($0) == key(x) }) { values.append(x) }
                    merged[k] = values.count == 1 ? values[0] : values
                }
                nodes[id] = merged
            }
        }
        let doc: [String: Any] = ["@context": ProvBuilder.context, "@graph": order.compactMap { nodes[$0] }]
        return redactor.scrubJSON(try JSONSerialization.data(withJSONObject: doc), pretty: true)
    }

    /// Stage runs of a pipeline run, in start order.
    public func children(of run: RunRecord) throws -> [RunRecord] {
        var out: [RunRecord] = []
        try repo.db.query("SELECT record FROM lineage_runs WHERE parent = ? ORDER BY started, run_id", [.text(run.runId)]) { r in
            if let rec = try? JSONDecoder().decode(RunRecord.self, from: Data(r.text(0).utf8)) { out.append(rec) }
        }
        return out
    }
}
