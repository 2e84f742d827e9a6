import Foundation
import MCP
import StrataDiff
import StrataLineage
import StrataMaintenance
import StrataModel
import StrataPipeline
import StrataPlatform
import StrataRepository
import StrataTables
import StrataWeb
import StrataWorkflows

/// A tool's argument that is missing or of the wrong kind: an MCP tool error (the call's result has `isError`),
/// naming the argument and what it takes.
struct ToolArgumentError: Error, CustomStringConvertible {
    let description: String
}

/// The tools `strata mcp` offers agents: the same library calls the command line makes, with JSON Schemas for their
/// inputs and structured results. Reads are bounded (pages, row limits); writes need `confirm: true`.
public struct StrataTools: Sendable {
    /// What the tools read, through its permission checks (a local store, or a server namespace for one principal).
    public let source: any WebSource
    /// The workspace, for the tools that need one (status, commit, the pipeline); nil on a server.
    public let workspace: Repository?
    /// The store the tools act on.
    public var repo: Repository { source.repo }

    /// Tools for a local store and its workspace (`strata mcp`).
    public init(repo: Repository) {
        source = LocalWebSource(repo: repo)
        workspace = repo
    }

    /// Tools for a store without a workspace, read through `source` (a server namespace: `strata serve`'s `/mcp`).
    public init(source: any WebSource) {
        self.source = source
        workspace = nil
    }

    /// The tools a store without a workspace offers.
    public static let serverTools: Set<String> = [
        "log", "show", "ls", "diff", "cat_rows", "runs", "lineage_graph", "lineage_prov", "branch_create", "tag_create",
    ]

    /// The tools this instance offers.
    public var offered: [Tool] { workspace == nil ? StrataTools.tools.filter { StrataTools.serverTools.contains($0.name) } : StrataTools.tools }

    static func schema(_ properties: [String: Value], required: [String] = []) -> Value {
        .object(["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) }), "additionalProperties": false])
    }
    static let string: Value = .object(["type": "string"])
    static func string(_ description: String) -> Value { .object(["type": "string", "description": .string(description)]) }
    static func integer(_ description: String, max: Int) -> Value {
        .object(["type": "integer", "minimum": 0, "maximum": .int(max), "description": .string(description)])
    }
    static let confirm: Value = .object(["type": "boolean", "description": "Must be true: this tool changes the store."])

    /// Every tool with its input schema.
    public static let tools: [Tool] = [
        Tool(
            name: "log", description: "Commits reachable from a revision, newest first.",
            inputSchema: schema(["rev": string("A branch, tag or commit (default HEAD)."), "limit": integer("At most this many (default 50).", max: 1000)]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "show", description: "A commit and the files it changed against its first parent.",
            inputSchema: schema(
                ["rev": string("A branch, tag or commit."), "limit": integer("At most this many changes (default 200).", max: 10_000)], required: ["rev"]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "ls", description: "The entries of a folder at a revision.",
            inputSchema: schema([
                "rev": string("Default HEAD."), "path": string("A folder or file (default: the root)."),
                "recursive": .object(["type": "boolean"]), "limit": integer("At most this many (default 500).", max: 10_000),
            ]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "status", description: "Files added, modified, deleted or renamed in the workspace since HEAD.", inputSchema: schema([:]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "diff", description: "Files changed between two revisions; with path and key, a page of the table's changed rows.",
            inputSchema: schema(
                [
                    "from": string("The old revision."), "to": string("The new revision."), "path": string("A table, for a row diff."),
                    "key": string("Key columns of the table, comma-separated."), "offset": integer("Skip this many changes.", max: 10_000_000),
                    "limit": integer("At most this many (default 100).", max: 1000),
                ], required: ["from", "to"]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "cat_rows", description: "Rows of a table (CSV, TSV, JSONL, Parquet) at a revision: a bounded page, never a whole file.",
            inputSchema: schema(
                [
                    "rev": string("Default HEAD."), "path": string("The table."), "offset": integer("Skip this many rows.", max: 100_000_000),
                    "limit": integer("At most this many rows (default 50).", max: 1000),
                ], required: ["path"]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "runs", description: "Recorded lineage runs (commits, pipeline stages, publications), newest first, redacted.",
            inputSchema: schema(["limit": integer("At most this many (default 50).", max: 1000)]), annotations: .init(readOnlyHint: true)),
        Tool(
            name: "stages", description: "The stages Pipeline.swift declares: their inputs, outputs and dependencies.", inputSchema: schema([:]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "repro_dry_run", description: "Which stages `repro` would run or restore from the run cache, and why; nothing runs.",
            inputSchema: schema([:]), annotations: .init(readOnlyHint: true)),
        Tool(
            name: "prune_dry_run",
            description: "What `prune` would keep and forget, each commit with its reasons; nothing changes. Without rules, the saved and declared policies.",
            inputSchema: schema(["rules": string("Retention rules as on the command line, e.g. '--keep-last 5 --keep-daily 7'.")]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "lineage_prov", description: "The W3C PROV-O document (JSON-LD) of a recorded run, or of a commit's run; redacted.",
            inputSchema: schema(["run": string("A run id (or unique prefix), or a commit.")], required: ["run"]), annotations: .init(readOnlyHint: true)),
        Tool(
            name: "lineage_graph",
            description:
                "The lineage graph (datasets with their sha256, runs with their status) behind a commit, or around one dataset within N hops upstream and downstream.",
            inputSchema: schema([
                "rev": string("A commit, branch or tag (default HEAD)."), "dataset": string("A dataset path, to focus the graph on it."),
                "hops": integer("Runs upstream and downstream of the dataset (default 2).", max: 10),
            ]),
            annotations: .init(readOnlyHint: true)),
        Tool(
            name: "repro", description: "Bring the pipeline up to date: run the stages whose inputs, command or parameters changed (needs confirm).",
            inputSchema: schema(
                [
                    "stages": .object(["type": "array", "items": .object(["type": "string"]), "description": "Only these stages (and what they need)."]),
                    "confirm": confirm,
                ], required: ["confirm"]),
            annotations: .init(readOnlyHint: false, destructiveHint: false)),
        Tool(
            name: "commit", description: "Commit the workspace with a message, recording the commit's lineage (needs confirm).",
            inputSchema: schema(["message": string("The commit message."), "confirm": confirm], required: ["message", "confirm"]),
            annotations: .init(readOnlyHint: false, destructiveHint: false)),
        Tool(
            name: "branch_create", description: "Create a branch at a revision (needs confirm).",
            inputSchema: schema(
                ["name": string("The new branch."), "at": string("Where it starts (default HEAD)."), "confirm": confirm], required: ["name", "confirm"]),
            annotations: .init(readOnlyHint: false, destructiveHint: false)),
        Tool(
            name: "tag_create", description: "Create a tag at a revision (needs confirm).",
            inputSchema: schema(
                [
                    "name": string("The new tag."), "at": string("What it names (default HEAD)."), "message": string("Makes an annotated tag."),
                    "confirm": confirm,
                ],
                required: ["name", "confirm"]),
            annotations: .init(readOnlyHint: false, destructiveHint: false)),
    ]

    /// Calls tool `name`. Bad arguments and store errors become tool errors (`isError`) with the message and next
    /// step, as the command line prints them; an unknown tool is a protocol error.
    public func call(_ name: String, _ arguments: [String: Value]) throws -> CallTool.Result {
        guard offered.contains(where: { $0.name == name }) else { throw MCPError.invalidParams("no tool named '\(name)'") }
        // Every call is a lineage run (job strata.mcp.<tool>), its arguments as parameters (redacted on the way out
        // like every run's); with lineage off, none is recorded.
        let service = try? LineageOptions().service(workspace ?? repo)
        let params = arguments.mapValues { v -> String in
            if let s = v.stringValue { return s }
            if let b = v.boolValue { return String(b) }
            if let n = v.intValue { return String(n) }
            return "…"
        }
        let run = service.flatMap { try? $0.start(kind: .tool, job: "strata.mcp." + name, params: params, agent: "mcp") }
        let result = try callRecorded(name, arguments)
        if let service, let run {
            _ = try? service.finish(
                run, status: result.isError == true ? .fail : .complete, outputs: [],
                error: result.isError == true ? result.content.first.flatMap { if case .text(let t, _, _) = $0 { t } else { nil } } : nil)
        }
        return result
    }

    func callRecorded(_ name: String, _ arguments: [String: Value]) throws -> CallTool.Result {
        do {
            let result = try run(name, arguments)
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let text = String(decoding: try enc.encode(result), as: UTF8.self)
            return try CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: result, isError: false)
        } catch let e as ToolArgumentError {
            return CallTool.Result(content: [.text(text: e.description, annotations: nil, _meta: nil)], isError: true)
        } catch let e as any StrataError {
            return CallTool.Result(content: [.text(text: "\(e.code): \(e.description)", annotations: nil, _meta: nil)], isError: true)
        }
    }

    func string(_ a: [String: Value], _ key: String, required: Bool = false) throws -> String? {
        guard let v = a[key] else {
            if required { throw ToolArgumentError(description: "'\(key)' is required") }
            return nil
        }
        guard let s = v.stringValue, !s.isEmpty, s.count <= 1000 else { throw ToolArgumentError(description: "'\(key)' takes a non-empty string") }
        return s
    }

    func int(_ a: [String: Value], _ key: String, default d: Int, max: Int) throws -> Int {
        guard let v = a[key] else { return d }
        guard let n = v.intValue, n >= 0, n <= max else { throw ToolArgumentError(description: "'\(key)' takes a whole number from 0 to \(max)") }
        return n
    }

    func bool(_ a: [String: Value], _ key: String) throws -> Bool {
        guard let v = a[key] else { return false }
        guard let b = v.boolValue else { throw ToolArgumentError(description: "'\(key)' takes true or false") }
        return b
    }

    static func commit(_ id: ObjectID, _ c: Commit) -> Value {
        .object([
            "id": .string(id.hex), "tree": .string(c.tree.hex), "parents": .array(c.parents.map { .string($0.hex) }), "author": .string(c.author.name),
            "email": .string(c.author.email), "time": .int(Int(c.time)), "message": .string(c.message),
        ])
    }

    static func change(_ c: Change) -> Value {
        var o: [String: Value] = ["status": .string(c.status.rawValue), "path": .string(c.path)]
        if let p = c.oldPath { o["oldPath"] = .string(p) }
        if let v = c.old { o["oldId"] = .string(v.id.hex); o["oldSize"] = .int(Int(v.size)) }
        if let v = c.new { o["newId"] = .string(v.id.hex); o["newSize"] = .int(Int(v.size)) }
        return .object(o)
    }

    /// A path argument: relative to the workspace root, without `.`/`..` parts.
    func path(_ raw: String) throws -> String {
        let parts = raw.slashSeparated(omittingEmpty: false)
        if raw.hasPrefix("/") || parts.contains(where: { $0 == "." || $0 == ".." }) || raw.utf8.contains(0) {
            throw ToolArgumentError(description: "'\(raw)' is not a path inside the store (relative, no '.' or '..')")
        }
        return parts.filter { !$0.isEmpty }.joined(separator: "/")
    }

    func needWorkspace() throws -> Repository {
        guard let workspace else { throw ToolArgumentError(description: "this tool needs a workspace: run `strata mcp` in one") }
        return workspace
    }

    /// Thrown by a row sink to stop reading once a page is full.
    struct PageFull: Error {}

    func run(_ name: String, _ a: [String: Value]) throws -> Value {
        switch name {
        case "log":
            let limit = try int(a, "limit", default: 50, max: 1000)
            let tip = try source.resolve(try string(a, "rev") ?? source.defaultRevision)
            return .object(["commits": .array(try repo.log(tip.hex, limit: max(1, limit)).map { StrataTools.commit($0.id, $0.commit) })])
        case "show":
            let id = try source.resolve(try string(a, "rev", required: true)!)
            let limit = try int(a, "limit", default: 200, max: 10_000)
            let changes = try repo.changes(of: id)
            return .object([
                "commit": StrataTools.commit(id, try repo.commit(id)), "changes": .array(changes.prefix(limit).map(StrataTools.change)),
                "truncated": .bool(changes.count > limit),
            ])
        case "ls":
            let limit = try int(a, "limit", default: 500, max: 10_000)
            let at = try source.resolve(try string(a, "rev") ?? source.defaultRevision)
            let entries = try repo.list(at.hex, path: try path(try string(a, "path") ?? ""), recursive: try bool(a, "recursive"))
            return .object([
                "entries": .array(
                    entries.prefix(limit).map {
                        .object(["path": .string($0.path), "kind": .string($0.kind.rawValue), "size": .int(Int($0.size)), "id": .string($0.id.hex)])
                    }),
                "truncated": .bool(entries.count > limit),
            ])
        case "status":
            let s = try needWorkspace().status()
            return .object([
                "branch": s.branch.map { .string($0.rawValue) } ?? .null, "head": s.head.map { .string($0.hex) } ?? .null,
                "changes": .array(s.changes.prefix(1000).map(StrataTools.change)), "clean": .bool(s.isClean),
            ])
        case "diff":
            let from = try source.resolve(try string(a, "from", required: true)!).hex, to = try source.resolve(try string(a, "to", required: true)!).hex
            let offset = try int(a, "offset", default: 0, max: 10_000_000), limit = max(1, try int(a, "limit", default: 100, max: 1000))
            if let table = try string(a, "path") {
                var options = TableDiffOptions()
                options.key = (try string(a, "key") ?? "").split(separator: ",").map(String.init)
                options.memoryBudget = 64 << 20
                var page: [Value] = []
                var seen = 0
                let summary = try TableService(repo: repo).diff(from, to, path: repo.root + "/" + (try path(table)), options: options) { change in
                    if seen >= offset && page.count < limit { page.append(try Value(change)) }
                    seen += 1
                }
                return .object(["summary": try Value(summary), "rows": .array(page), "offset": .int(offset), "truncated": .bool(seen > offset + page.count)])
            }
            let changes = try repo.diff(from, to)
            let slice = changes.dropFirst(offset).prefix(limit)
            return .object(["changes": .array(slice.map(StrataTools.change)), "offset": .int(offset), "truncated": .bool(changes.count > offset + slice.count)])
        case "cat_rows":
            let rev = try source.resolve(try string(a, "rev") ?? source.defaultRevision).hex, file = try path(try string(a, "path", required: true)!)
            let offset = try int(a, "offset", default: 0, max: 100_000_000), limit = max(1, try int(a, "limit", default: 50, max: 1000))
            guard let format = TableFormat.guess(file), !format.isFolder else {
                throw ToolArgumentError(description: "'\(file)' is not a table strata reads (CSV, TSV, JSONL, Parquet)")
            }
            var parser = RowParser(format: format)
            var rows: [Value] = []
            var seen = 0
            let take: (Row) throws -> Void = { row in
                if seen >= offset { rows.append(.object(row.mapValues { .string($0) })) }
                seen += 1
                if rows.count >= limit { throw PageFull() }
            }
            do {
                try repo.cat(rev, path: file) { try parser.feed($0, take) }
                try parser.finish(take)
            } catch is PageFull {}
            return .object([
                "columns": .array(parser.columns.map { .string($0) }), "rows": .array(rows), "offset": .int(offset), "complete": .bool(rows.count < limit),
            ])
        case "runs":
            let limit = try int(a, "limit", default: 50, max: 1000)
            let runs = try source.allRuns(limit: max(1, limit)) ?? source.runs(of: try source.resolve(source.defaultRevision))
            return .object(["runs": .array(try runs.prefix(max(1, limit)).map { try Value($0) })])
        case "stages":
            let spec = try PipelineWorkflow.load(try needWorkspace()).spec
            return .object([
                "pipeline": .string(spec.name),
                "stages": .array(
                    spec.stages.map { st in
                        .object([
                            "name": .string(st.name), "inputs": .array(st.inputs.map { .string($0.path) }),
                            "outputs": .array(st.outputs.map { .object(["path": .string($0.path), "kind": .string($0.kind)]) }),
                            "after": .array(st.after.map { .string($0) }),
                        ])
                    }),
            ])
        case "repro_dry_run":
            let ws = try needWorkspace()
            let runner = try PipelineRunner(repo: ws, spec: try PipelineWorkflow.load(ws).spec)
            var o = ReproOptions()
            o.dryRun = true
            return .object([
                "stages": .array(
                    try runner.run(o).outcomes.map { .object(["name": .string($0.name), "action": .string($0.action.rawValue), "reason": .string($0.reason)]) })
            ])
        case "prune_dry_run":
            let rules = try string(a, "rules").map { try RetentionPolicy(rules: $0.split(separator: " ").map(String.init)) }
            let (result, _) = try PruneWorkflow.prune(
                try needWorkspace(), rules: rules, now: Date(), timeZone: .current, reflogExpire: try RetentionDuration(parsing: "90d"), dryRun: true)
            return .object([
                "commits": .array(
                    result.plan.decisions.map {
                        .object([
                            "commit": .string($0.id.hex), "action": .string($0.keep ? "keep" : "forget"), "reasons": .array($0.reasons.map { .string($0) }),
                        ])
                    })
            ])
        case "lineage_prov":
            let run = try string(a, "run", required: true)!
            guard let ws = workspace else {
                // A server keeps each commit's PROV document in its lineage bundle.
                let id = try source.resolve(run)
                guard let doc = try source.prov(of: id) else { throw ToolArgumentError(description: "no lineage was pushed for commit \(id.short)") }
                return .object(["prov": try JSONDecoder().decode(Value.self, from: doc)])
            }
            let service = try LineageService(repo: ws)
            let doc = try service.prov(try service.run(run))
            return .object(["prov": try JSONDecoder().decode(Value.self, from: doc)])
        case "lineage_graph":
            let id = try source.resolve(try string(a, "rev") ?? source.defaultRevision)
            let dataset = try string(a, "dataset").map { try path($0) }
            let (graph, runs) = try WebPages(source: source, links: .staticSite).lineageGraph(
                commit: id, dataset: dataset, sha: nil, hops: max(1, try int(a, "hops", default: 2, max: 10)))
            return .object([
                "commit": .string(id.hex),
                "nodes": .array(
                    graph.nodes.map { n in
                        var o: [String: Value] = ["id": .string(n.id), "kind": .string(n.kind.rawValue), "label": .string(n.label)]
                        if let r = runs.first(where: { "run:" + $0.runId == n.id }) {
                            o["status"] = .string(r.status.rawValue)
                            o["job"] = .string(source.redact(r.job))
                        } else if let at = n.id.lastIndex(of: "@") {
                            o["sha256"] = .string(String(n.id[n.id.index(after: at)...]))
                        }
                        return .object(o)
                    }),
                "edges": .array(graph.edges.map { .object(["from": .string($0.0), "to": .string($0.1)]) }),
            ])
        case "repro":
            guard try bool(a, "confirm") else {
                throw ToolArgumentError(description: "'repro' runs stages and changes the workspace: call it again with confirm: true")
            }
            var session = ReproSession(repo: try needWorkspace())
            if let list = a["stages"] {
                guard let items = list.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                    throw ToolArgumentError(description: "'stages' takes a list of stage names")
                }
                session.options.targets = items.compactMap(\.stringValue)
            }
            let outcome = try session.run()
            return .object([
                "pipeline": .string(outcome.pipeline), "succeeded": .bool(outcome.result.succeeded), "lockChanged": .bool(outcome.result.lockChanged),
                "stages": .array(
                    outcome.result.outcomes.map { .object(["name": .string($0.name), "action": .string($0.action.rawValue), "reason": .string($0.reason)]) }),
            ])
        case "commit":
            guard try bool(a, "confirm") else { throw ToolArgumentError(description: "'commit' changes the store: call it again with confirm: true") }
            let outcome = try CommitWorkflow.commit(try needWorkspace(), CommitOptions(message: try string(a, "message", required: true)!))
            return .object(["commit": .string(outcome.commit.id.hex), "changes": .int(outcome.commit.changeCount)])
        case "branch_create", "tag_create":
            guard try bool(a, "confirm") else { throw ToolArgumentError(description: "'\(name)' changes the store: call it again with confirm: true") }
            let n = try string(a, "name", required: true)!, at = try string(a, "at")
            let id = try source.createRef(tag: name == "tag_create", name: n, at: at ?? source.defaultRevision, message: try string(a, "message"))
            return .object([name == "branch_create" ? "branch" : "tag": .string(n), "target": .string(id.hex)])
        default:
            throw MCPError.invalidParams("no tool named '\(name)'")
        }
    }
}

extension StrataTools {
    /// The resources: the DCAT catalogue (JSON-LD) of the default revision, and each published dataset's page
    /// (Markdown). Empty when nothing is published.
    public func resources() throws -> [Resource] {
        let id = try source.resolve(source.defaultRevision)
        let doc: Data
        do { doc = try source.catalog(at: id).0 } catch let e as any StrataError where e.code == "catalog.nothing-published" { return [] }
        return [
            Resource(
                name: "catalog", uri: "strata://catalog", title: "DCAT catalogue", description: "The DCAT 3 catalogue of published datasets",
                mimeType: "application/ld+json")
        ]
            + catalogDatasets(doc).map {
                Resource(
                    name: $0.path, uri: "strata://dataset/" + $0.path, title: source.redact($0.title), description: "The dataset's page",
                    mimeType: "text/markdown")
            }
    }

    /// One resource's contents.
    public func read(_ uri: String) throws -> [Resource.Content] {
        let id = try source.resolve(source.defaultRevision)
        let (doc, pages) = try source.catalog(at: id)
        if uri == "strata://catalog" { return [.text(String(decoding: doc, as: UTF8.self), uri: uri, mimeType: "application/ld+json")] }
        guard uri.hasPrefix("strata://dataset/") else { throw MCPError.invalidParams("no resource '\(uri)'") }
        let path = String(uri.dropFirst("strata://dataset/".count))
        guard catalogDatasets(doc).contains(where: { $0.path == path }), let page = pages[source.redact(path).replacingOccurrences(of: "/", with: "_") + ".md"]
        else { throw MCPError.invalidParams("'\(path)' is not a published dataset") }
        return [.text(page, uri: uri, mimeType: "text/markdown")]
    }
}

/// `strata mcp`: the tools over MCP's stdio transport (JSON-RPC, one message a line), until stdin ends; `strata serve`
/// answers the same tools at `/{namespace}/mcp` over streamable HTTP (stateless: each POST is answered by its own
/// server instance, bound to the caller's token).
public enum StrataMCPServer {
    static func server(_ tools: StrataTools, version: String) async -> Server {
        let server = Server(
            name: "strata", version: version, capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: tools.offered) }
        await server.withMethodHandler(CallTool.self) { params in
            try await offload { try tools.call(params.name, params.arguments ?? [:]) }
        }
        await server.withMethodHandler(ListResources.self) { _ in .init(resources: try await offload { try tools.resources() }) }
        await server.withMethodHandler(ReadResource.self) { params in .init(contents: try await offload { try tools.read(params.uri) }) }
        return server
    }

    /// Serves `repo` on stdin and stdout.
    public static func runStdio(repo: Repository, version: String) async throws {
        let server = await server(StrataTools(repo: repo), version: version)
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
    }

    /// Answers one streamable-HTTP POST for `source` (the caller's view of a namespace).
    public static func answer(_ request: HTTPRequest, source: any WebSource, version: String) async -> HTTPResponse {
        let transport = StatelessHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
            ]))
        let server = await server(StrataTools(source: source), version: version)
        do { try await server.start(transport: transport) } catch { return .error(statusCode: 500, .internalError("the MCP server did not start")) }
        let response = await transport.handleRequest(request)
        await server.stop()
        return response
    }
}
