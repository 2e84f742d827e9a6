import Foundation
import StrataTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `strata ui` on 127.0.0.1 (any free port) for a store, stopped (SIGTERM) when the test process's end closes its
/// stdin, like `TestServer`.
final class TestUI: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe()
    /// `http://127.0.0.1:PORT/`.
    let url: String

    init(store: String) throws {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\"$0\" ui --port 0 </dev/null & p=$!; cat >/dev/null; kill -TERM $p; wait $p", StrataCLI.binary]
        process.currentDirectoryURL = URL(fileURLWithPath: store)
        let out = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: PythonFixture.firstLine(out, of: process), as: UTF8.self)
        guard let r = text.range(of: "open ") else { throw CocoaError(.fileReadCorruptFile) }
        url = String(text[r.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit(within: 120)
    }
}

/// The Chromium the browser tests drive (Debian's package, which `dist/install-deps.sh` installs), and whether
/// Playwright and axe-core are importable (requirements-test.txt).
let chromiumPath: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
let browserToolsReady: Bool = {
    guard chromiumPath != nil, let (st, _) = try? python(["-c", "import playwright.sync_api, axe_playwright_python"]) else { return false }
    return st == 0
}()

/// A store for the UI: a keyed table in two versions (a changed cell, an added row, 600 new evidence files so that
/// listings page), a pipeline whose stage publishes a table, a failed pipeline run, and a commit message that tries to
/// inject markup.
func webFixture(_ s: StrataCLI, personal: (name: String, email: String)? = nil) throws {
    try s.run("init")
    if let personal { try s.run("config", "lineage.redact-names", personal.name) }
    try s.write("tables/orgs.csv", "id,name,score\n1,Acme,0.5\n2,Globex,0.7\n")
    try s.write(
        "Pipeline.swift",
        """
        import PipelineDescription
        let pipeline = Pipeline(name: "web", stages: [
            .stage(name: "publish", command: "mkdir -p out && cp tables/orgs.csv out/orgs.csv", inputs: ["tables/orgs.csv"],
                   outputs: [.table("out/orgs.csv", key: "id", published: true)]),
            .stage(name: "report", command: "mkdir -p reports && wc -l out/orgs.csv > reports/count.txt", inputs: ["out/orgs.csv"],
                   outputs: [.file("reports/count.txt")]),
        ])
        """)
    #expect(try s.run("repro").status == 0)
    #expect(try s.run("commit", "-m", "v1: organisations <script>alert('x')</script>").status == 0)
    try s.run("tag", "v1")
    try s.write("tables/orgs.csv", "id,name,score\n1,Acme,0.5\n2,Globex Ltd,0.7\n3,Initech,0.9\n")
    for i in 0..<600 { try s.write(String(format: "evidence/e%04d.json", i), "{\"n\": \(i)}\n") }
    if let personal { try s.write("evidence/review-\(personal.email).json", "{\"by\": \"\(personal.name)\"}\n") }
    #expect(try s.run("repro").status == 0)
    #expect(try s.run("commit", "-m", "v2: renamed Globex, added Initech").status == 0)
    // A failing run, recorded as FAIL.
    try s.write("tables/orgs.csv", "id,name,score\n1,Acme,0.5\n")
    try s.write(
        "Pipeline.swift",
        (try String(contentsOfFile: s.path("Pipeline.swift"), encoding: .utf8)).replacingOccurrences(
            of: "mkdir -p out && cp", with: "exit 3 && cp"))
    #expect(try s.run("repro").status != 0)
    try s.run("checkout", "--force", "HEAD")
}

/// The full id of a revision.
func commitID(_ s: StrataCLI, _ rev: String) throws -> String {
    let doc = try JSONSerialization.jsonObject(with: Data(try s.run("log", rev, "-n", "1", "--json").stdout.utf8)) as? [String: Any]
    return ((doc?["commits"] as? [[String: Any]])?.first?["id"] as? String) ?? ""
}

@Suite("Web UI, static site and MCP over HTTP", .serialized) struct WebUITests {
    let helpers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

    /// `strata ui`: every page answers with its content; the table diff highlights the changed cell with its old
    /// value; listings page; markup in a commit message is escaped; a request naming another host, or a form without
    /// the UI's token, is refused; a form with it creates a branch.
    @Test func localPages() throws {
        let s = try StrataCLI()
        try webFixture(s)
        let ui = try TestUI(store: s.directory)
        let u = ui.url
        let head = try commitID(s, "HEAD")
        let home = http("GET", u)
        #expect(home.status == 200 && home.text.contains("Commits on HEAD") && home.text.contains("v2: renamed Globex"))
        #expect(home.text.contains("&lt;script&gt;") && !home.text.contains("<script>alert"), "markup in a message must be escaped")
        #expect(home.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        let commit = http("GET", u + "commit/HEAD")
        #expect(commit.status == 200 && commit.text.contains("Changed files") && commit.text.contains("604 files changed"))
        #expect(commit.text.contains("Next page"), "604 changed files page at 500")
        let second = http("GET", u + "commit/HEAD?offset=500").text
        #expect(second.contains("evidence/e0599.json") && second.contains("row diff"))
        let rows = http("GET", u + "rows?from=v1&to=HEAD&path=tables/orgs.csv&key=id")
        #expect(rows.status == 200 && rows.text.contains("class=\"changed\""), "\(rows.text.prefix(300))")
        #expect(rows.text.contains("<del aria-label=\"was\">Globex</del>") && rows.text.contains("Globex Ltd") && rows.text.contains("+ added"))
        let diff = http("GET", u + "diff?from=v1&to=HEAD")
        #expect(diff.status == 200 && diff.text.contains("604 files changed"))
        let lineage = http("GET", u + "lineage?commit=HEAD")
        #expect(lineage.status == 200 && lineage.text.contains("<svg") && lineage.text.contains("web.publish") && lineage.text.contains("out/orgs.csv"))
        let runs = http("GET", u + "runs")
        #expect(runs.text.contains("FAIL") && runs.text.contains("COMPLETE"), "failed runs are listed")
        let pipeline = http("GET", u + "pipeline")
        #expect(pipeline.status == 200 && pipeline.text.contains("data-node=\"publish\"") && pipeline.text.contains("Last run"))
        let catalog = http("GET", u + "catalog")
        #expect(catalog.status == 200 && catalog.text.contains("out/orgs.csv"), "\(catalog.text.suffix(400))")
        let dataset = http("GET", u + "dataset?path=out/orgs.csv")
        #expect(dataset.status == 200 && dataset.text.contains("Distributions") && dataset.text.contains("<svg"))
        let retention = http("GET", u + "retention?rules=--keep-last+1")
        #expect(
            retention.text.contains(">keep<") && retention.text.contains("v1 (tag)") == false && retention.text.contains("Nothing has changed"),
            "\(retention.text.suffix(800))")
        let file = http("GET", u + "raw/v1?path=tables/orgs.csv")
        #expect(file.status == 200 && file.text == "id,name,score\n1,Acme,0.5\n2,Globex,0.7\n")
        let preview = http("GET", u + "tree/HEAD?path=tables/orgs.csv")
        #expect(preview.text.contains("<td>Initech</td>") && preview.text.contains("Download"))
        #expect(http("GET", u + "tree/HEAD?path=../etc").status == 400)
        // A second UI on the same port: a clear error naming the address, exit 64.
        let port = String(u.split(separator: ":").last?.filter(\.isNumber) ?? "")
        let taken = try s.run("ui", "--port", port)
        #expect(taken.status == 64 && taken.stderr.contains("127.0.0.1:\(port) is already in use"), "\(taken.stderr)")
        #expect(http("GET", u + "commit/no-such-rev").status == 404)
        // Another host name (DNS rebinding) is refused; so is a form without the token.
        #expect(http("GET", u, headers: ["Host": "attacker.example:80"]).status == 403)
        let form = Data("name=from-ui&at=\(head)".utf8)
        #expect(http("POST", u + "action/branch", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: form).status == 403)
        #expect(try s.run("branch").stdout.contains("from-ui") == false)
        let token = try #require(home.text.range(of: "name=\"form_token\" value=\"").map { String(home.text[$0.upperBound...].prefix(32)) })
        let made = http(
            "POST", u + "action/branch", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: Data("form_token=\(token)&name=from-ui&at=\(head)".utf8))
        #expect(made.status == 200 || made.status == 303, "\(made.status) \(made.text.prefix(300))")
        #expect(try s.run("branch").stdout.contains("from-ui"))
        // Merge from the UI: a branch with its own commit, merged into the checked-out main.
        try s.run("switch", "from-ui")
        try s.write("notes/ui.md", "from the UI\n")
        try s.run("commit", "-m", "on the branch")
        try s.run("switch", "main")
        try s.write("notes/main.md", "on main\n")
        try s.run("commit", "-m", "on main")
        let merged = http(
            "POST", u + "action/merge", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: Data("form_token=\(token)&source=from-ui&target=main".utf8))
        #expect(merged.status == 200 && merged.text.contains("Merged from-ui into main"), "\(merged.text.suffix(600))")
        #expect(FileManager.default.fileExists(atPath: s.path("notes/ui.md")))
        let wrongTarget = http(
            "POST", u + "action/merge", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: Data("form_token=\(token)&source=main&target=from-ui".utf8))
        #expect(wrongTarget.status == 400 && wrongTarget.text.contains("strata switch from-ui"))
    }

    /// `strata serve`'s pages: anonymous sees only what anonymous may read; a token signs in (an HttpOnly,
    /// SameSite=Strict cookie); a reader's form is refused; a writer's creates a branch, which the audit log records.
    @Test func serverPagesFollowRoles() throws {
        let server = try TestServer()
        try server.admin("namespace", "add", "dev")
        let alice = try server.token(for: "alice"), bob = try server.token(for: "bob")
        try server.admin("policy", "set", "alice", "maintainer", "**")
        try server.admin("policy", "set", "bob", "reader", "main")
        try server.admin("policy", "set", "anonymous", "reader", "main")
        let s = try StrataCLI()
        try webFixture(s)
        try s.run("branch", "secret/plan")
        try s.run("switch", "secret/plan")
        try s.write("secret.txt", "only for alice\n")
        try s.run("commit", "-m", "secret plan")
        let secret = try commitID(s, "HEAD")
        try s.run("switch", "main")
        try s.run(["remote", "add", "team", server.url + "/dev"], env: ["STRATA_TOKEN": alice])
        #expect(try s.run(["push", "team", "--all", "--tags"], env: ["STRATA_TOKEN": alice]).status == 0)
        let base = server.url + "/dev/ui/"
        let anon = http("GET", base)
        #expect(anon.status == 200 && anon.text.contains("Not signed in") && anon.text.contains("main"))
        #expect(!anon.text.contains("E2E Tester"), "anonymous visitors do not see authors' names")
        #expect(!anon.text.contains("secret/plan"), "anonymous must not see the secret branch")
        #expect(http("GET", base + "log?rev=secret/plan").status == 404)
        #expect(http("GET", base + "tree/secret%2Fplan?path=secret.txt").status == 404)
        // A commit id is readable with a role on any ref of the namespace (packs are shared: server-api.md).
        #expect(http("GET", base + "commit/" + secret).status == 200)
        #expect(http("GET", base + "lineage?commit=main").text.contains("<svg"))
        // Sign in: a bad token is refused, a good one sets the cookie.
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        #expect(http("POST", server.url + "/dev/ui/action/login", headers: form, body: Data("token=strata_nope_nope".utf8)).status == 401)
        let login = try curl([
            "-D", "-", "-X", "POST", "-H", "Content-Type: application/x-www-form-urlencoded", "--data", "token=\(bob)", server.url + "/dev/ui/action/login",
        ])
        #expect(login.body.lowercased().contains("set-cookie: strata_session=") && login.body.contains("HttpOnly") && login.body.contains("SameSite=Strict"))
        let bobPage = http("GET", base, headers: ["Cookie": "strata_session=\(bob)"])
        #expect(bobPage.text.contains("Signed in as") && bobPage.text.contains("bob"))
        #expect(!bobPage.text.contains("Create a branch"), "a reader is not offered the form")
        let main = try commitID(s, "main")
        // The reader's post is refused even with a form token derived like a writer's.
        let bobMe = http("GET", base + "me", headers: ["Cookie": "strata_session=\(bob)"]).text
        let bobToken = try #require(bobMe.range(of: "name=\"form_token\" value=\"").map { String(bobMe[$0.upperBound...].prefix(32)) })
        let refused = http(
            "POST", base + "action/branch", headers: form.merging(["Cookie": "strata_session=\(bob)"]) { a, _ in a },
            body: Data("form_token=\(bobToken)&name=bobs&at=\(main)".utf8))
        #expect(refused.status == 403, "\(refused.status)")
        let alicePage = http("GET", base, headers: ["Cookie": "strata_session=\(alice)"])
        #expect(alicePage.text.contains("Create a branch") && alicePage.text.contains("secret/plan"))
        let aliceToken = try #require(
            alicePage.text.range(of: "name=\"form_token\" value=\"").map { String(alicePage.text[$0.upperBound...].prefix(32)) })
        // Without the form token, refused; with it, created and audited.
        #expect(
            http(
                "POST", base + "action/branch", headers: form.merging(["Cookie": "strata_session=\(alice)"]) { a, _ in a }, body: Data("name=a&at=\(main)".utf8)
            )
            .status == 403)
        let created = http(
            "POST", base + "action/branch", headers: form.merging(["Cookie": "strata_session=\(alice)"]) { a, _ in a },
            body: Data("form_token=\(aliceToken)&name=review/alice&at=\(main)".utf8))
        #expect(created.status == 200 || created.status == 303, "\(created.status) \(created.text.prefix(300))")
        let audit = try server.admin("audit", "log", "--json").stdout
        #expect(audit.contains("refs/heads/review/alice") && audit.contains("\"alice\""), "\(audit.suffix(500))")
        // Merge from the UI on a server: a fast-forward of main to a branch ahead of it, through the same checks.
        try s.run("switch", "-c", "feature/ff")
        try s.write("notes/ff.md", "ahead\n")
        try s.run("commit", "-m", "ahead of main")
        #expect(try s.run(["push", "team", "feature/ff"], env: ["STRATA_TOKEN": alice]).status == 0)
        let ff = http(
            "POST", base + "action/merge", headers: form.merging(["Cookie": "strata_session=\(alice)"]) { a, _ in a },
            body: Data("form_token=\(aliceToken)&source=feature/ff&target=main".utf8))
        #expect(ff.status == 200 && ff.text.contains("Fast-forwarded main"), "\(ff.text.suffix(500))")
        #expect(try server.admin("audit", "log", "--json").stdout.contains("ref.update"))
        let diverged = http(
            "POST", base + "action/merge", headers: form.merging(["Cookie": "strata_session=\(alice)"]) { a, _ in a },
            body: Data("form_token=\(aliceToken)&source=secret/plan&target=main".utf8))
        #expect(diverged.status == 400 && diverged.text.contains("diverged"), "\(diverged.status) \(diverged.text.suffix(400))")
        // Protecting a branch from the UI needs admin: alice (maintainer) is refused, an admin is not, and it is audited.
        #expect(
            !alicePage.text.contains("Protect a branch")
                && !http("GET", base + "me", headers: ["Cookie": "strata_session=\(alice)"]).text.contains("Protect a branch"))
        #expect(
            http(
                "POST", base + "action/protect", headers: form.merging(["Cookie": "strata_session=\(alice)"]) { a, _ in a },
                body: Data("form_token=\(aliceToken)&pattern=release/*".utf8)
            ).status == 403)
        let carol = try server.token(for: "carol")
        try server.admin("policy", "set", "carol", "admin", "**")
        let carolMe = http("GET", base + "me", headers: ["Cookie": "strata_session=\(carol)"]).text
        #expect(carolMe.contains("Protect a branch"))
        let carolToken = try #require(carolMe.range(of: "name=\"form_token\" value=\"").map { String(carolMe[$0.upperBound...].prefix(32)) })
        let protected = http(
            "POST", base + "action/protect", headers: form.merging(["Cookie": "strata_session=\(carol)"]) { a, _ in a },
            body: Data("form_token=\(carolToken)&pattern=release/*&require_merge=1".utf8))
        #expect(protected.status == 200 && protected.text.contains("Protected release/*"), "\(protected.text.suffix(400))")
        #expect(try server.admin("protect", "--namespace", "dev").stdout.contains("release/*"))
        #expect(try server.admin("audit", "log", "--json").stdout.contains("\"carol\""))
        // A cross-site post (another Origin) is refused before anything else.
        #expect(
            http(
                "POST", base + "action/branch",
                headers: form.merging(["Cookie": "strata_session=\(alice)", "Origin": "https://attacker.example"]) { a, _ in a },
                body: Data("form_token=\(aliceToken)&name=evil&at=\(main)".utf8)
            ).status == 403)
    }

    /// `strata site`: the catalogue, dataset, lineage and run pages as files; every relative link resolves, graphs are
    /// SVG, nothing points off the site, and planted personal data appears nowhere.
    @Test func staticSite() throws {
        var g = SplitMix(seed: 0x51_7E)
        let person = PersonalData.names[1], email = PersonalData.email(&g)
        let s = try StrataCLI()
        try webFixture(s, personal: (person, email))
        let out = s.path("../site-" + UUID().uuidString.prefix(6))
        let r = try s.run("site", "--out", out, "--json")
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(files.contains("index.html") && files.contains("style.css"))
        #expect(files.contains { $0.hasPrefix("dataset-") } && files.contains { $0.hasPrefix("lineage-") } && files.contains { $0.hasPrefix("run-") })
        for f in files where f.hasSuffix(".html") {
            let text = try String(contentsOfFile: out + "/" + f, encoding: .utf8)
            for planted in [person, email, person.lowercased(), email.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? email] {
                #expect(!text.contains(planted), "\(f) holds planted personal data")
            }
            var rest = Substring(text)
            while let r = rest.range(of: "href=\"") {
                let target = rest[r.upperBound...].prefix { $0 != "\"" }
                rest = rest[r.upperBound...]
                #expect(!target.contains("://") && !target.hasPrefix("/"), "\(f) links off the site: \(target)")
                let file = String(target.prefix { $0 != "#" && $0 != "?" })
                #expect(file.isEmpty || FileManager.default.fileExists(atPath: out + "/" + file), "\(f) links to missing \(file)")
            }
        }
        let lineage = try #require(files.first { $0.hasPrefix("lineage-") })
        #expect(try String(contentsOfFile: out + "/" + lineage, encoding: .utf8).contains("<svg"))
        if browserToolsReady {
            let shots = NSTemporaryDirectory() + "site-shots-" + UUID().uuidString.prefix(6)
            let pages: [[String: Any]] = files.filter { $0.hasSuffix(".html") }.sorted().prefix(6).map {
                ["url": "file://" + out + "/" + $0, "name": "site-" + $0.replacingOccurrences(of: ".html", with: ""), "texts": ["Strata"]]
            }
            try browse(["chromium": chromiumPath!, "shots": shots, "pages": pages])
        }
    }

    /// MCP over streamable HTTP at `/{namespace}/mcp`: initialize, tools/list (valid schemas, only the tools a store
    /// without a workspace offers), every tool with valid and invalid arguments, the resources, permission refusals, and
    /// each call's lineage event valid against the OpenLineage schema.
    @Test func mcpOverHTTP() throws {
        let server = try TestServer()
        try server.admin("namespace", "add", "dev")
        try server.admin("namespace", "add", "closed")
        let alice = try server.token(for: "alice"), bob = try server.token(for: "bob")
        try server.admin("policy", "set", "alice", "writer", "**")
        try server.admin("policy", "set", "bob", "reader", "main")
        let s = try StrataCLI()
        try webFixture(s)
        let added = try s.run(["remote", "add", "team", server.url + "/dev"], env: ["STRATA_TOKEN": alice])
        #expect(added.status == 0, "\(added.stderr)")
        let pushed = try s.run(["push", "team", "--all", "--tags"], env: ["STRATA_TOKEN": alice])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let endpoint = server.url + "/dev/mcp"
        var id = 0
        func rpc(_ method: String, _ params: [String: Any] = [:], token: String? = alice, to url: String? = nil) -> HTTPReply {
            id += 1
            let body = try! JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": id, "method": method, "params": params])
            return http(
                "POST", url ?? endpoint, token: token,
                headers: ["Content-Type": "application/json", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"],
                body: body)
        }
        func result(_ r: HTTPReply) -> [String: Any] { r.json["result"] as? [String: Any] ?? [:] }
        func call(_ tool: String, _ args: [String: Any], token: String? = alice) -> [String: Any] {
            let r = rpc("tools/call", ["name": tool, "arguments": args], token: token)
            return (r.json["result"] as? [String: Any]) ?? ["error": r.json["error"] ?? "none"]
        }
        func structured(_ r: [String: Any]) -> [String: Any] { r["structuredContent"] as? [String: Any] ?? [:] }
        let initialized = rpc("initialize", ["protocolVersion": "2025-06-18", "capabilities": [String: Any](), "clientInfo": ["name": "t", "version": "1"]])
        #expect((result(initialized)["serverInfo"] as? [String: Any])?["name"] as? String == "strata", "\(initialized.text)")
        let tools = (result(rpc("tools/list"))["tools"] as? [[String: Any]]) ?? []
        #expect(
            Set(tools.compactMap { $0["name"] as? String })
                == ["log", "show", "ls", "diff", "cat_rows", "runs", "lineage_graph", "lineage_prov", "branch_create", "tag_create"])
        let schemas = String(decoding: try JSONSerialization.data(withJSONObject: tools.map { $0["inputSchema"] ?? [:] }), as: UTF8.self)
        let (st, out) = try python([
            "-c", "import json, sys, jsonschema; [jsonschema.Draft202012Validator.check_schema(s) for s in json.loads(sys.argv[1])]; print('ok')", schemas,
        ])
        #expect(st == 0 && out.contains("ok"), "\(out)")
        #expect((structured(call("log", ["rev": "main"]))["commits"] as? [[String: Any]])?.count == 2)
        #expect((structured(call("show", ["rev": "main"]))["changes"] as? [[String: Any]])?.isEmpty == false)
        #expect((structured(call("ls", ["rev": "main", "path": "tables"]))["entries"] as? [[String: Any]])?.count == 1)
        let rows = structured(call("diff", ["from": "v1", "to": "main", "path": "tables/orgs.csv", "key": "id"]))["rows"] as? [[String: Any]]
        #expect(rows?.compactMap { $0["op"] as? String }.sorted() == ["added", "modified"], "\(String(describing: rows))")
        #expect((structured(call("cat_rows", ["rev": "main", "path": "tables/orgs.csv", "limit": 2]))["rows"] as? [[String: Any]])?.count == 2)
        #expect((structured(call("runs", ["limit": 5]))["runs"] as? [[String: Any]])?.isEmpty == false)
        let graph = structured(call("lineage_graph", ["rev": "main", "dataset": "out/orgs.csv"]))
        #expect((graph["nodes"] as? [[String: Any]])?.contains { $0["kind"] as? String == "run" && $0["status"] as? String == "COMPLETE" } == true, "\(graph)")
        #expect((graph["edges"] as? [[String: Any]])?.isEmpty == false)
        #expect(structured(call("lineage_prov", ["run": "main"]))["prov"] != nil)
        for (tool, args, says) in [
            ("show", [String: Any](), "'rev' is required"), ("log", ["limit": -1], "'limit'"), ("ls", ["path": "../etc"], "not a path inside"),
            ("log", ["rev": "no-such-branch"], "no-such-branch"), ("lineage_graph", ["hops": 99], "'hops'"),
        ] {
            let r = call(tool, args)
            let text = ((r["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            #expect(r["isError"] as? Bool == true && text.contains(says), "\(tool) \(args): \(r)")
        }
        #expect(call("status", [:])["error"] != nil, "a workspace tool is not offered by a server")
        // Writes: confirm, then the role.
        #expect(call("branch_create", ["name": "agent/x"])["isError"] as? Bool == true)
        let refused = call("branch_create", ["name": "agent/y", "confirm": true], token: bob)
        #expect(((refused["content"] as? [[String: Any]])?.first?["text"] as? String)?.contains("server.forbidden") == true, "\(refused)")
        #expect(call("branch_create", ["name": "agent/x", "confirm": true])["isError"] as? Bool == false)
        #expect(try server.admin("audit", "log", "--json").stdout.contains("refs/heads/agent/x"))
        // A reader sees only main; without a token a closed namespace answers 401, a wrong token 401.
        #expect((structured(call("log", ["rev": "v1"], token: bob))).isEmpty)
        #expect(rpc("tools/list", token: nil, to: server.url + "/closed/mcp").status == 401)
        #expect(rpc("tools/list", token: "strata_0000_bad").status == 401)
        // Resources: the catalogue and each dataset's page.
        let resources = (result(rpc("resources/list"))["resources"] as? [[String: Any]]) ?? []
        #expect(
            resources.contains { $0["uri"] as? String == "strata://catalog" } && resources.contains { $0["uri"] as? String == "strata://dataset/out/orgs.csv" })
        let page = (result(rpc("resources/read", ["uri": "strata://dataset/out/orgs.csv"]))["contents"] as? [[String: Any]])?.first?["text"] as? String
        #expect(page?.contains("out/orgs.csv") == true, "\(String(describing: page))")
        #expect(rpc("resources/read", ["uri": "strata://dataset/nope.csv"]).json["error"] != nil)
        // The calls are lineage runs of the namespace's mirror, valid OpenLineage events.
        let mirror = StrataCLI(directory: server.root + "/ns/dev/mirror")
        let events = try mirror.run("lineage", "export").stdout
        for tool in ["log", "show", "diff", "cat_rows", "lineage_graph", "branch_create"] {
            #expect(events.contains("\"strata.mcp.\(tool)\""), "no event for \(tool)")
        }
        if let standards = standardsDir {
            let file = NSTemporaryDirectory() + "mcp-http-events-" + UUID().uuidString.prefix(6) + ".jsonl"
            try events.write(toFile: file, atomically: true, encoding: .utf8)
            let (vst, vout) = try python([helpers + "/validate_lineage.py", "events", file, standards, projectRoot + "/docs/lineage/schemas"])
            #expect(vst == 0, "\(vout)")
        }
    }

    /// In a real browser (headless Chromium): the commit list, a commit page, a table diff with highlighted cells, the
    /// lineage graph, the pipeline and a catalogue page, locally and on a server as anonymous; screenshots; no request
    /// leaves 127.0.0.1; the first Tab reaches the skip link; axe-core finds no serious or critical violation.
    @Test(.enabled(if: browserToolsReady, "headless Chromium or Playwright missing: run dist/install-deps.sh and pip install -r requirements-test.txt"))
    func inChromium() throws {
        let s = try StrataCLI()
        try webFixture(s)
        let ui = try TestUI(store: s.directory)
        let shots = ProcessInfo.processInfo.environment["STRATA_SCREENSHOTS"] ?? NSTemporaryDirectory() + "ui-shots-" + UUID().uuidString.prefix(6)
        let u = ui.url
        try browse([
            "chromium": chromiumPath!, "shots": shots,
            "pages": [
                ["url": u, "name": "commits", "texts": ["Commits on HEAD", "v2: renamed Globex"], "selectors": ["ol.timeline li"]],
                ["url": u + "commit/HEAD", "name": "commit", "texts": ["Changed files", "604 files changed"], "selectors": ["a[rel=next]"]],
                [
                    "url": u + "rows?from=v1&to=HEAD&path=tables/orgs.csv&key=id", "name": "table-diff", "texts": ["Globex Ltd", "+ added", "rows modified"],
                    "selectors": ["td.changed del", "tr.added"],
                ],
                ["url": u + "lineage?commit=HEAD", "name": "lineage", "texts": ["Runs"], "selectors": ["svg.graph g.node.run", "svg.graph g.node.dataset"]],
                ["url": u + "pipeline", "name": "pipeline", "texts": ["publish", "Last run"], "selectors": ["svg.graph g.node.stage"]],
                ["url": u + "catalog", "name": "catalogue", "texts": ["out/orgs.csv"]],
                ["url": u + "dataset?path=out/orgs.csv", "name": "dataset", "texts": ["Distributions"], "selectors": ["svg.graph"]],
                ["url": u + "runs", "name": "runs", "texts": ["FAIL"]],
                ["url": u + "retention?rules=--keep-last+1", "name": "retention", "texts": ["Nothing has changed", "keep"]],
            ],
        ])
        // On a server, anonymous sees what anonymous may: main, not the other branch.
        let server = try TestServer()
        try server.admin("namespace", "add", "dev")
        let admin = try server.token(for: "root")
        try server.admin("policy", "set", "root", "admin", "**")
        try server.admin("policy", "set", "anonymous", "reader", "main")
        try s.run("branch", "hidden/work")
        try s.run(["remote", "add", "team", server.url + "/dev"], env: ["STRATA_TOKEN": admin])
        #expect(try s.run(["push", "team", "--all", "--tags"], env: ["STRATA_TOKEN": admin]).status == 0)
        let b = server.url + "/dev/ui/"
        try browse([
            "chromium": chromiumPath!, "shots": shots,
            "pages": [
                ["url": b, "name": "server-anonymous", "texts": ["Not signed in", "main"], "absent": ["hidden/work"]],
                ["url": b + "lineage?commit=main", "name": "server-lineage", "selectors": ["svg.graph g.node.run"]],
                ["url": b + "me", "name": "server-sign-in", "texts": ["Sign in"], "selectors": ["input#token"]],
                ["url": server.url + "/ui", "name": "server-namespaces", "texts": ["dev"]],
            ],
        ])
    }

    /// Runs the browser check and expects every page to pass it.
    func browse(_ spec: [String: Any]) throws {
        let text = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
        let (st, out) = try python([helpers + "/browser_check.py", text])
        #expect(st == 0, "\(out)")
        guard let line = out.split(separator: "\n").last, let doc = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            Issue.record("no result from the browser: \(out.suffix(2000))")
            return
        }
        for page in (doc["pages"] as? [[String: Any]]) ?? [] {
            let name = page["name"] as? String ?? "?"
            #expect((page["failures"] as? [Any])?.isEmpty == true, "\(name): \(page["failures"] ?? "")")
            #expect((page["outside"] as? [Any])?.isEmpty == true, "\(name) requested outside 127.0.0.1: \(page["outside"] ?? "")")
            #expect((page["violations"] as? [Any])?.isEmpty == true, "\(name) accessibility: \(page["violations"] ?? "")")
        }
    }
}
