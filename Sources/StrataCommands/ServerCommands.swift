import ArgumentParser
import Foundation
import StrataPlatform
import StrataRepository
import StrataMCP
import StrataServer

/// Runs an async service (a server, an MCP session) from a synchronous command until it ends, rethrowing its error.
func runUntilDone(_ body: @escaping @Sendable () async throws -> Void) throws {
    let failure = Locked<(any Error)?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await body() } catch { failure.with { $0 = error } }
        done.signal()
    }
    done.wait()
    if let e = failure.get { throw e }
}

/// Where the server's records are: `--root`, else `STRATA_SERVER_ROOT`, else the working folder.
struct ServerRootOption: ParsableArguments {
    @Option(help: ArgumentHelp("The server root (default: STRATA_SERVER_ROOT, else the working folder).", valueName: "DIR")) var root: String?

    func open(create: Bool = false) throws -> ServerStore {
        try ServerStore(root: root ?? ProcessInfo.processInfo.environment["STRATA_SERVER_ROOT"] ?? FileManager.default.currentDirectoryPath, create: create)
    }

    /// Who a command run on the server's machine acts as, for the audit log.
    var actor: String { "local:" + (ProcessInfo.processInfo.environment["USER"] ?? String(getuid())) }
}

/// `strata serve`.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve namespaces of a server root to Strata clients and over a JSON API, with tokens, roles and protected branches.",
        discussion: """
            DIR is the server root (created on first start): server.sqlite holds namespaces, users, token hashes, \
            grants, protections and the audit log; ns/NAME holds each namespace's remote and mirror. Clients add \
            http(s)://HOST:PORT/NAMESPACE as a remote. Plain HTTP is refused on an address other than loopback unless \
            --insecure-http (behind a TLS-terminating proxy). SIGTERM or Ctrl-C stops taking connections, lets requests \
            in flight finish, and exits 0.
            """)
    @Option(help: ArgumentHelp("Address and port to listen on (port 0: any free port).", valueName: "host:port")) var listen = "127.0.0.1:8484"
    @Option(help: ArgumentHelp("PEM certificate chain for HTTPS.", valueName: "file")) var tlsCert: String?
    @Option(help: ArgumentHelp("PEM private key for HTTPS.", valueName: "file")) var tlsKey: String?
    @Flag(help: "Allow plain HTTP on an address other than loopback.") var insecureHTTP = false
    @Option(help: ArgumentHelp("Largest pushed pack, in MiB.", valueName: "MiB")) var maxBody: Int64 = 1024
    @Option(help: ArgumentHelp("Seconds an idle connection is kept.", valueName: "s")) var idleTimeout: Int64 = 30
    @Option(help: ArgumentHelp("Seconds a client has to send a request's headers (bodies must arrive at 1 KiB per 10 s).", valueName: "s"))
    var headerTimeout: Int64 = 10
    @Argument(help: "The server root (default: STRATA_SERVER_ROOT, else the working folder).") var dir: String?

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        var options = ServerOptions(root: dir ?? env["STRATA_SERVER_ROOT"] ?? FileManager.default.currentDirectoryPath, environment: env)
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen takes HOST:PORT, e.g. 127.0.0.1:8484")
        }
        options.host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        options.port = port
        options.tlsCertificate = tlsCert; options.tlsKey = tlsKey; options.insecureHTTP = insecureHTTP
        options.maxBody = maxBody << 20; options.idleTimeout = idleTimeout; options.headerTimeout = headerTimeout
        options.version = StrataVersion.string
        let frozen = options
        try runUntilDone {
            try await StrataServer.run(frozen) { url in
                Out.line("strata serve: listening on \(url)")
                Out.flush()
            }
        }
    }
}

/// `strata namespace add | list`.
struct NamespaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "namespace", abstract: "Manage a server's namespaces (separate stores with separate policies, e.g. dev and dist).",
        subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add namespace NAME (its remote in the server root, or at --storage).")
        @OptionGroup var server: ServerRootOption
        @Argument(help: "Namespace name, e.g. dev.") var name: String
        @Option(help: ArgumentHelp("Where its remote lives: file:///path or s3://bucket/prefix (default: ns/NAME/remote in the root).", valueName: "url"))
        var storage: String?
        func run() throws {
            let store = try server.open(create: true)
            let at = try store.addNamespace(name, storage: storage, actor: server.actor, source: "cli")
            Out.line("Added namespace \(name) (\(URLRedaction.redact(at)))")
            Out.flush()
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List namespaces.")
        @OptionGroup var server: ServerRootOption
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let all = try server.open().namespaces()
            struct Item: Encodable { var name: String; var storage: String }
            if json { try Out.json(["namespaces": all.map { Item(name: $0.name, storage: URLRedaction.redact($0.storage)) }]); return }
            for n in all { Out.line("\(n.name)\t\(URLRedaction.redact(n.storage))") }
            Out.flush()
        }
    }
}

/// `strata user add | remove | list`.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage a server's users.", subcommands: [Add.self, Remove.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add user NAME (then 'strata token create NAME').")
        @OptionGroup var server: ServerRootOption
        @Argument(help: "User name.") var name: String
        func run() throws {
            try server.open(create: true).addUser(name, actor: server.actor, source: "cli")
            Out.line("Added user \(name)")
            Out.flush()
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove user NAME, revoking their tokens and grants.")
        @OptionGroup var server: ServerRootOption
        @Argument(help: "User name.") var name: String
        func run() throws { try server.open().removeUser(name, actor: server.actor, source: "cli") }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List users.")
        @OptionGroup var server: ServerRootOption
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let users = try server.open().users()
            if json { try Out.json(["users": users]); return }
            for u in users { Out.line(u) }
            Out.flush()
        }
    }
}

/// `strata token create | revoke | list`.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage a server's tokens (shown once, stored as salted hashes).",
        subcommands: [Create.self, Revoke.self, List.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Create a token for USER and print it once.",
            discussion: "Give it to the user through a private channel; clients read it from STRATA_TOKEN or ~/.config/strata/credentials (mode 600).")
        @OptionGroup var server: ServerRootOption
        @Argument(help: "User name.") var user: String
        @Option(help: ArgumentHelp("Lifetime: 30d, 12h, 90m (default: no expiry).", valueName: "duration")) var expires: String?
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            var seconds: Int64?
            if let expires {
                guard let n = Int64(expires.dropLast()), n > 0, let unit = expires.last, let mult = ["d": 86_400, "h": 3_600, "m": 60, "s": 1][String(unit)]
                else { throw ValidationError("--expires takes a number and d, h, m or s, e.g. 30d") }
                seconds = n * Int64(mult)
            }
            let (id, token) = try server.open().createToken(user: user, seconds: seconds, actor: server.actor, source: "cli")
            if json {
                struct Created: Encodable { var id: String; var user: String; var token: String }
                try Out.json(Created(id: id, user: user, token: token))
                return
            }
            Out.line(token)
            Out.flush()
            FileHandle.standardError.write(Data("Token \(id) for \(user): shown once, keep it secret (revoke with 'strata token revoke \(id)').\n".utf8))
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke token ID (it stops working at once).")
        @OptionGroup var server: ServerRootOption
        @Argument(help: "Token id (as 'strata token list' shows).") var id: String
        func run() throws { try server.open().revokeToken(id, actor: server.actor, source: "cli") }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List tokens (never their secrets).")
        @OptionGroup var server: ServerRootOption
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let tokens = try server.open().tokens()
            if json { try Out.json(["tokens": tokens]); return }
            let now = Int64(Date().timeIntervalSince1970)
            for t in tokens {
                let state = t.revoked != nil ? "revoked" : (t.expires.map { $0 <= now ? "expired" : "expires \(Self.date($0))" } ?? "no expiry")
                Out.line("\(t.id)\t\(t.user)\tcreated \(Self.date(t.created))\t\(state)")
            }
            Out.flush()
        }
        static func date(_ s: Int64) -> String {
            let f = ISO8601DateFormatter()
            return f.string(from: Date(timeIntervalSince1970: TimeInterval(s)))
        }
    }
}

/// `strata policy show | set`.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Show or set who may do what: roles (reader, writer, maintainer, admin) per branch pattern.",
        discussion: """
            A grant gives PRINCIPAL (a user, '*' for every signed-in user, or 'anonymous') a ROLE on refs of a namespace \
            matching PATTERN: '*' matches within one '/'-separated part, '**' across parts; tags match as tags/NAME. \
            Everything not granted is denied; anonymous has nothing unless granted. Data (packs) is shared by a \
            namespace's refs: a role on any ref reads it, so separate what must stay apart into namespaces.
            """,
        subcommands: [Show.self, Set.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "List grants and protections.")
        @OptionGroup var server: ServerRootOption
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let store = try server.open()
            let grants = try store.grants(), protections = try store.protections()
            if json {
                struct Doc: Encodable { var grants: [Grant]; var protections: [Protection] }
                try Out.json(Doc(grants: grants, protections: protections))
                return
            }
            for g in grants { Out.line("\(g.namespace)\t\(g.principal)\t\(g.pattern)\t\(g.role.rawValue)") }
            for p in protections { Out.line("\(p.namespace)\tprotected\t\(p.pattern)\t\(p.summary)") }
            Out.flush()
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Grant PRINCIPAL a ROLE on refs matching PATTERN ('none' removes the grant).")
        @OptionGroup var server: ServerRootOption
        @Option(help: "The namespace (a glob; default: every namespace).") var namespace = "*"
        @Argument(help: "A user, '*' (every signed-in user) or 'anonymous'.") var principal: String
        @Argument(help: "reader, writer, maintainer, admin, or none.") var role: String
        @Argument(help: "Branch pattern, e.g. main, dev/*, ** (default: **).") var pattern = "**"
        func run() throws {
            let r: Role? = role == "none" ? nil : try Role(rawValue: role) ?? { throw ValidationError("ROLE is reader, writer, maintainer, admin or none") }()
            try server.open().setGrant(namespace: namespace, principal: principal, pattern: pattern, role: r, actor: server.actor, source: "cli")
        }
    }
}

/// `strata protect`.
struct ProtectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protect",
        abstract: "Protect branches on a server: no force-move, no delete; optionally only a maintainer's merges, only complete lineage.")
    @OptionGroup var server: ServerRootOption
    @Option(help: "The namespace.") var namespace: String
    @Argument(help: "Branch pattern, e.g. main or release/*.") var pattern: String?
    @Flag(help: "Only merge commits pushed by a maintainer move it.") var requireMerge = false
    @Flag(help: "Refuse pushes whose new commits lack complete lineage (their lineage bundles, checked as 'lineage verify').")
    var requireLineage = false
    @Flag(help: "Refuse a new tip without a check the server signed ('strata check': lineage verified, --verify-stage reproduced).")
    var requireVerify = false
    @Option(help: ArgumentHelp("A stage whose reproduction --require-verify asks for (repeatable).", valueName: "stage")) var verifyStage: [String] = []
    @Flag(help: "Remove the protection.") var remove = false
    @Flag(help: "List protections.") var list = false

    func run() throws {
        let store = try server.open()
        if list || pattern == nil {
            for p in try store.protections() where p.namespace == namespace {
                Out.line("\(p.pattern)\t\(p.summary)")
            }
            Out.flush()
            return
        }
        try store.protect(
            namespace: namespace, pattern: pattern!, requireMerge: requireMerge, requireLineage: requireLineage,
            requireVerify: requireVerify || !verifyStage.isEmpty ? verifyStage : nil, remove: remove, actor: server.actor, source: "cli")
    }
}

/// `strata audit log | verify`.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Read and verify a server's hash-chained audit log; put a ref back where an entry found it.",
        subcommands: [Log.self, Verify.self, Revert.self])

    struct Revert: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revert", abstract: "Put the ref of audit entry SEQ back where it was before (a wrong push or force-move).",
            discussion: "Refused when the ref moved after the entry, or when gc collected the old commit's data. The revert is audited.")
        @OptionGroup var server: ServerRootOption
        @Argument(help: "The entry's number (strata audit log).") var seq: Int64
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let o = try ServerAdmin.revert(server.open(), seq: seq, actor: server.actor, environment: ProcessInfo.processInfo.environment)
            if json {
                struct Doc: Encodable { var ref: String; var namespace: String; var from: String?; var to: String? }
                try Out.json(Doc(ref: o.ref, namespace: o.namespace, from: o.from?.hex, to: o.to?.hex))
                return
            }
            Out.line("\(o.namespace) \(o.ref): \(o.from?.short ?? "(none)") -> \(o.to?.short ?? "(deleted)")")
            Out.flush()
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "log", abstract: "Print the audit log, oldest first.")
        @OptionGroup var server: ServerRootOption
        @Option(help: "Only the last N entries.") var last: Int?
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let entries = try server.open().auditLog(limit: last)
            if json { try Out.json(["entries": entries]); return }
            let f = ISO8601DateFormatter()
            for e in entries {
                let when = f.string(from: Date(timeIntervalSince1970: TimeInterval(e.time / 1_000_000_000)))
                let change =
                    e.old.isEmpty && e.new.isEmpty
                    ? "" : " \(e.old.isEmpty ? "-" : String(e.old.prefix(12))) -> \(e.new.isEmpty ? "-" : String(e.new.prefix(12)))"
                Out.line("\(e.seq)\t\(when)\t\(e.actor)\t\(e.action)\t\(e.namespace.isEmpty ? "-" : e.namespace)\t\(e.target)\(change)\tfrom \(e.source)")
            }
            Out.flush()
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Check every entry's hash and link; exit 12 naming the first broken entry.")
        @OptionGroup var server: ServerRootOption
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let (n, head) = try server.open().verifyAudit()
            if json {
                struct Result: Encodable { var entries: Int; var head: String; var ok = true }
                try Out.json(Result(entries: n, head: head))
                return
            }
            Out.line("audit log intact: \(n) entries, head \(head.isEmpty ? "(empty)" : head)")
            Out.flush()
        }
    }
}

/// `strata mcp`.
struct MCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp", abstract: "Serve this store's tools to an agent over MCP on stdin and stdout (the Model Context Protocol).",
        discussion: """
            Tools: log, show, ls, status, diff (files, or a page of a table's rows), cat_rows (a bounded page of a table), \
            runs, lineage_graph, lineage_prov, stages, repro_dry_run, prune_dry_run; commit, repro, branch_create and \
            tag_create change the store and need confirm: true. Resources: the DCAT catalogue (strata://catalog) and each \
            published dataset's page (strata://dataset/PATH). Each tool has a JSON Schema for its input and returns \
            structured content; each call is recorded as an OpenLineage run (job strata.mcp.TOOL, arguments redacted). \
            Runs until stdin ends. A strata server offers the same over HTTP at /NAMESPACE/mcp (docs/mcp.md).
            """)
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let repo = try global.repository()
        try runUntilDone { try await StrataMCPServer.runStdio(repo: repo, version: Strata.configuration.version) }
    }
}
