import Foundation
import StrataDiff
import StrataLineage
import StrataMaintenance
import StrataModel
import StrataPlatform
import StrataRepository
import StrataTables

/// Where pages link: under a server or `strata ui` prefix, or to the flat files of a static site (which links only to
/// the pages it wrote; everything else is shown as text).
public struct WebLinks: Sendable {
    /// The prefix of every page (`/dev/ui`, or "" for `strata ui`); unused for a static site.
    public var base: String
    /// A static site: relative file names.
    public var isStatic: Bool
    /// Links for a server or `strata ui` under `base`.
    public init(base: String) { self.base = base; isStatic = false }
    /// Links for a static site.
    public static let staticSite = {
        var l = WebLinks(base: ""); l.isStatic = true; return l
    }()

    static func q(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~/"))) ?? s }
    static func slug(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }).prefix(120).description
    }

    /// The style sheet.
    public var style: String { isStatic ? "style.css" : base + "/static/style.css" }
    /// The script.
    public var script: String? { isStatic ? nil : base + "/static/app.js" }
    func home() -> String? { isStatic ? "index.html" : base + "/" }
    func log(_ rev: String, offset: Int = 0) -> String? { isStatic ? nil : base + "/log?rev=\(WebLinks.q(rev))" + (offset > 0 ? "&offset=\(offset)" : "") }
    func commit(_ id: String, offset: Int = 0) -> String? { isStatic ? nil : base + "/commit/\(id)" + (offset > 0 ? "?offset=\(offset)" : "") }
    func tree(_ rev: String, _ path: String) -> String? { isStatic ? nil : base + "/tree/\(WebLinks.q(rev))?path=\(WebLinks.q(path))" }
    func raw(_ rev: String, _ path: String) -> String? { isStatic ? nil : base + "/raw/\(WebLinks.q(rev))?path=\(WebLinks.q(path))" }
    func diff(_ from: String, _ to: String, offset: Int = 0) -> String? {
        isStatic ? nil : base + "/diff?from=\(WebLinks.q(from))&to=\(WebLinks.q(to))" + (offset > 0 ? "&offset=\(offset)" : "")
    }
    func rows(_ from: String, _ to: String, _ path: String, key: String = "", offset: Int = 0) -> String? {
        isStatic
            ? nil
            : base + "/rows?from=\(WebLinks.q(from))&to=\(WebLinks.q(to))&path=\(WebLinks.q(path))" + (key.isEmpty ? "" : "&key=\(WebLinks.q(key))")
                + (offset > 0 ? "&offset=\(offset)" : "")
    }
    func lineage(commit: String) -> String? { isStatic ? "lineage-\(commit.prefix(12)).html" : base + "/lineage?commit=\(commit)" }
    func lineage(dataset path: String, sha: String, commit: String, hops: Int = 2) -> String? {
        isStatic ? nil : base + "/lineage?commit=\(commit)&dataset=\(WebLinks.q(path))&sha=\(sha)&hops=\(hops)"
    }
    func run(_ id: String, commit: String) -> String? { isStatic ? "run-\(WebLinks.slug(id)).html" : base + "/run/\(id)?commit=\(commit)" }
    func pipeline(_ rev: String) -> String? { isStatic ? nil : base + "/pipeline?rev=\(WebLinks.q(rev))" }
    func catalog(_ rev: String) -> String? { isStatic ? "index.html" : base + "/catalog?rev=\(WebLinks.q(rev))" }
    func dataset(_ rev: String, _ path: String) -> String? {
        isStatic ? "dataset-\(WebLinks.slug(path)).html" : base + "/dataset?rev=\(WebLinks.q(rev))&path=\(WebLinks.q(path))"
    }
    func retention() -> String? { isStatic ? nil : base + "/retention" }
    func runs() -> String? { isStatic ? nil : base + "/runs" }
    func me() -> String? { isStatic ? nil : base + "/me" }
    func action(_ name: String) -> String { base + "/action/" + name }
}

/// Thrown by a row sink to stop reading once a page is full.
struct PageFull: Error {}

/// The pages of the web UI and the static site, rendered on the server as HTML with SVG graphs: no template engine,
/// no build step, and every value escaped by construction (`HTMLBuilder`). Each page reads a bounded amount: listings
/// and diffs come a page at a time.
public struct WebPages: Sendable {
    /// What the pages read.
    public let source: any WebSource
    /// Where they link.
    public let links: WebLinks
    /// A per-session token the forms carry (checked by the HTTP layer).
    public let formToken: String
    /// Rows on a page of a listing or a diff.
    public static let pageSize = 500
    /// Rows of a table diff on a page.
    public static let rowPageSize = 100

    /// Who is looking (read once: a server works it out from its grants).
    public let viewer: Viewer

    /// Pages over `source`, linking under `links`.
    public init(source: any WebSource, links: WebLinks, formToken: String = "") {
        self.source = source; self.links = links; self.formToken = formToken
        viewer = source.viewer
    }

    var repo: Repository { source.repo }

    /// The page around a body: header with navigation and the viewer, skip link, main landmark.
    public func page(_ title: String, _ body: String, rev: String? = nil) -> String {
        WebPages.shell(name: source.name, viewer: viewer, links: links, title: title, body: body, rev: rev ?? source.defaultRevision)
    }

    /// The page frame for any body, with or without a store (a server's front page).
    public static func shell(name: String, viewer v: Viewer, links: WebLinks, title: String, body: String, rev r: String?) -> String {
        var h = HTMLBuilder()
        h.raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
        h.el("title", title + " · " + name + " · Strata")
        h.open("link", [("rel", "stylesheet"), ("href", links.style)])
        h.raw("</head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header class=\"top\">")
        h.link("Strata · " + name, links.home(), attrs: [("class", "brand")])
        if let r {
            h.raw("<nav aria-label=\"Sections\"><ul>")
            for (label, href) in [
                ("Commits", links.log(r)), ("Files", links.tree(r, "")), ("Lineage", links.lineage(commit: r)),
                ("Runs", links.runs()), ("Pipeline", links.pipeline(r)), ("Catalogue", links.catalog(r)), ("Retention", links.retention()),
            ] {
                if let href {
                    h.raw("<li>")
                    h.link(label, href)
                    h.raw("</li>")
                }
            }
            h.raw("</ul></nav>")
        }
        if !links.isStatic {
            h.open("span", [("class", "who")])
            if let name = v.name {
                h.text("Signed in as ")
                h.link(name, links.me())
            } else if v.signIn {
                h.text("Not signed in (anonymous) · ")
                h.link("Sign in with a token", links.me())
            } else {
                h.text("Local store · ")
                h.link("you", links.me())
            }
            h.close("span")
        }
        h.raw("</header><main id=\"main\">")
        h.el("h1", title)
        h.raw(body)
        h.raw("</main>")
        if let s = links.script { h.raw("<script src=\"" + HTMLBuilder.esc(s) + "\" defer></script>") }
        h.raw("</body></html>")
        return h.out
    }

    /// The token sign-in form (posts to `action/login`).
    public static func signInForm(links: WebLinks, message: String? = nil) -> String {
        var h = HTMLBuilder()
        if let message { h.el("p", message, [("role", "alert")]) }
        h.raw("<h2>Sign in</h2>")
        h.open("form", [("method", "post"), ("action", links.action("login"))])
        h.raw(
            "<label for=\"token\">Token (from strata token create)</label> <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required size=\"60\"> "
        )
        h.raw("<button type=\"submit\">Sign in</button></form>")
        return h.out
    }

    /// An error as a page (the HTTP layer chooses the status).
    public func errorPage(_ error: any Error) -> String {
        var h = HTMLBuilder()
        h.open("div", [("class", "error"), ("role", "alert")])
        if let e = error as? any StrataError {
            h.el("p", e.message)
            if let next = e.nextStep { h.el("p", "Next: " + next) }
            h.el("p", "Code: " + e.code, [("class", "muted")])
        } else {
            h.el("p", "This page could not be shown.")
        }
        h.close("div")
        return page("Not shown", h.out)
    }

    // MARK: Commits

    /// Branches and tags, then the commits of `rev` on a timeline, a page at a time.
    public func timeline(rev given: String?, offset: Int) throws -> String {
        let rev = given ?? source.defaultRevision
        let tip = try source.resolve(rev)
        let refs = try source.refs()
        var byTarget: [ObjectID: [String]] = [:]
        for r in refs { byTarget[r.target, default: []].append(shortRef(r.name)) }
        var h = HTMLBuilder()
        h.raw(
            "<section aria-labelledby=\"refs\"><h2 id=\"refs\">Branches and tags</h2><table class=\"nav\"><thead><tr><th>Name</th><th>Kind</th><th>Commit</th></tr></thead><tbody>"
        )
        for r in refs {
            h.raw("<tr><td>")
            h.link(shortRef(r.name), links.log(shortRef(r.name)))
            h.raw("</td><td>")
            h.text(r.name.hasPrefix("refs/tags/") ? "tag" : "branch")
            h.raw("</td><td>")
            h.hash(r.target.hex, links.commit(r.target.hex))
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table></section>")
        let commits = try repo.log(tip.hex, limit: offset + 51).dropFirst(offset)
        h.raw("<section aria-labelledby=\"commits\"><h2 id=\"commits\">")
        h.text("Commits on \(rev)")
        h.raw("</h2><ol class=\"timeline\">")
        for c in commits.prefix(50) {
            h.raw("<li><time datetime=\"\(iso(c.commit.time))\">")
            h.text(utcTime(c.commit.time))
            h.raw("</time> · ")
            h.hash(c.id.hex, links.commit(c.id.hex))
            h.raw(" ")
            for name in byTarget[c.id] ?? [] { h.el("span", name, [("class", "badge ok")]); h.raw(" ") }
            h.raw("<br><strong>")
            h.text(firstLine(c.commit.message))
            h.raw("</strong> <span class=\"muted\">")
            h.text(author(c.commit))
            if c.commit.parents.count > 1 { h.text(" · merge") }
            h.raw("</span></li>")
        }
        h.raw("</ol>")
        pager(
            &h, previous: offset > 0 ? links.log(rev, offset: max(0, offset - 50)) : nil, next: commits.count > 50 ? links.log(rev, offset: offset + 50) : nil)
        h.raw("</section>")
        if viewer.canWrite {
            refForms(&h, at: tip.hex)
            mergeForm(&h, branches: refs.filter { $0.name.hasPrefix("refs/heads/") }.map { shortRef($0.name) })
        }
        return page("Commits", h.out, rev: rev)
    }

    /// A commit: message, author, date, parents, tree, its changed files (a page at a time) and its lineage runs.
    public func commitPage(_ rev: String, offset: Int) throws -> String {
        let id = try source.resolve(rev)
        let c = try repo.commit(id)
        var h = HTMLBuilder()
        h.raw("<dl class=\"meta\"><dt>Commit</dt><dd>")
        h.hash(id.hex)
        h.raw(" <code>")
        h.text(id.hex)
        h.raw("</code></dd><dt>Message</dt><dd><pre class=\"preview\">")
        h.text(c.message)
        h.raw("</pre></dd><dt>Author</dt><dd>")
        h.text(author(c))
        h.raw("</dd><dt>Date</dt><dd><time datetime=\"\(iso(c.time))\">")
        h.text(utcTime(c.time))
        h.raw("</time></dd><dt>Parents</dt><dd>")
        if c.parents.isEmpty { h.text("none (first commit)") }
        for p in c.parents {
            h.hash(p.hex, links.commit(p.hex))
            h.raw(" ")
        }
        h.raw("</dd><dt>Tree</dt><dd>")
        h.link("browse files", links.tree(id.hex, ""))
        h.raw(" ")
        h.hash(c.tree.hex)
        h.raw("</dd></dl>")
        let changes = try repo.changes(of: id)
        let base = c.parents.first?.hex
        h.raw("<h2>Changed files</h2>")
        statLine(&h, changes)
        changeTable(&h, changes, offset: offset, from: base, to: id.hex)
        pager(
            &h, previous: offset > 0 ? links.commit(id.hex, offset: max(0, offset - WebPages.pageSize)) : nil,
            next: changes.count > offset + WebPages.pageSize ? links.commit(id.hex, offset: offset + WebPages.pageSize) : nil)
        h.raw("<h2>Lineage</h2>")
        let runs = try source.runs(of: id)
        if runs.isEmpty {
            h.el("p", "No lineage was recorded for this commit (committed with lineage off, or pushed without it).")
        } else {
            h.raw("<p>")
            h.link("Lineage graph of this commit", links.lineage(commit: id.hex))
            h.raw("</p>")
            runTable(&h, runs, commit: id.hex)
        }
        return page("Commit " + id.short, h.out, rev: id.hex)
    }

    // MARK: Files

    /// A folder's entries, or a file's preview (first rows of a table, or the start of a text) and download link.
    public func tree(_ rev: String, path: String) throws -> String {
        let id = try source.resolve(rev)
        var h = HTMLBuilder()
        breadcrumbs(&h, rev: rev, path: path)
        let entry = path.isEmpty ? nil : try repo.entry(at: path, in: id)
        if let entry, entry.kind != .directory {
            h.raw("<p>")
            h.text("\(humanSize(entry.size)) · sha256 ")
            h.hash(entry.id.hex)
            h.raw(" · ")
            h.link("Download", links.raw(rev, path), attrs: [("download", (path as NSString).lastPathComponent)])
            h.raw("</p>")
            try preview(&h, id: id, path: path)
            return page(path, h.out, rev: rev)
        }
        let entries = try repo.list(id.hex, path: path)
        h.raw("<table class=\"nav\"><thead><tr><th>Name</th><th>Kind</th><th>Size</th><th>sha256 or tree</th></tr></thead><tbody>")
        for e in entries.prefix(WebPages.pageSize * 4) {
            h.raw("<tr><td>")
            h.link((e.path as NSString).lastPathComponent + (e.kind == .directory ? "/" : ""), links.tree(rev, e.path))
            h.raw("</td><td>")
            h.text(e.kind == .directory ? "folder" : "file")
            h.raw("</td><td class=\"num\">")
            h.text(e.kind == .directory ? "" : humanSize(e.size))
            h.raw("</td><td>")
            h.hash(e.id.hex)
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table>")
        if entries.count > WebPages.pageSize * 4 { h.el("p", "Showing the first \(WebPages.pageSize * 4) of \(entries.count) entries.") }
        return page(path.isEmpty ? "Files" : path, h.out, rev: rev)
    }

    func preview(_ h: inout HTMLBuilder, id: ObjectID, path: String) throws {
        if let format = TableFormat.guess(path), !format.isFolder {
            var parser = RowParser(format: format)
            var rows: [Row] = []
            let take: (Row) throws -> Void = { row in
                rows.append(row)
                if rows.count >= 50 { throw PageFull() }
            }
            do {
                try repo.cat(id.hex, path: path) { try parser.feed($0, take) }
                try parser.finish(take)
            } catch is PageFull {}
            h.el("h2", "First \(rows.count) rows")
            h.raw("<div class=\"scroll\"><table><thead><tr>")
            for c in parser.columns { h.el("th", c, [("scope", "col")]) }
            h.raw("</tr></thead><tbody>")
            for r in rows {
                h.raw("<tr>")
                for c in parser.columns { h.el("td", r[c] ?? "") }
                h.raw("</tr>")
            }
            h.raw("</tbody></table></div>")
            return
        }
        var head: [UInt8] = []
        do {
            try repo.cat(id.hex, path: path) { buf in
                head.append(contentsOf: buf.prefix(65_536 - head.count))
                if head.count >= 65_536 { throw PageFull() }
            }
        } catch is PageFull {}
        if head.contains(0) || String(validating: head, as: UTF8.self) == nil && head.count < 65_536 {
            h.el("p", "A binary file: download it to look inside.")
            return
        }
        h.el("h2", head.count >= 65_536 ? "The first 64 KiB" : "Contents")
        h.el("pre", String(decoding: head, as: UTF8.self), [("class", "preview")])
    }

    // MARK: Diffs

    /// The files changed between two revisions, with a summary and, for tables, a link to their row diff.
    public func diff(from: String, to: String, offset: Int) throws -> String {
        let a = try source.resolve(from), b = try source.resolve(to)
        let changes = try repo.diff(a.hex, b.hex)
        var h = HTMLBuilder()
        h.raw("<p>")
        h.text("From ")
        h.hash(a.hex, links.commit(a.hex))
        h.text(" to ")
        h.hash(b.hex, links.commit(b.hex))
        h.raw("</p>")
        statLine(&h, changes)
        changeTable(&h, changes, offset: offset, from: a.hex, to: b.hex)
        pager(
            &h, previous: offset > 0 ? links.diff(from, to, offset: max(0, offset - WebPages.pageSize)) : nil,
            next: changes.count > offset + WebPages.pageSize ? links.diff(from, to, offset: offset + WebPages.pageSize) : nil)
        return page("Diff \(from)..\(to)", h.out, rev: to)
    }

    /// The changed rows of a table between two revisions, a page at a time, with changed cells highlighted (and marked
    /// with their old value, so colour is not the only signal); the summary and schema changes cover the whole table.
    public func rows(from: String, to: String, path: String, key: String, offset: Int) throws -> String {
        let a = try source.resolve(from), b = try source.resolve(to)
        var options = TableDiffOptions()
        options.key = key.split(separator: ",").map(String.init)
        options.memoryBudget = 64 << 20
        var page: [RowChange] = []
        var seen = 0
        let summary = try TableService(repo: repo).diff(a.hex, b.hex, path: repo.root + "/" + path, options: options) { change in
            if seen >= offset && page.count < WebPages.rowPageSize { page.append(change) }
            seen += 1
        }
        var h = HTMLBuilder()
        h.raw("<p>")
        h.text("Table ")
        h.link(path, links.tree(b.hex, path))
        h.text(" from ")
        h.hash(a.hex, links.commit(a.hex))
        h.text(" to ")
        h.hash(b.hex, links.commit(b.hex))
        h.raw("</p>")
        if !links.isStatic {
            h.open("form", [("method", "get"), ("class", "inline")])
            for (k, v) in [("from", from), ("to", to), ("path", path)] { h.open("input", [("type", "hidden"), ("name", k), ("value", v)]) }
            h.raw("<label for=\"key\">Key columns</label> ")
            h.open("input", [("id", "key"), ("name", "key"), ("value", key), ("placeholder", "declared key, or none: rows compared whole")])
            h.raw(" <button type=\"submit\">Diff by key</button></form>")
        }
        h.raw("<section aria-labelledby=\"sum\"><h2 id=\"sum\">Summary</h2><table><tbody>")
        for (label, n) in [
            ("rows added", summary.added), ("rows removed", summary.removed), ("rows modified", summary.modified), ("rows unchanged", summary.unchanged),
        ] {
            h.raw("<tr><th scope=\"row\">")
            h.text(label)
            h.raw("</th><td class=\"num\">\(n)</td></tr>")
        }
        if !summary.columns.isEmpty {
            h.raw("<tr><th scope=\"row\">cells changed per column</th><td>")
            h.text(summary.columns.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table></section><section aria-labelledby=\"schema\"><h2 id=\"schema\">Schema</h2>")
        let s = summary.schema
        if s.isEmpty {
            h.el("p", "No schema change: " + s.after.joined(separator: ", "))
        } else {
            h.raw("<ul>")
            for c in s.added { h.el("li", "column added: " + c) }
            for c in s.removed { h.el("li", "column removed: " + c) }
            for r in s.renamed { h.el("li", "column renamed: " + r.joined(separator: " → ")) }
            for r in s.retyped { h.el("li", "type changed: " + r) }
            if s.reordered { h.el("li", "columns reordered") }
            h.raw("</ul>")
        }
        h.raw("</section><section aria-labelledby=\"rows\"><h2 id=\"rows\">")
        h.text(seen == 0 ? "No row changed" : "Changed rows \(offset + 1)–\(offset + page.count) of \(seen)")
        h.raw("</h2>")
        var columns = s.after
        for c in s.before where !columns.contains(c) { columns.append(c) }
        if !page.isEmpty {
            h.raw("<div class=\"scroll\"><table class=\"rows\"><thead><tr><th scope=\"col\">Change</th>")
            for c in columns { h.el("th", c, [("scope", "col")]) }
            h.raw("</tr></thead><tbody>")
            for change in page {
                h.open("tr", [("class", change.op.rawValue)])
                h.el("td", change.op == .added ? "+ added" : change.op == .removed ? "− removed" : "± modified")
                let changed = Set(change.changed ?? [])
                for c in columns {
                    let before = change.before?[c], after = change.after?[c]
                    if change.op == .modified && changed.contains(c) {
                        h.raw("<td class=\"changed\" data-changed=\"true\"><del aria-label=\"was\">")
                        h.text(before ?? "")
                        h.raw("</del> → <ins aria-label=\"now\">")
                        h.text(after ?? "")
                        h.raw("</ins></td>")
                    } else {
                        h.el("td", (change.op == .removed ? before : after) ?? "")
                    }
                }
                h.raw("</tr>")
            }
            h.raw("</tbody></table></div>")
        }
        pager(
            &h, previous: offset > 0 ? links.rows(from, to, path, key: key, offset: max(0, offset - WebPages.rowPageSize)) : nil,
            next: seen > offset + page.count ? links.rows(from, to, path, key: key, offset: offset + WebPages.rowPageSize) : nil)
        h.raw("</section>")
        return self.page("Rows of " + path, h.out, rev: to)
    }

    // MARK: Lineage

    /// The lineage graph of a commit (its commit run and the runs that produced its files), or of one dataset version
    /// within it, `hops` runs upstream and downstream.
    public func lineage(commit rev: String, dataset: String?, sha: String?, hops: Int) throws -> String {
        let id = try source.resolve(rev)
        let (graph, chosen) = try lineageGraph(commit: id, dataset: dataset, sha: sha, hops: hops)
        let focus = dataset
        var h = HTMLBuilder()
        h.raw("<p>")
        h.text(focus == nil ? "Every run behind commit " : "Runs within \(hops) hops of \(redact(dataset ?? "")) at commit ")
        h.hash(id.hex, links.commit(id.hex))
        h.text(". Datasets are square boxes with their sha256; runs have round corners, with their status in words.")
        h.raw("</p>")
        if graph.nodes.isEmpty {
            h.el("p", "No lineage was recorded for this commit.")
        } else {
            h.raw(graph.svg(title: "Lineage of commit \(id.short)"))
            h.raw("<h2>Runs</h2>")
            runTable(&h, chosen, commit: id.hex)
        }
        return page("Lineage", h.out, rev: id.hex)
    }

    /// The lineage graph of a commit, or of a dataset version within `hops` runs of it (for the page, the MCP tool
    /// `lineage_graph` and the static site): datasets (`ds:PATH@SHA256`) and runs (`run:ID`), edges from inputs to
    /// runs to outputs.
    public func lineageGraph(commit id: ObjectID, dataset: String?, sha: String?, hops: Int) throws -> (WebGraph, [RunRecord]) {
        let runs = try source.runs(of: id)
        var graph = WebGraph()
        var version = sha
        if let dataset, version == nil { version = try repo.entry(at: dataset, in: id)?.id.hex }
        let chosen = dataset.map { neighbourhood(runs, of: $0 + "@" + (version ?? ""), hops: hops) } ?? runs
        for r in chosen { addRun(&graph, r, commit: id.hex) }
        return (graph, chosen)
    }

    /// Runs within `hops` of a dataset version, up and down.
    func neighbourhood(_ runs: [RunRecord], of key: String, hops: Int) -> [RunRecord] {
        func k(_ d: DatasetRef) -> String { d.path + "@" + (d.sha256 ?? "") }
        var frontier: Set<String> = [key], seen: Set<String> = [key]
        var chosen: [String: RunRecord] = [:]
        for _ in 0..<max(1, hops) {
            var next: Set<String> = []
            for r in runs where chosen[r.runId] == nil {
                let ins = r.inputs.map(k), outs = r.outputs.map(k)
                if !frontier.isDisjoint(with: ins) || !frontier.isDisjoint(with: outs) {
                    chosen[r.runId] = r
                    for d in ins + outs where seen.insert(d).inserted { next.insert(d) }
                }
            }
            frontier = next
            if frontier.isEmpty { break }
        }
        return runs.filter { chosen[$0.runId] != nil }
    }

    /// A stage's state as a tone: settled, failed, or anything that wants attention.
    func stageTone(_ state: String) -> String {
        state == "up-to-date" || state == RunStatus.complete.rawValue
            ? "ok" : state == RunStatus.fail.rawValue || state == RunStatus.abort.rawValue ? "bad" : "warn"
    }

    func tone(_ s: RunStatus) -> String { s == .complete ? "ok" : s == .running ? "warn" : "bad" }

    func addRun(_ g: inout WebGraph, _ r: RunRecord, commit: String) {
        let status = r.restoredFrom != nil ? "restored, " + r.status.rawValue : r.status.rawValue
        let label = r.kind == .commit ? r.job + (r.commit.map { " " + $0.prefix(12) } ?? "") : redact(r.job)
        g.add(
            .init(
                id: "run:" + r.runId, label: label, detail: status, kind: .run, tone: tone(r.status), href: links.run(r.runId, commit: commit),
                title: "run \(redact(r.job)) \(r.status.rawValue) \(r.runId)"))
        // Many files of one folder on one side of a run (evidence logs) are drawn as one folder node.
        func side(_ list: [DatasetRef]) -> [(id: String, node: WebGraph.Node)] {
            let byFolder = Dictionary(grouping: list) { ($0.path as NSString).deletingLastPathComponent }
            var out: [(String, WebGraph.Node)] = []
            for d in list {
                let folder = (d.path as NSString).deletingLastPathComponent
                if let group = byFolder[folder], group.count > WebPages.collapseAbove {
                    let id = "dsg:" + folder + "/"
                    if !out.contains(where: { $0.0 == id }) {
                        out.append(
                            (
                                id,
                                .init(
                                    id: id, label: redact(folder) + "/ (\(group.count) files)", detail: "\(group.count) versions", kind: .dataset,
                                    title: "\(group.count) files of \(redact(folder))/")
                            ))
                    }
                    continue
                }
                let key = "ds:" + d.path + "@" + (d.sha256 ?? "")
                out.append(
                    (
                        key,
                        .init(
                            id: key, label: redact(d.path), detail: "sha256 " + String((d.sha256 ?? "unknown").prefix(12)), kind: .dataset,
                            href: d.sha256.flatMap { links.lineage(dataset: d.path, sha: $0, commit: commit) },
                            title: "dataset \(redact(d.path)) sha256 \(d.sha256 ?? "unknown")")
                    ))
            }
            return out
        }
        for (id, node) in side(r.inputs) {
            g.add(node)
            g.connect(id, "run:" + r.runId)
        }
        for (id, node) in side(r.outputs) {
            g.add(node)
            g.connect("run:" + r.runId, id)
        }
    }

    /// More files than this from one folder on one side of a run are drawn as one node.
    public static let collapseAbove = 6

    /// One run: what it was, its status and times, what it read and wrote (with hashes), its error, and its graph.
    public func run(_ runID: String, commit rev: String?) throws -> String {
        let id = try source.resolve(rev ?? source.defaultRevision)
        let pool = try source.allRuns(limit: 100_000) ?? source.runs(of: id)
        guard let r = pool.first(where: { $0.runId == runID }) ?? (runID.count >= 8 ? pool.first(where: { $0.runId.hasPrefix(runID) }) : nil) else {
            throw LineageError.unknownRun(runID)
        }
        var h = HTMLBuilder()
        h.raw("<dl class=\"meta\"><dt>Run</dt><dd><code>")
        h.text(r.runId)
        h.raw("</code></dd><dt>Job</dt><dd>")
        h.text(redact(r.job))
        h.raw("</dd><dt>Kind</dt><dd>")
        h.text(r.kind.rawValue)
        h.raw("</dd><dt>Status</dt><dd>")
        h.el("span", r.status.rawValue, [("class", "badge " + tone(r.status))])
        h.raw("</dd><dt>Started</dt><dd>")
        h.text(utcTime(r.started / 1000))
        if let e = r.ended {
            h.raw("</dd><dt>Took</dt><dd>")
            h.text(String(format: "%.2f s", Double(e - r.started) / 1000))
        }
        if let c = r.commit {
            h.raw("</dd><dt>Commit</dt><dd>")
            h.hash(c, links.commit(c))
        }
        if let p = r.parent {
            h.raw("</dd><dt>Part of</dt><dd>")
            h.link(p, pool.contains { $0.runId == p } ? links.run(p, commit: id.hex) : nil)
        }
        if let from = r.restoredFrom {
            h.raw("</dd><dt>Restored from</dt><dd>")
            h.text(from)
        }
        if let e = r.error {
            h.raw("</dd><dt>Error</dt><dd>")
            h.text(redact(e))
        }
        h.raw("</dd></dl>")
        for (title, list) in [("Inputs", r.inputs), ("Outputs", r.outputs)] {
            h.el("h2", title)
            if list.isEmpty {
                h.el("p", "None.")
                continue
            }
            h.raw("<table><thead><tr><th>Path</th><th>Kind</th><th>Size</th><th>sha256</th></tr></thead><tbody>")
            for d in list {
                h.raw("<tr><td>")
                h.link(redact(d.path), d.sha256.flatMap { links.lineage(dataset: d.path, sha: $0, commit: id.hex) })
                h.raw("</td><td>")
                h.text(d.kind)
                h.raw("</td><td class=\"num\">")
                h.text(humanSize(d.size))
                h.raw("</td><td>")
                if let s = d.sha256 { h.hash(s) }
                h.raw("</td></tr>")
            }
            h.raw("</tbody></table>")
        }
        var graph = WebGraph()
        addRun(&graph, r, commit: id.hex)
        let children = pool.filter { $0.parent == r.runId }
        for c in children { addRun(&graph, c, commit: id.hex) }
        h.el("h2", "Graph")
        h.raw(graph.svg(title: "Run \(redact(r.job))"))
        if !children.isEmpty {
            h.el("h2", "Stage runs")
            timelineSVG(&h, children)
            runTable(&h, children, commit: id.hex)
        }
        return page("Run " + redact(r.job), h.out, rev: id.hex)
    }

    /// Every recorded run (commits, pipeline runs, stages, publications, tools), newest first, failed and aborted ones
    /// included; where runs are known only per commit (a server), those of the default branch's tip.
    public func runsPage() throws -> String {
        let id = try source.resolve(source.defaultRevision)
        let runs = try source.allRuns(limit: 500) ?? source.runs(of: id)
        var h = HTMLBuilder()
        runTable(&h, runs, commit: id.hex)
        return page("Runs", h.out)
    }

    func runTable(_ h: inout HTMLBuilder, _ runs: [RunRecord], commit: String) {
        h.raw("<table class=\"nav\"><thead><tr><th>Job</th><th>Kind</th><th>Status</th><th>Started</th><th>Took</th><th>Outputs</th></tr></thead><tbody>")
        for r in runs {
            h.raw("<tr><td>")
            h.link(redact(r.job), links.run(r.runId, commit: commit))
            h.raw("</td><td>")
            h.text(r.kind.rawValue)
            h.raw("</td><td>")
            h.el("span", r.restoredFrom != nil ? r.status.rawValue + " (restored)" : r.status.rawValue, [("class", "badge " + tone(r.status))])
            h.raw("</td><td>")
            h.text(utcTime(r.started / 1000))
            h.raw("</td><td class=\"num\">")
            h.text(r.ended.map { String(format: "%.2f s", Double($0 - r.started) / 1000) } ?? "")
            h.raw("</td><td class=\"num\">\(r.outputs.count)</td></tr>")
        }
        h.raw("</tbody></table>")
    }

    /// Bars of each run's start and end on one time axis (a run's timeline per stage).
    func timelineSVG(_ h: inout HTMLBuilder, _ runs: [RunRecord]) {
        guard let t0 = runs.map(\.started).min() else { return }
        let t1 = max(runs.map { $0.ended ?? $0.started }.max() ?? t0, t0 + 1)
        let width = 640.0, label = 190.0, row = 22.0
        let height = Double(runs.count) * row + 24
        h.raw(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph timeline-chart\" role=\"img\" viewBox=\"0 0 \(Int(width + label + 80)) \(Int(height))\" width=\"\(Int(width + label + 80))\" height=\"\(Int(height))\">"
        )
        h.el("title", "Stage timeline")
        h.el("desc", "Each stage's start and end, from \(utcTime(t0 / 1000)); \(String(format: "%.2f", Double(t1 - t0) / 1000)) s in all.")
        for (i, r) in runs.sorted(by: { $0.started < $1.started }).enumerated() {
            let y = Double(i) * row + 4
            let x = label + Double(r.started - t0) / Double(t1 - t0) * width
            let w = max(2, Double((r.ended ?? r.started) - r.started) / Double(t1 - t0) * width)
            h.raw("<text x=\"4\" y=\"\(Int(y + 14))\" font-size=\"12\" font-family=\"system-ui,sans-serif\">")
            h.text(String(redact(r.job).suffix(28)))
            h.raw(
                "</text><rect x=\"\(Int(x))\" y=\"\(Int(y + 3))\" width=\"\(Int(w))\" height=\"14\" fill=\"\(r.status == .complete ? "#54aeff" : "#ff8182")\"")
            h.raw(r.status == .complete ? "/>" : " stroke=\"#a40e26\" stroke-dasharray=\"3 2\"/>")
            h.raw("<text x=\"\(Int(x + w + 4))\" y=\"\(Int(y + 14))\" font-size=\"11\" font-family=\"ui-monospace,monospace\">")
            h.text(String(format: "%.2f s %@", Double((r.ended ?? r.started) - r.started) / 1000, r.status == .complete ? "" : r.status.rawValue))
            h.raw("</text>")
        }
        h.raw("</svg>")
    }

    // MARK: Pipeline

    /// The stage graph as a picture, each stage's state (up to date, or why it would run), and the last pipeline
    /// run's timeline per stage.
    public func pipeline(_ rev: String) throws -> String {
        let id = try source.resolve(rev)
        var h = HTMLBuilder()
        guard let (name, stages) = try source.stages(at: id) else {
            h.el("p", "This commit has no Pipeline.swift.")
            return page("Pipeline", h.out, rev: rev)
        }
        var g = WebGraph()
        for s in stages {
            let t = stageTone(s.state)
            g.add(.init(id: s.name, label: s.name, detail: s.state, kind: .stage, tone: t, title: "stage \(s.name): \(s.state) \(s.reason)"))
        }
        for s in stages { for u in s.upstream { g.connect(u, s.name) } }
        h.el("p", "Pipeline \(name): \(stages.count) stages, sources on the left.")
        h.raw(g.svg(title: "Stages of \(name)"))
        h.raw("<h2>Stages</h2><table><thead><tr><th>Stage</th><th>State</th><th>Why</th><th>Command</th><th>Inputs</th><th>Outputs</th></tr></thead><tbody>")
        for s in stages {
            h.raw("<tr><td>")
            h.text(s.name)
            h.raw("</td><td>")
            let t = stageTone(s.state)
            h.el("span", s.state, [("class", "badge " + t)])
            h.raw("</td><td>")
            h.text(redact(s.reason))
            h.raw("</td><td><code>")
            h.text(redact(s.command))
            h.raw("</code></td><td>")
            h.text(s.inputs.map(redact).joined(separator: ", "))
            h.raw("</td><td>")
            h.text(s.outputs.map(redact).joined(separator: ", "))
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table>")
        let runs = try source.allRuns(limit: 2000) ?? source.runs(of: id)
        if let last = runs.first(where: { $0.kind == .pipeline }) {
            let children = runs.filter { $0.parent == last.runId }
            h.raw("<h2>Last run</h2><p>")
            h.link(redact(last.job) + " · " + last.status.rawValue + " · " + utcTime(last.started / 1000), links.run(last.runId, commit: id.hex))
            h.raw("</p>")
            timelineSVG(&h, children)
        }
        return page("Pipeline", h.out, rev: rev)
    }

    // MARK: Catalogue

    struct Dataset {
        var path: String, title: String, description: String, version: String, modified: String, run: String?
        var keywords: [String], licence: String?, distributions: [(format: String, size: String, sha: String)]
    }

    static func parseCatalog(_ doc: Data) -> (title: String, description: String, items: [Dataset]) {
        guard let root = try? JSONSerialization.jsonObject(with: doc) as? [String: Any], let graph = root["@graph"] as? [[String: Any]] else {
            return ("Catalogue", "", [])
        }
        func value(_ v: Any?) -> String {
            if let s = v as? String { return s }
            if let o = v as? [String: Any] { return value(o["@value"] ?? o["@id"]) }
            if let a = v as? [Any] { return a.map { value($0) }.joined(separator: ", ") }
            return ""
        }
        let catalog = graph.first { ($0["@type"] as? String) == "dcat:Catalog" } ?? [:]
        var items: [Dataset] = []
        for d in (catalog["dcat:dataset"] as? [[String: Any]]) ?? [] {
            let id = value(d["@id"])
            let path = (id.split(separator: ":").last.map(String.init) ?? id).removingPercentEncoding ?? id
            let dists = ((d["dcat:distribution"] as? [[String: Any]]) ?? []).map { x -> (String, String, String) in
                let size = UInt64(value(x["dcat:byteSize"])).map(humanSize) ?? ""
                let sha = value((x["spdx:checksum"] as? [String: Any])?["spdx:checksumValue"])
                return (value(x["dct:format"]).split(separator: "/").last.map(String.init) ?? "", size, sha)
            }
            let run = value(d["prov:wasGeneratedBy"]).split(separator: ":").last.map(String.init)
            let keywords = ((d["dcat:keyword"] as? [Any]) ?? (d["dcat:keyword"].map { [$0] } ?? [])).map { value($0) }
            items.append(
                Dataset(
                    path: path, title: value(d["dct:title"]), description: value(d["dct:description"]), version: value(d["dcat:version"]),
                    modified: value(d["dct:modified"]), run: run, keywords: keywords, licence: d["dct:license"].map { value($0) },
                    distributions: dists.map { (format: $0.0, size: $0.1, sha: $0.2) }))
        }
        return (value(catalog["dct:title"]), value(catalog["dct:description"]), items.sorted { $0.path < $1.path })
    }

    /// The DCAT catalogue of a commit: each published dataset with its version, hashes and the run that produced it.
    public func catalog(_ rev: String) throws -> String {
        let id = try source.resolve(rev)
        var h = HTMLBuilder()
        let doc: Data
        do { doc = try source.catalog(at: id).0 } catch let e as any StrataError where e.code == "catalog.nothing-published" {
            h.el("p", "Nothing is published at this commit: mark outputs `published: true` in Pipeline.swift.")
            return page("Catalogue", h.out, rev: rev)
        }
        let (title, description, items) = WebPages.parseCatalog(doc)
        h.el("p", redact(description))
        h.raw("<table class=\"nav\"><thead><tr><th>Dataset</th><th>Description</th><th>Modified</th><th>sha256</th></tr></thead><tbody>")
        for d in items {
            h.raw("<tr><td>")
            h.link(redact(d.title), links.dataset(id.hex, d.path))
            h.raw("</td><td>")
            h.text(redact(d.description))
            h.raw("</td><td>")
            h.text(d.modified)
            h.raw("</td><td>")
            if let s = d.distributions.first?.sha { h.hash(s) }
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table>")
        h.raw("<p>")
        h.link("Lineage of this commit", links.lineage(commit: id.hex))
        h.raw("</p>")
        return page(title.isEmpty ? "Catalogue" : redact(title), h.out, rev: id.hex)
    }

    /// One dataset of the catalogue: its metadata, distributions with hashes, producing run and lineage.
    public func dataset(_ rev: String, path: String) throws -> String {
        let id = try source.resolve(rev)
        let items = WebPages.parseCatalog(try source.catalog(at: id).0).items
        guard let d = items.first(where: { $0.path == path }) else { throw WebError.notInCatalogue(path) }
        var h = HTMLBuilder()
        h.raw("<dl class=\"meta\"><dt>Description</dt><dd>")
        h.text(redact(d.description))
        h.raw("</dd><dt>Version (commit)</dt><dd>")
        h.hash(d.version, links.commit(d.version))
        h.raw("</dd><dt>Modified</dt><dd>")
        h.text(d.modified)
        if !d.keywords.isEmpty {
            h.raw("</dd><dt>Keywords</dt><dd>")
            h.text(d.keywords.joined(separator: ", "))
        }
        if let l = d.licence {
            h.raw("</dd><dt>Licence</dt><dd>")
            h.text(l)
        }
        if let r = d.run {
            h.raw("</dd><dt>Produced by</dt><dd>")
            h.link("run " + r, links.run(r, commit: id.hex))
        }
        h.raw("</dd></dl><h2>Distributions</h2><table><thead><tr><th>Format</th><th>Size</th><th>sha256</th><th>Get it</th></tr></thead><tbody>")
        for x in d.distributions {
            h.raw("<tr><td>")
            h.text(x.format)
            h.raw("</td><td class=\"num\">")
            h.text(x.size)
            h.raw("</td><td>")
            h.hash(x.sha)
            h.raw("</td><td>")
            if let raw = links.raw(id.hex, path) { h.link("Download", raw) } else { h.el("code", "strata cat \(id.short) \(redact(path))") }
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table><h2>Lineage</h2>")
        let runs = try source.runs(of: id)
        let sha = d.distributions.first?.sha ?? ""
        let near = neighbourhood(runs, of: path + "@" + sha, hops: 2)
        if near.isEmpty {
            h.el("p", "No recorded run produced or read this version.")
        } else {
            var g = WebGraph()
            for r in near { addRun(&g, r, commit: id.hex) }
            h.raw(g.svg(title: "Lineage of \(redact(path))"))
        }
        return page(redact(d.title), h.out, rev: id.hex)
    }

    // MARK: Retention, the viewer

    /// What `prune` would keep and forget, with every reason, before anyone runs it.
    public func retention(rules: String?) throws -> String {
        let parsed = rules.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.split(separator: " ").map(String.init) }
        var h = HTMLBuilder()
        h.open("form", [("method", "get"), ("action", links.retention() ?? "")])
        h.raw("<label for=\"rules\">Rules</label> ")
        h.open("input", [("id", "rules"), ("name", "rules"), ("size", "50"), ("value", rules ?? ""), ("placeholder", "--keep-last 5 --keep-daily 7")])
        h.raw(" <button type=\"submit\">Preview</button></form>")
        let decisions: [RetentionDecision]
        do { decisions = try source.retention(rules: parsed) } catch let e as any StrataError where e.category == .usage {
            h.el("p", e.message + (e.nextStep.map { " " + $0 } ?? ""), [("role", "status")])
            return page("Retention preview", h.out)
        }
        let forget = decisions.filter { !$0.keep }.count
        h.el(
            "p",
            "\(decisions.count - forget) commits kept, \(forget) forgotten (their history stays; gc then reclaims what only they held). Nothing has changed.")
        h.raw("<table class=\"nav\"><thead><tr><th>Commit</th><th>Date</th><th>Decision</th><th>Reasons</th><th>Branches</th></tr></thead><tbody>")
        for d in decisions {
            h.raw("<tr><td>")
            h.hash(d.id.hex, links.commit(d.id.hex))
            h.raw("</td><td>")
            h.text(utcTime(d.time))
            h.raw("</td><td>")
            h.el("span", d.keep ? "keep" : "forget", [("class", "badge " + (d.keep ? "ok" : "bad"))])
            h.raw("</td><td>")
            h.text(d.reasons.joined(separator: "; "))
            h.raw("</td><td>")
            h.text(d.branches.joined(separator: ", "))
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table>")
        return page("Retention preview", h.out)
    }

    /// Who is signed in and what they may do; the token sign-in form on a server.
    public func me(message: String? = nil) -> String {
        let v = viewer
        var h = HTMLBuilder()
        if let message { h.el("p", message, [("role", "status")]) }
        if let name = v.name {
            h.el("p", "Signed in as \(name).")
        } else if v.signIn {
            h.el("p", "Not signed in: you see what anonymous visitors may see.")
        } else {
            h.el("p", "A local store on this machine: you may do everything the command line does.")
        }
        if !v.roles.isEmpty {
            h.el("h2", "What you may do")
            h.raw("<ul>")
            for r in v.roles { h.el("li", r) }
            h.raw("</ul>")
        }
        if v.signIn {
            if v.name == nil {
                h.raw(WebPages.signInForm(links: links))
            } else {
                h.open("form", [("method", "post"), ("action", links.action("logout"))])
                formTokenField(&h)
                h.raw("<button type=\"submit\">Sign out</button></form>")
            }
        }
        if v.canProtect {
            h.raw("<h2>Protect a branch</h2>")
            h.open("form", [("method", "post"), ("action", links.action("protect")), ("class", "inline")])
            formTokenField(&h)
            h.raw("<label for=\"pattern\">Branch pattern</label> <input id=\"pattern\" name=\"pattern\" required> ")
            h.raw("<label><input type=\"checkbox\" name=\"require_merge\" value=\"1\"> require merges</label> ")
            h.raw("<label><input type=\"checkbox\" name=\"require_lineage\" value=\"1\"> require lineage</label> ")
            h.raw("<button type=\"submit\">Protect</button></form>")
        }
        return page("You", h.out)
    }

    func formTokenField(_ h: inout HTMLBuilder) {
        h.open("input", [("type", "hidden"), ("name", "form_token"), ("value", formToken)])
    }

    func refForms(_ h: inout HTMLBuilder, at commit: String) {
        h.raw("<section aria-labelledby=\"new\"><h2 id=\"new\">Create a branch or a tag</h2>")
        for (kind, label) in [("branch", "New branch"), ("tag", "New tag")] {
            h.open("form", [("method", "post"), ("action", links.action(kind)), ("class", "inline")])
            formTokenField(&h)
            h.open("input", [("type", "hidden"), ("name", "at"), ("value", commit)])
            h.raw("<label for=\"\(kind)-name\">\(label)</label> <input id=\"\(kind)-name\" name=\"name\" required pattern=\"[A-Za-z0-9._/-]+\"> ")
            h.raw("<button type=\"submit\">Create at \(String(commit.prefix(12)))</button></form><br>")
        }
        h.raw("</section>")
    }

    func mergeForm(_ h: inout HTMLBuilder, branches: [String]) {
        guard branches.count > 1 else { return }
        h.raw("<section aria-labelledby=\"merge\"><h2 id=\"merge\">Merge a branch</h2>")
        h.open("form", [("method", "post"), ("action", links.action("merge")), ("class", "inline")])
        formTokenField(&h)
        for (name, label) in [("source", "Merge"), ("target", "into")] {
            h.raw("<label for=\"merge-\(name)\">\(label)</label> ")
            h.open("select", [("id", "merge-" + name), ("name", name)])
            for (i, b) in branches.enumerated() {
                let chosen = name == "target" ? b == "main" || (i == 0 && !branches.contains("main")) : i == (branches.first == "main" ? 1 : 0)
                h.open("option", [("value", b)] + (chosen ? [("selected", "selected")] : []))
                h.text(b)
                h.close("option")
            }
            h.raw("</select> ")
        }
        h.raw("<button type=\"submit\">Merge</button></form>")
        h.el(
            "p",
            viewer.signIn
                ? "A server fast-forwards only; diverged branches are merged on a clone (strata merge) and pushed."
                : "Merges into the checked-out branch, as strata merge does; conflicts are left for strata resolve.", [("class", "muted")])
        h.raw("</section>")
    }

    // MARK: Pieces

    func statLine(_ h: inout HTMLBuilder, _ changes: [Change]) {
        var counts: [Change.Status: Int] = [:]
        var grew: Int64 = 0
        for c in changes {
            counts[c.status, default: 0] += 1
            grew += Int64(c.new?.size ?? 0) - Int64(c.old?.size ?? 0)
        }
        let parts = [Change.Status.added, .modified, .deleted, .renamed].compactMap { s in counts[s].map { "\($0) \(s.rawValue)" } }
        h.el(
            "p",
            "\(changes.count) \(changes.count == 1 ? "file" : "files") changed" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
                + " · \(grew >= 0 ? "+" : "−")\(humanSize(UInt64(abs(grew))))", [("class", "stat")])
    }

    func changeTable(_ h: inout HTMLBuilder, _ changes: [Change], offset: Int, from: String?, to: String) {
        if changes.isEmpty { return }
        h.raw(
            "<table class=\"nav\"><thead><tr><th>Change</th><th>Path</th><th>Old size</th><th>New size</th><th>Old sha256</th><th>New sha256</th><th>Rows</th></tr></thead><tbody>"
        )
        for c in changes.dropFirst(offset).prefix(WebPages.pageSize) {
            h.open("tr", [("class", c.status == .added ? "added" : c.status == .deleted ? "removed" : "modified")])
            h.el("td", c.status.rawValue)
            h.raw("<td>")
            if let o = c.oldPath {
                h.text(o + " → ")
            }
            h.link(c.path, c.status == .deleted ? (from.flatMap { links.tree($0, c.path) }) : links.tree(to, c.path))
            h.raw("</td><td class=\"num\">")
            h.text(c.old.map { humanSize($0.size) } ?? "")
            h.raw("</td><td class=\"num\">")
            h.text(c.new.map { humanSize($0.size) } ?? "")
            h.raw("</td><td>")
            if let o = c.old { h.hash(o.id.hex) }
            h.raw("</td><td>")
            if let n = c.new { h.hash(n.id.hex) }
            h.raw("</td><td>")
            if c.status == .modified, let from, let f = TableFormat.guess(c.path), !f.isFolder {
                h.link("row diff", links.rows(from, to, c.path))
            }
            h.raw("</td></tr>")
        }
        h.raw("</tbody></table>")
    }

    func pager(_ h: inout HTMLBuilder, previous: String?, next: String?) {
        if previous == nil && next == nil { return }
        h.raw("<nav class=\"pager\" aria-label=\"Pages\">")
        if let previous { h.el("a", "← Newer / previous page", [("href", previous), ("rel", "prev")]) }
        if let next { h.el("a", "Next page →", [("href", next), ("rel", "next")]) }
        h.raw("</nav>")
    }

    func breadcrumbs(_ h: inout HTMLBuilder, rev: String, path: String) {
        h.raw("<nav aria-label=\"Breadcrumb\"><p>")
        h.link(rev, links.tree(rev, ""))
        var acc = ""
        for part in path.slashSeparated() {
            acc += (acc.isEmpty ? "" : "/") + part
            h.text(" / ")
            h.link(String(part), links.tree(rev, acc))
        }
        h.raw("</p></nav>")
    }

    /// The author's name for a signed-in viewer or a local store; anonymous visitors of a server do not see names
    /// (personal data), only that a person committed.
    func author(_ c: Commit) -> String {
        let v = viewer
        return !v.signIn || v.name != nil ? c.author.name : "(author shown to signed-in users)"
    }

    func shortRef(_ full: String) -> String {
        if full.hasPrefix("refs/heads/") { return String(full.dropFirst(11)) }
        if full.hasPrefix("refs/tags/") { return String(full.dropFirst(10)) }
        return full
    }
    func firstLine(_ s: String) -> String { String(s.textLines(omittingEmpty: true).first ?? "") }
    func iso(_ t: Int64) -> String { isoTime(t) }
    func redact(_ s: String) -> String { source.redact(s) }
}

/// The datasets of a DCAT catalogue document (JSON-LD), by path, with their titles.
public func catalogDatasets(_ doc: Data) -> [(path: String, title: String)] {
    WebPages.parseCatalog(doc).items.map { ($0.path, $0.title) }
}

/// Failures of the web pages.
public enum WebError: StrataError {
    /// The dataset is not in the catalogue of that commit.
    case notInCatalogue(String)
    /// A form or query value is missing or malformed.
    case badInput(String)

    public var code: String {
        switch self {
        case .notInCatalogue: "web.not-in-catalogue"
        case .badInput: "web.bad-input"
        }
    }
    public var category: ErrorCategory {
        switch self {
        case .notInCatalogue: .notFound
        case .badInput: .usage
        }
    }
    public var message: String {
        switch self {
        case .notInCatalogue(let p): "'\(p)' is not a published dataset at this commit"
        case .badInput(let m): m
        }
    }
    public var nextStep: String? {
        switch self {
        case .notInCatalogue: "open the catalogue page to see what is published"
        case .badInput: "correct the value and send it again"
        }
    }
}
