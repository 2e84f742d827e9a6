import Foundation
import Hummingbird
import NIOCore
import StrataLineage
import StrataMaintenance
import StrataModel
import StrataPipeline
import StrataPlatform
import StrataRemote
import StrataRepository
import StrataWeb
import StrataWorkflows

/// What a UI request answers: a page, a redirect, a file download or a static asset.
enum WebAnswer {
    case html(String, HTTPResponse.Status)
    case redirect(String, cookie: String?)
    case download(revision: String, path: String)
    case asset(String, contentType: String)
}

/// The UI's routes, shared by `strata serve` (under `/{namespace}/ui`) and `strata ui` (under `/`): each parses its
/// query, calls one page of `WebPages`, and the caller turns the answer into a response.
enum WebRouter {
    static func int(_ q: [String: String], _ key: String) throws -> Int {
        guard let text = q[key] else { return 0 }
        guard let n = Int(text), n >= 0, n <= 100_000_000 else { throw WebError.badInput("\(key) is a whole number from 0") }
        return n
    }

    static func required(_ q: [String: String], _ key: String) throws -> String {
        guard let v = q[key], !v.isEmpty, v.count <= 1000 else { throw WebError.badInput("this page needs ?\(key)=") }
        return v
    }

    /// `static/style.css` and `static/app.js`.
    static func asset(_ parts: [String]) throws -> WebAnswer {
        switch parts.dropFirst().first {
        case "style.css": return .asset(webStyleSheet, contentType: "text/css; charset=utf-8")
        case "app.js": return .asset(webScript, contentType: "text/javascript; charset=utf-8")
        default: throw ServerError.unknown(kind: "asset", name: parts.dropFirst().first ?? "")
        }
    }

    /// GET pages. `parts` are the path segments after the UI prefix.
    static func get(_ pages: WebPages, parts: [String], query q: [String: String]) throws -> WebAnswer {
        switch parts.first ?? "" {
        case "": return .html(try pages.timeline(rev: nil, offset: 0), .ok)
        case "static": return try asset(parts)
        case "log": return .html(try pages.timeline(rev: q["rev"], offset: try int(q, "offset")), .ok)
        case "commit":
            guard parts.count == 2 else { throw WebError.badInput("use commit/REVISION") }
            return .html(try pages.commitPage(parts[1], offset: try int(q, "offset")), .ok)
        case "tree":
            guard parts.count == 2 else { throw WebError.badInput("use tree/REVISION?path=P") }
            return .html(try pages.tree(parts[1], path: try ServerResponder.cleanPath(q["path"] ?? "")), .ok)
        case "raw":
            guard parts.count == 2 else { throw WebError.badInput("use raw/REVISION?path=P") }
            return .download(revision: parts[1], path: try ServerResponder.cleanPath(try required(q, "path")))
        case "diff":
            return .html(try pages.diff(from: try required(q, "from"), to: try required(q, "to"), offset: try int(q, "offset")), .ok)
        case "rows":
            return .html(
                try pages.rows(
                    from: try required(q, "from"), to: try required(q, "to"), path: try ServerResponder.cleanPath(try required(q, "path")),
                    key: q["key"] ?? "", offset: try int(q, "offset")), .ok)
        case "lineage":
            let hops = min(max(try int(q, "hops"), 1), 10)
            return .html(try pages.lineage(commit: q["commit"] ?? pages.source.defaultRevision, dataset: q["dataset"], sha: q["sha"], hops: hops), .ok)
        case "run":
            guard parts.count == 2 else { throw WebError.badInput("use run/RUN_ID") }
            return .html(try pages.run(parts[1], commit: q["commit"]), .ok)
        case "runs": return .html(try pages.runsPage(), .ok)
        case "pipeline": return .html(try pages.pipeline(q["rev"] ?? pages.source.defaultRevision), .ok)
        case "catalog": return .html(try pages.catalog(q["rev"] ?? pages.source.defaultRevision), .ok)
        case "dataset":
            return .html(try pages.dataset(q["rev"] ?? pages.source.defaultRevision, path: try ServerResponder.cleanPath(try required(q, "path"))), .ok)
        case "retention": return .html(try pages.retention(rules: q["rules"]), .ok)
        case "me": return .html(pages.me(), .ok)
        default: throw ServerError.unknown(kind: "page", name: parts.first ?? "")
        }
    }

    /// POST forms (after the caller checked the form token): create a branch or tag, protect a pattern.
    static func post(_ pages: WebPages, action: String, form: [String: String]) throws -> WebAnswer {
        let links = pages.links
        switch action {
        case "branch", "tag":
            let name = try required(form, "name"), at = try required(form, "at")
            let id = try pages.source.createRef(tag: action == "tag", name: name, at: at, message: nil)
            return .redirect(links.base + "/commit/" + id.hex, cookie: nil)
        case "merge":
            let message = try pages.source.merge(try required(form, "source"), into: try required(form, "target"))
            return .html(pages.page("Merge", "<p role=\"status\">" + HTMLBuilder.esc(message) + "</p>"), .ok)
        case "protect":
            try pages.source.protect(
                pattern: try required(form, "pattern"), requireMerge: form["require_merge"] == "1", requireLineage: form["require_lineage"] == "1")
            return .html(pages.me(message: "Protected \(form["pattern"] ?? "")."), .ok)
        default:
            throw ServerError.unknown(kind: "action", name: action)
        }
    }

    /// `a=1&b=2` (a form body or a query), percent- and plus-decoded.
    static func decodeForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let k = String(kv[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            let v = kv.count > 1 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "") : ""
            if !k.isEmpty { out[k] = v }
        }
        return out
    }

    static func cookie(_ header: String?, _ name: String) -> String? {
        for part in (header ?? "").split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2 && kv[0] == name { return String(kv[1]) }
        }
        return nil
    }

    /// The answer as a response: pages are never cached and may not be framed; scripts only from this origin.
    static func response(_ a: WebAnswer, download: ((String, String) async throws -> Response)? = nil) async throws -> Response {
        var headers: HTTPFields = [
            .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            .xContentTypeOptions: "nosniff", .cacheControl: "no-store",
        ]
        switch a {
        case .html(let text, let status):
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        case .redirect(let to, let cookie):
            headers[.location] = to
            if let cookie { headers[.setCookie] = cookie }
            return Response(status: .seeOther, headers: headers)
        case .asset(let text, let type):
            headers[.contentType] = type
            headers[.cacheControl] = "max-age=300"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        case .download(let rev, let path):
            guard let download else { return Response(status: .notFound) }
            var r = try await download(rev, path)
            r.headers[.contentDisposition] = "attachment; filename=\"\((path as NSString).lastPathComponent.filter { $0 != "\"" && $0 != "\\" })\""
            r.headers[.xContentTypeOptions] = "nosniff"
            return r
        }
    }

    static func status(of error: any Error) -> HTTPResponse.Status {
        ServerResponder.errorResponse(error).status
    }

    /// A file of a revision streamed through a private scratch file (verified on the way, as `strata cat`).
    static func download(_ repo: Repository, _ id: ObjectID, path: String, tmp: String, metrics: ServerMetrics) async throws -> Response {
        let (file, size) = try await offload { try ServerResponder.spool(repo, id, path: path, to: tmp) }
        return ServerResponder.streamFile(file, size: size, range: nil, metrics: metrics)
    }
}

/// A server namespace as the UI sees it, for one principal: every read through the same role checks as the JSON
/// API, writes through the same ref moves as a push (protections, compare-and-swap, the audit log).
struct ServerWebSource: WebSource {
    let core: ServerCore
    let ns: Namespace
    let principal: Principal
    let source: String
    let redactor: Redactor?

    var repo: Repository { ns.mirror }
    var name: String { ns.name }
    var defaultRevision: String { "HEAD" }

    var viewer: Viewer {
        let grants = (try? core.store.grants()) ?? []
        let mine = grants.filter { g in
            (g.namespace == ns.name || RefGlob.matches(g.namespace, ns.name))
                && (g.principal == principal.user || (g.principal == "*" && principal.user != nil) || g.principal == "anonymous")
        }
        let write = mine.contains { $0.role >= .writer }
        let admin = (try? core.store.role(for: principal, namespace: ns.name, scope: .namespace)).flatMap { $0 }.map { $0 >= .admin } ?? false
        var roles: [String] = []
        for g in mine {
            let text =
                "\(g.role.rawValue) on \(g.pattern == "**" ? "every branch and tag" : g.pattern) of \(g.namespace == ns.name ? ns.name : "namespaces " + g.namespace) (granted to \(g.principal == "*" ? "every signed-in user" : g.principal))"
            if !roles.contains(text) { roles.append(text) }
        }
        return Viewer(
            name: principal.user, roles: roles, canWrite: write,
            canProtect: admin, signIn: true)
    }

    func resolve(_ revision: String) throws -> ObjectID { try core.authorizeRevision(principal, ns, revision) }

    func refs() throws -> [(name: String, target: ObjectID)] { try core.readableRefs(principal, ns) }

    func bundle(_ commit: ObjectID) throws -> LineageBundle? { try ns.lineageBundle(commit).flatMap(LineageBundle.decode) }

    func runs(of commit: ObjectID) throws -> [RunRecord] { try bundle(commit)?.runs.sorted { $0.started > $1.started } ?? [] }

    func prov(of commit: ObjectID) throws -> Data? { try bundle(commit).map { Data($0.prov.utf8) } }

    func allRuns(limit: Int) throws -> [RunRecord]? { nil }

    func stages(at commit: ObjectID) throws -> (pipeline: String, stages: [StageView])? {
        ns.catalogLock.lock()
        defer { ns.catalogLock.unlock() }
        guard let loaded = try PipelineWorkflow.load(ns.mirror, at: commit) else { return nil }
        return (loaded.spec.name, try recordedStageViews(loaded.spec, runs: runs(of: commit), redact: redact))
    }

    func retention(rules: [String]?) throws -> [RetentionDecision] {
        guard let rules, !rules.isEmpty else {
            throw WebError.badInput("give retention rules (for example --keep-last 5) to preview what a prune --remote with them would forget")
        }
        let (result, _) = try PruneWorkflow.prune(
            ns.mirror, rules: try RetentionPolicy(rules: rules), now: Date(), timeZone: .current, reflogExpire: try RetentionDuration(parsing: "90d"),
            dryRun: true)
        let grants = try core.store.grants()
        // Only the commits of branches the viewer may read.
        return result.plan.decisions.filter { d in
            d.branches.isEmpty || d.branches.contains { ServerStore.role(for: principal, namespace: ns.name, scope: .ref($0), in: grants) != nil }
        }
    }

    func catalog(at commit: ObjectID) throws -> (Data, [String: String]) {
        ns.catalogLock.lock()
        defer { ns.catalogLock.unlock() }
        return try CatalogWorkflow.build(ns.mirror, revision: commit.hex, include: [], title: nil)
    }

    func createRef(tag: Bool, name: String, at revision: String, message: String?) throws -> ObjectID {
        let target = try resolve(revision)
        let short = tag ? "tags/" + name : name
        let full = (tag ? "refs/tags/" : "refs/heads/") + name
        do { if tag { _ = try TagName(name) } else { _ = try BranchName(name) } } catch {
            throw WebError.badInput("'\(name)' is not a valid \(tag ? "tag" : "branch") name: \(error)")
        }
        let role = try core.require(.writer, principal, ns.name, .ref(short), action: "creating \(tag ? "tag" : "branch")", target: full)
        let answer = try core.moveRef(
            principal, ns, full: full, short: short, isTag: tag, role: role, target: target, bytes: RemoteRefValue(target: target).encoded(), ifMatch: nil,
            source: source)
        if case .conditionFailed = answer { throw WebError.badInput("'\(name)' exists already") }
        return target
    }

    func merge(_ source: String, into target: String) throws -> String {
        let from = try resolve(source)
        guard let old = try ns.mirror.ref("refs/heads/" + target) else { throw ServerError.unknown(kind: "branch", name: target) }
        _ = try resolve(target)
        if try ns.mirror.isAncestor(from, of: old) { return "\(target) already contains \(source)." }
        guard try ns.mirror.isAncestor(old, of: from) else {
            throw WebError.badInput(
                "\(source) and \(target) have diverged: a server only fast-forwards; merge on a clone ('strata merge \(source)') and push the merge commit")
        }
        let role = try core.require(.writer, principal, ns.name, .ref(target), action: "merging into branch", target: "refs/heads/" + target)
        let current = try ns.backend.get("refs/heads/" + target)
        let answer = try core.moveRef(
            principal, ns, full: "refs/heads/" + target, short: target, isTag: false, role: role, target: from,
            bytes: RemoteRefValue(target: from).encoded(), ifMatch: current?.etag, source: self.source)
        if case .conditionFailed = answer { throw WebError.badInput("\(target) moved meanwhile; look again and retry") }
        return "Fast-forwarded \(target) to \(source) (\(from.short))."
    }

    func protect(pattern: String, requireMerge: Bool, requireLineage: Bool) throws {
        _ = try core.require(.admin, principal, ns.name, .namespace, action: "protecting branches", target: pattern)
        try core.store.protect(
            namespace: ns.name, pattern: pattern, requireMerge: requireMerge, requireLineage: requireLineage, remove: false, actor: principal.name,
            source: source)
    }

    func redact(_ text: String) -> String { redactor?.redact(text) ?? text }
}

extension ServerResponder {
    static let sessionCookie = "strata_session"

    /// The form token of a signed-in session: derived from the token with the server's key, so another site cannot
    /// know it (SameSite=Strict cookies already keep cross-site posts out).
    func formToken(for header: String?) -> String {
        guard let token = header else { return "" }
        var h = SHA256Hasher()
        core.store.signingKey.withUnsafeBytes { h.update($0) }
        Array(token.utf8).withUnsafeBytes { h.update($0) }
        return String(h.finalize().hex.prefix(32))
    }

    /// `/ui` (namespaces, sign in) and `/{namespace}/ui/…` (the pages).
    func ui(_ request: Request, context: ServerContext, ns: Namespace?, parts: [String]) async throws -> Response {
        let core = self.core
        var request = request
        let cookieToken = WebRouter.cookie(request.headers[.cookie], ServerResponder.sessionCookie)
        let bearer = request.headers[.authorization] ?? cookieToken.map { "Bearer " + $0 }
        // The session's form token: from the token the request signs in with (cookie, else header).
        let sessionFormToken = formToken(for: cookieToken ?? request.headers[.authorization].map { String($0.dropFirst(7)) })
        let principal: Principal
        do { principal = try await offload { try core.principal(bearer) } } catch {
            // A stale cookie: sign out and look as anonymous.
            return try await WebRouter.response(
                .redirect(request.uri.path, cookie: ServerResponder.clearCookie(tls: core.options.tlsCertificate != nil)))
        }
        let q = WebRouter.decodeForm(request.uri.query ?? "")
        let base = ns.map { "/" + $0.name + "/ui" } ?? "/ui"
        let tls = core.options.tlsCertificate != nil
        if request.method == .post {
            guard parts.count == 2, parts[0] == "action" else { throw ServerError.badRequest("forms post to \(base)/action/NAME") }
            if let origin = request.headers[.origin], let host = request.head.authority, URL(string: origin)?.host.map({ host.hasPrefix($0) }) != true {
                throw ServerError.forbidden(action: "posting a form from another site", needed: .reader, target: origin)
            }
            let body = try await request.collectBody(upTo: 64 << 10)
            let form = WebRouter.decodeForm(String(buffer: body))
            switch parts[1] {
            case "login":
                let token = (form["token"] ?? "").trimmingCharacters(in: .whitespaces)
                do {
                    _ = try await offload { try core.store.authenticate(token) }
                } catch {
                    let links = WebLinks(base: base)
                    let page = WebPages.shell(
                        name: ns?.name ?? "server", viewer: anonymousViewer, links: links, title: "Sign in",
                        body: WebPages.signInForm(links: links, message: "That token was not accepted."), rev: nil)
                    return try await WebRouter.response(.html(page, .unauthorized))
                }
                let cookie = "\(ServerResponder.sessionCookie)=\(token); Path=/; HttpOnly; SameSite=Strict" + (tls ? "; Secure" : "")
                return try await WebRouter.response(.redirect(base + (ns == nil ? "" : "/me"), cookie: cookie))
            case "logout":
                guard form["form_token"] == formToken(for: cookieToken) else {
                    throw ServerError.forbidden(action: "signing out without the form token", needed: .reader, target: "session")
                }
                return try await WebRouter.response(.redirect(base, cookie: ServerResponder.clearCookie(tls: tls)))
            default:
                guard let ns else { throw ServerError.unknown(kind: "action", name: parts[1]) }
                guard principal.user != nil,
                    form["form_token"] == sessionFormToken
                else {
                    throw ServerError.forbidden(action: "a form without a valid form token", needed: .writer, target: parts[1])
                }
                let source = ServerWebSource(core: core, ns: ns, principal: principal, source: context.peer, redactor: nil)
                let pages = WebPages(source: source, links: WebLinks(base: base), formToken: form["form_token"] ?? "")
                let answer = try await offload { try WebRouter.post(pages, action: parts[1], form: form) }
                return try await WebRouter.response(answer)
            }
        }
        guard let ns else {
            // The server's front page: the namespaces this viewer may read.
            let names = try await offload { () -> [String] in
                try core.store.namespaces().map(\.name).filter { (try? core.requireRead(principal, $0)) != nil }
            }
            if parts.first == "static" { return try await WebRouter.response(try WebRouter.asset(parts)) }
            var h = HTMLBuilder()
            if names.isEmpty { h.raw("<p>No namespace is visible to you. Sign in with a token from <code>strata token create</code>.</p>") }
            h.raw("<ul>")
            for n in names {
                h.raw("<li>")
                h.link(n, "/" + n + "/ui/")
                h.raw("</li>")
            }
            h.raw("</ul>")
            let links = WebLinks(base: base)
            let viewer = Viewer(name: principal.user, roles: [], canWrite: false, canProtect: false, signIn: true)
            let page = WebPages.shell(
                name: "server", viewer: viewer, links: links, title: "Namespaces",
                body: h.out + (principal.user == nil ? WebPages.signInForm(links: links) : ""),
                rev: nil)
            return try await WebRouter.response(.html(page, .ok))
        }
        let redactor = try? await offload { try LineageService(repo: ns.mirror).redactor }
        let source = ServerWebSource(core: core, ns: ns, principal: principal, source: context.peer, redactor: redactor)
        let pages = WebPages(
            source: source, links: WebLinks(base: base),
            formToken: sessionFormToken)
        do {
            let answer = try await offload { try WebRouter.get(pages, parts: parts, query: q) }
            return try await WebRouter.response(answer) { rev, path in
                let id = try await offload { try source.resolve(rev) }
                return try await WebRouter.download(ns.mirror, id, path: path, tmp: core.store.root + "/tmp", metrics: core.metrics)
            }
        } catch {
            if case ServerError.unauthenticated = error {
                return try await WebRouter.response(.html(pages.me(message: "Sign in to see this namespace."), .unauthorized))
            }
            return try await WebRouter.response(.html(pages.errorPage(error), WebRouter.status(of: error)))
        }
    }

    var anonymousViewer: Viewer { Viewer(name: nil, roles: [], canWrite: false, canProtect: false, signIn: true) }

    static func clearCookie(tls: Bool) -> String {
        "\(sessionCookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" + (tls ? "; Secure" : "")
    }
}
