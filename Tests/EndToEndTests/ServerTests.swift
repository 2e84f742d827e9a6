import Foundation
import StrataModel
import StrataRepository
import StrataTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP exchange with a test server (never outside loopback).
struct HTTPReply {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
    var code: String { (json["error"] as? [String: Any])?["code"] as? String ?? "" }
}

func http(_ method: String, _ url: String, token: String? = nil, headers: [String: String] = [:], body: Data? = nil) -> HTTPReply {
    var req = URLRequest(url: URL(string: url)!, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 30)
    req.httpMethod = method
    if let token { req.setValue("Bearer " + token, forHTTPHeaderField: "Authorization") }
    for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
    req.httpBody = body
    final class Box: @unchecked Sendable { var reply = HTTPReply(status: 0, headers: [:], body: Data()) }
    let box = Box(), done = DispatchSemaphore(value: 0)
    let session = URLSession(configuration: .ephemeral)
    session.dataTask(with: req) { data, response, _ in
        if let h = response as? HTTPURLResponse {
            var headers: [String: String] = [:]
            for (k, v) in h.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
            box.reply = HTTPReply(status: h.statusCode, headers: headers, body: data ?? Data())
        }
        done.signal()
    }.resume()
    // Bounded beyond the request's own 30 s: a completion that never comes is a failed exchange (status 0), not a hang.
    guard done.wait(timeout: .now() + 120) == .success else {
        session.invalidateAndCancel()
        return HTTPReply(status: 0, headers: [:], body: Data("no answer within 120 s".utf8))
    }
    session.finishTasksAndInvalidate()
    return box.reply
}

/// `curl` for what URLSession normalises away (dot segments) and for HTTPS with a private CA.
func curl(_ args: [String]) throws -> (status: Int, body: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}"] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    let (data, _) = try p.runToEnd(reading: out, within: 120)
    let text = String(decoding: data, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
}

/// A server with namespace `dev`, an admin (`root`) who seeded `main` and `dev/x`, and a store that pushes there.
struct TeamFixture {
    let server: TestServer
    let rootToken: String
    let store: StrataCLI
    var url: String { server.url + "/dev" }

    init(extra: [String] = []) throws {
        server = try TestServer(extra: extra)
        try server.admin("namespace", "add", "dev")
        rootToken = try server.token(for: "root")
        try server.admin("policy", "set", "root", "admin", "**")
        store = try StrataCLI()
        try store.run("init")
        try store.write("tables/orgs.csv", "id,name\n1,Acme\n2,Globex\n")
        try store.write("evidence/log.jsonl", "{\"id\":1}\n")
        try store.run("commit", "-m", "v1")
        try store.run(["remote", "add", "origin", server.url + "/dev"], env: ["STRATA_TOKEN": rootToken])
        try store.run("branch", "dev/x")
        let pushed = try store.run(["push", "origin", "main", "dev/x"], env: ["STRATA_TOKEN": rootToken])
        guard pushed.status == 0 else { throw CocoaError(.featureUnsupported) }
    }

    /// A new clone of `dev` made with `token`.
    func clone(_ token: String) throws -> (StrataCLI, StrataCLI.Result) {
        let dir = store.directory + "-clone-" + String(UUID().uuidString.prefix(6))
        let r = try store.run(["clone", url, dir], env: ["STRATA_TOKEN": token])
        return (StrataCLI(directory: dir), r)
    }
}

@Suite("strata serve: tokens, roles, protected branches, audit", .serialized) struct ServerTests {
    /// Every kind of bad credential is refused on every kind of endpoint (401, exit 26 in the client); a reader sees
    /// only the refs granted, and nothing tells them the others exist.
    @Test func authenticationAndRoles() throws {
        let f = try TeamFixture()
        let bob = try f.server.token(for: "bob")
        try f.server.admin("policy", "set", "bob", "reader", "main", "--namespace", "dev")
        let eve = try f.server.token(for: "eve")  // no grant at all
        let carol = try f.server.token(for: "carol", expires: "1s")
        try f.server.admin("policy", "set", "carol", "admin", "**")
        let dave = try f.server.token(for: "dave")
        try f.server.admin("policy", "set", "dave", "admin", "**")
        let daveID = String(dave.split(separator: "_")[1])
        try f.server.admin("token", "revoke", daveID)
        Thread.sleep(forTimeInterval: 2.1)
        let unknown = "strata_0123456789abcdef_" + String(repeating: "ab", count: 32)
        let endpoints = [
            ("GET", "/dev/store/refs/heads/main"), ("GET", "/dev/store?prefix=refs/"), ("HEAD", "/dev/store/STRATA"),
            ("PUT", "/dev/store/refs/heads/main"), ("DELETE", "/dev/store/refs/heads/dev/x"), ("GET", "/dev/api/refs"),
            ("GET", "/dev/api/log?rev=main"), ("GET", "/dev/api/commits/main"), ("GET", "/dev/api/tree/main"),
            ("GET", "/dev/api/file/main?path=tables/orgs.csv"), ("GET", "/dev/api/diff?from=main&to=main"),
        ]
        for (method, path) in endpoints {
            for (label, token) in [("missing", nil), ("unknown", unknown), ("malformed", "hunter2"), ("expired", carol), ("revoked", dave)]
                as [(String, String?)]
            {
                let r = http(
                    method, f.server.url + path, token: token, headers: method == "PUT" ? ["If-None-Match": "*"] : [:], body: method == "PUT" ? Data() : nil)
                #expect(r.status == 401, "\(method) \(path) with a \(label) token: \(r.status) \(r.text)")
                if method != "HEAD" { #expect(r.code == "server.unauthenticated", "\(method) \(path) \(label): \(r.text)") }
            }
        }
        #expect(http("GET", f.server.url + "/dev/api/refs", token: carol).text.contains("expired"))
        #expect(http("GET", f.server.url + "/dev/api/refs", token: dave).text.contains("revoked"))
        // The client: exit 26, the reason named, the token nowhere in the output.
        let (_, refusedClone) = try f.clone(dave)
        #expect(refusedClone.status == 26 && refusedClone.stderr.contains("revoked"), "\(refusedClone.stderr)")
        #expect(!(refusedClone.stdout + refusedClone.stderr).contains(dave))
        // A reader of main: main is there, dev/x is not (not even in listings), writes are refused (403, exit 27).
        #expect(http("GET", f.server.url + "/dev/store/refs/heads/main", token: bob).status == 200)
        let hidden = http("GET", f.server.url + "/dev/store/refs/heads/dev/x", token: bob)
        let absent = http("GET", f.server.url + "/dev/store/refs/heads/dev/nothing", token: bob)
        #expect(hidden.status == 404 && hidden.text == absent.text)
        #expect(!http("GET", f.server.url + "/dev/store?prefix=refs/", token: bob).text.contains("dev/x"))
        let refs = http("GET", f.server.url + "/dev/api/refs", token: bob).text
        #expect(refs.contains("refs/heads/main") && !refs.contains("dev/x"))
        #expect(http("GET", f.server.url + "/dev/api/log?rev=dev/x", token: bob).status == 404)
        let (bobStore, cloned) = try f.clone(bob)
        #expect(cloned.status == 0, "\(cloned.stderr)")
        #expect(try bobStore.run("log", "origin/dev/x").status != 0)
        try bobStore.write("tables/orgs.csv", "id,name\n1,Acme\n")
        try bobStore.run("commit", "-m", "bob's change")
        let pushed = try bobStore.run(["push"], env: ["STRATA_TOKEN": bob])
        #expect(pushed.status == 27 && pushed.stderr.contains("writer"), "\(pushed.stderr)")
        #expect(!(pushed.stdout + pushed.stderr).contains(bob))
        // A signed-in user without any role learns nothing about the namespace: it answers like one that does not exist.
        let noRole = http("GET", f.server.url + "/dev/api/refs", token: eve)
        let noNamespace = http("GET", f.server.url + "/nope/api/refs", token: eve)
        #expect(noRole.status == 404 && noRole.text.replacingOccurrences(of: "dev", with: "nope") == noNamespace.text)
        // Nothing of any token reached the server's log.
        let log = try String(contentsOfFile: f.server.logPath, encoding: .utf8)
        for t in [bob, eve, carol, dave, f.rootToken] { #expect(!log.contains(String(t.suffix(64)))) }
        #expect(log.contains("status=401"))
    }

    /// Roles per branch pattern: a writer on dev/* pushes there and nowhere else; tags move only for a maintainer.
    @Test func rolesPerBranchPattern() throws {
        let f = try TeamFixture()
        let alice = try f.server.token(for: "alice")
        try f.server.admin("policy", "set", "alice", "writer", "dev/*", "--namespace", "dev")
        try f.server.admin("policy", "set", "alice", "reader", "main", "--namespace", "dev")
        let (a, cloned) = try f.clone(alice)
        #expect(cloned.status == 0, "\(cloned.stderr)")
        try a.run("switch", "-c", "dev/alice")
        try a.write("evidence/log.jsonl", "{\"id\":1}\n{\"id\":2}\n")
        try a.run("commit", "-m", "evidence 2")
        let ok = try a.run(["push", "origin", "dev/alice"], env: ["STRATA_TOKEN": alice])
        #expect(ok.status == 0, "\(ok.stderr)")
        try a.run("switch", "main")
        try a.run("merge", "dev/alice")
        let refused = try a.run(["push", "origin", "main"], env: ["STRATA_TOKEN": alice])
        #expect(refused.status == 27 && refused.stderr.contains("needs the writer role"), "\(refused.stderr)")
        // Deeper than one part: dev/* does not reach dev/a/b.
        try a.run("branch", "dev/a/b")
        #expect(try a.run(["push", "origin", "dev/a/b"], env: ["STRATA_TOKEN": alice]).status == 27)
        // Tags: a writer on tags/* creates one; moving it needs a maintainer.
        try f.server.admin("policy", "set", "alice", "writer", "tags/*", "--namespace", "dev")
        try a.run("tag", "v1", "dev/alice")
        #expect(try a.run(["push", "origin", "v1"], env: ["STRATA_TOKEN": alice]).status == 0)
        let g = http("GET", f.server.url + "/dev/store/refs/tags/v1", token: alice)
        let main = http("GET", f.server.url + "/dev/store/refs/heads/main", token: alice)
        let moved = http("PUT", f.server.url + "/dev/store/refs/tags/v1", token: alice, headers: ["If-Match": g.headers["etag"] ?? ""], body: main.body)
        #expect(moved.status == 403 && moved.text.contains("maintainer"), "\(moved.text)")
        #expect(try f.server.admin("audit", "verify").status == 0)
    }

    /// A protected branch is never force-moved or deleted; with --require-merge it only takes a maintainer's merges.
    @Test func protectedBranches() throws {
        let f = try TeamFixture()
        let alice = try f.server.token(for: "alice")
        try f.server.admin("policy", "set", "alice", "writer", "**", "--namespace", "dev")
        let mia = try f.server.token(for: "mia")
        try f.server.admin("policy", "set", "mia", "maintainer", "**", "--namespace", "dev")
        #expect(try f.server.admin("protect", "main", "--namespace", "dev").status == 0)
        let (a, _) = try f.clone(alice)
        // A fast-forward is fine.
        try a.write("notes.md", "1\n")
        try a.run("commit", "-m", "ff")
        #expect(try a.run(["push"], env: ["STRATA_TOKEN": alice]).status == 0)
        // A force-move is refused, even with --force-with-lease, and so is a delete.
        try a.run("reset", "--hard", "HEAD~1")
        try a.write("notes.md", "other\n")
        try a.run("commit", "-m", "rewrite")
        let forced = try a.run(["push", "--force-with-lease"], env: ["STRATA_TOKEN": alice])
        #expect(forced.status == 27 && forced.stderr.contains("protected") && forced.stderr.contains("force-moved"), "\(forced.stderr)")
        let deleted = try a.run(["push", "origin", "--delete", "main"], env: ["STRATA_TOKEN": alice])
        #expect(deleted.status == 27 && deleted.stderr.contains("cannot be deleted"), "\(deleted.stderr)")
        // --require-merge: a writer's fast-forward is refused; a maintainer's merge goes in; their plain commit not.
        #expect(try f.server.admin("protect", "main", "--require-merge", "--namespace", "dev").status == 0)
        let (b, _) = try f.clone(alice)
        try b.write("notes.md", "2\n")
        try b.run("commit", "-m", "direct")
        let direct = try b.run(["push"], env: ["STRATA_TOKEN": alice])
        #expect(direct.status == 27 && direct.stderr.contains("only takes merges by a maintainer"), "\(direct.stderr)")
        try b.run("branch", "feature")
        #expect(try b.run(["push", "origin", "feature"], env: ["STRATA_TOKEN": alice]).status == 0)
        let (m, _) = try f.clone(mia)
        try m.write("side.md", "main moved on\n")
        try m.run("commit", "-m", "maintainer's own commit")
        let plain = try m.run(["push"], env: ["STRATA_TOKEN": mia])
        #expect(plain.status == 27 && plain.stderr.contains("is not a merge"), "\(plain.stderr)")
        try m.run(["fetch"], env: ["STRATA_TOKEN": mia])
        let merged = try m.run("merge", "origin/feature", "--no-ff", "-m", "merge feature")
        #expect(merged.status == 0, "\(merged.stderr)")
        let ok = try m.run(["push"], env: ["STRATA_TOKEN": mia])
        #expect(ok.status != 0, "the branch still holds the maintainer's non-merge commit below the merge")
        try m.run("reset", "--hard", "origin/main")
        try m.run("merge", "origin/feature", "--no-ff", "-m", "merge feature")
        let good = try m.run(["push"], env: ["STRATA_TOKEN": mia])
        #expect(good.status == 0, "\(good.stderr)")
        // Every refusal left main where it was; the audit log shows who moved it, and the chain holds.
        let log = try f.server.admin("audit", "log", "--json").stdout
        let entries = (try JSONSerialization.jsonObject(with: Data(log.utf8)) as? [String: Any])?["entries"] as? [[String: Any]] ?? []
        #expect(entries.contains { $0["actor"] as? String == "mia" && $0["action"] as? String == "ref.update" && $0["target"] as? String == "refs/heads/main" })
        #expect(entries.contains { $0["action"] as? String == "protect" && $0["new"] as? String == "require-merge" })
        #expect(!entries.contains { $0["action"] as? String == "ref.force" })
        #expect(try f.server.admin("audit", "verify").status == 0)
    }

    /// Recovering from a wrong push (docs/runbooks/server-recovery.md): the audit log names the move with its old id;
    /// `audit revert` puts the ref back (compare-and-swap, audited), and refuses once the ref has moved again.
    @Test func auditRevertUndoesAWrongPush() throws {
        let f = try TeamFixture()
        let (a, _) = try f.clone(f.rootToken)
        try a.run("branch", "dev/x", "origin/dev/x")
        try a.run("switch", "dev/x")
        try a.write("tables/orgs.csv", "id,name\n1,Acme\n2,Globex\n3,Initech\n")
        try a.run("commit", "-m", "good")
        #expect(try a.run(["push", "origin", "dev/x"], env: ["STRATA_TOKEN": f.rootToken]).status == 0)
        let good = try a.run("log", "--json", "-n", "1").stdout
        try a.run("reset", "--hard", "HEAD~1")
        try a.write("tables/orgs.csv", "id,name\n")  // the wrong push: a table emptied, force-pushed over "good"
        try a.run("commit", "-m", "oops")
        let forced = try a.run(["push", "origin", "dev/x", "--force-with-lease"], env: ["STRATA_TOKEN": f.rootToken])
        #expect(forced.status == 0, "\(forced.stderr)")
        let log = try f.server.admin("audit", "log", "--json").stdout
        let entries = (try JSONSerialization.jsonObject(with: Data(log.utf8)) as? [String: Any])?["entries"] as? [[String: Any]] ?? []
        guard let wrong = entries.last(where: { $0["action"] as? String == "ref.force" }), let seq = wrong["seq"] as? Int else {
            Issue.record("no ref.force entry: \(log)")
            return
        }
        #expect(good.contains(wrong["old"] as? String ?? "-"))
        let reverted = try f.server.admin("audit", "revert", String(seq))
        #expect(reverted.status == 0, "\(reverted.stderr)")
        let (b, _) = try f.clone(f.rootToken)
        let switched = try b.run("switch", "dev/x")  // as in git: a branch only origin has becomes a tracking branch
        #expect(switched.status == 0 && switched.stdout.contains("set up to track 'origin/dev/x'"), "\(switched.stderr)")
        #expect(try b.read("tables/orgs.csv") == Data("id,name\n1,Acme\n2,Globex\n3,Initech\n".utf8))
        let again = try f.server.admin("audit", "revert", String(seq))
        #expect(again.status != 0 && again.stderr.contains("has moved since"), "\(again.stderr)")
        #expect(try f.server.admin("audit", "log").stdout.contains("ref.restore"))
        #expect(try f.server.admin("audit", "verify").status == 0)
    }

    /// `protect --require-lineage`: a push whose new commits lack complete lineage is refused by the server (the
    /// rule of `push --require-lineage`, held server-side from the lineage bundles pushed with the commits); the
    /// bundle is served by the JSON API, with the runs, events and PROV, and no names.
    @Test func requireLineageServerSide() throws {
        let f = try TeamFixture()
        #expect(try f.server.admin("protect", "main", "--namespace", "dev", "--require-lineage").status == 0)
        try f.store.write("tables/orgs.csv", "id,name\n1,Acme\n2,Globex\n3,Initech\n")
        #expect(try f.store.run("commit", "-m", "with lineage").status == 0)
        let ok = try f.store.run(["push"], env: ["STRATA_TOKEN": f.rootToken])
        #expect(ok.status == 0, "\(ok.stderr)")
        let bundle = http("GET", f.url + "/api/lineage/main", token: f.rootToken)
        #expect(bundle.status == 200 && (bundle.json["problems"] as? [Any])?.isEmpty == true, "\(bundle.text.prefix(500))")
        #expect((bundle.json["events"] as? [String])?.contains { $0.contains("COMPLETE") } == true && !bundle.text.contains("orgs.csv@"))
        // A commit made without lineage (a tool writing the store directly) is refused, naming the commit.
        try f.store.write("late.txt", "made by a tool that records no lineage\n")
        let repo = try Repository.open(at: f.store.directory)
        let bare = try repo.commit(CommitOptions(message: "no lineage"))
        let refused = try f.store.run(["push"], env: ["STRATA_TOKEN": f.rootToken])
        #expect(refused.status == 27 && refused.stderr.contains("complete lineage") && refused.stderr.contains(bare.id.short), "\(refused.stderr)")
        #expect(http("GET", f.url + "/api/log?rev=main", token: f.rootToken).text.contains("with lineage"))
        #expect(!http("GET", f.url + "/api/log?rev=main", token: f.rootToken).text.contains("no lineage"))
    }

    /// `protect --require-verify --verify-stage sorted`: a new tip needs a check the server signed: lineage verified
    /// and the stage reproduced byte-identically (`strata check`); a stage that does not reproduce records nothing,
    /// and a check record forged on the storage (not signed by the server) does not count.
    @Test func requireVerifyTakesOnlySignedChecks() throws {
        let f = try TeamFixture()
        #expect(try f.server.admin("protect", "main", "--namespace", "dev", "--require-verify", "--verify-stage", "sorted").status == 0)
        let s = f.store
        try s.write("in.csv", "id,v\n2,b\n1,a\n")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "r", stages: [
                .stage(name: "sorted", command: "sort in.csv > out/sorted.csv", inputs: ["in.csv"], outputs: [.file("out/sorted.csv")]),
                .stage(name: "noisy", command: "od -An -N8 -tx8 /dev/urandom > out/noise.txt", inputs: ["in.csv"], outputs: [.file("out/noise.txt")]),
            ])
            """)
        #expect(try s.run("repro").status == 0)
        #expect(try s.run("commit", "-m", "pipeline outputs").status == 0)
        let env = ["STRATA_TOKEN": f.rootToken]
        let unverified = try s.run(["push"], env: env)
        #expect(unverified.status == 27 && unverified.stderr.contains("only takes verified commits"), "\(unverified.stderr)")
        // A forged record written straight to the storage, signed with the wrong key, does not count.
        let head = try s.run("log", "--json", "-n", "1").stdout
        let commit =
            (try JSONSerialization.jsonObject(with: Data(head.utf8)) as? [String: Any]).flatMap { ($0["commits"] as? [[String: Any]])?.first?["id"] as? String }
            ?? ""
        let forged =
            "{\"by\":\"ci\",\"checks\":[\"lineage-verify\",\"reproduce:sorted\"],\"commit\":\"\(commit)\",\"format\":\"strata-check\",\"runs\":{},\"signature\":\"\(String(repeating: "0", count: 64))\",\"time\":1,\"version\":1}"
        try FileManager.default.createDirectory(atPath: f.server.root + "/ns/dev/remote/checks", withIntermediateDirectories: true)
        try forged.write(toFile: f.server.root + "/ns/dev/remote/checks/\(commit)-0123456789abcdef.json", atomically: true, encoding: .utf8)
        #expect(try s.run(["push"], env: env).status == 27)
        // A stage that does not reproduce: nothing recorded (exit 23).
        let noisy = try s.run(["check", "--stage", "noisy"], env: env)
        #expect(noisy.status == 23, "\(noisy.stderr)")
        #expect(try s.run(["push"], env: env).status == 27)
        let checked = try s.run(["check", "--stage", "sorted", "--json"], env: env)
        #expect(checked.status == 0, "\(checked.stderr)")
        let pushed = try s.run(["push"], env: env)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let audit = try f.server.admin("audit", "log", "--json").stdout
        let entries = (try JSONSerialization.jsonObject(with: Data(audit.utf8)) as? [String: Any])?["entries"] as? [[String: Any]] ?? []
        #expect(
            entries.contains {
                $0["action"] as? String == "check" && $0["new"] as? String == "lineage-verify,reproduce:sorted" && $0["actor"] as? String == "root"
            })
    }

    /// The catalogue of a commit as that commit declares it: the server evaluates the commit's own Pipeline.swift
    /// (sandboxed, cached) for the published outputs and the catalogue metadata, and serves DCAT JSON-LD.
    @Test func catalogueOfACommit() throws {
        let f = try TeamFixture()
        let s = f.store
        try s.write("in.csv", "id,v\n2,b\n1,a\n")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(
                name: "r",
                stages: [
                    .stage(name: "sorted", command: "sort in.csv > out/sorted.csv", inputs: ["in.csv"], outputs: [.table("out/sorted.csv", key: "id", published: true)]),
                ],
                catalog: .catalog(title: "Sorted organisations", publisher: "Karoo Data (Pty) Ltd", licence: "CC-BY-4.0")
            )
            """)
        #expect(try s.run("repro").status == 0)
        #expect(try s.run("commit", "-m", "published output").status == 0)
        #expect(try s.run(["push"], env: ["STRATA_TOKEN": f.rootToken]).status == 0)
        let cat = http("GET", f.url + "/api/catalog/main", token: f.rootToken)
        #expect(cat.status == 200 && cat.text.contains("dcat:Catalog") && cat.text.contains("Sorted organisations"), "\(cat.text.prefix(600))")
        #expect(cat.text.contains("out/sorted.csv") && cat.text.contains("licence/CC_BY_4_0"))
        // A commit that publishes nothing says so.
        let none = http("GET", f.url + "/api/catalog/main~1", token: f.rootToken)
        #expect(none.status == 400 && none.code == "catalog.nothing-published", "\(none.text)")
    }

    /// Separate environments: dev and dist are namespaces with their own policies; `strata promote` publishes a dev
    /// commit to dist (a push there, which only dist's maintainers may make) and records it in lineage.
    @Test func promoteFromDevToDist() throws {
        let f = try TeamFixture()
        try f.server.admin("namespace", "add", "dist")
        let alice = try f.server.token(for: "alice")
        try f.server.admin("policy", "set", "alice", "writer", "**", "--namespace", "dev")
        try f.server.admin("policy", "set", "alice", "reader", "**", "--namespace", "dist")
        let mia = try f.server.token(for: "mia")
        try f.server.admin("policy", "set", "mia", "reader", "**", "--namespace", "dev")
        try f.server.admin("policy", "set", "mia", "maintainer", "**", "--namespace", "dist")
        for (who, token, expected) in [("alice", alice, Int32(27)), ("mia", mia, Int32(0))] {
            let (c, _) = try f.clone(token)
            #expect(try c.run(["remote", "add", "dist", f.server.url + "/dist"], env: ["STRATA_TOKEN": token]).status == 0)
            let r = try c.run(["promote", "origin/main", "--to", "dist"], env: ["STRATA_TOKEN": token])
            #expect(r.status == expected, "\(who): \(r.stderr)")
            if expected == 0 {
                let events = try c.run("lineage", "export").stdout
                let promote = events.split(separator: "\n").last { $0.contains("strata.promote") && $0.contains("COMPLETE") }.map(String.init) ?? ""
                #expect(promote.contains(f.server.url + "/dist") || promote.contains("dist/tables/orgs.csv"), "\(promote)")
                #expect(promote.contains("dev/tables/orgs.csv"), "the input is located in dev: \(promote)")
            }
        }
        let dist = http("GET", f.server.url + "/dist/api/log?rev=main", token: alice).json["commits"] as? [[String: Any]] ?? []
        #expect(dist.first?["message"] as? String == "v1")
        #expect(try f.server.admin("audit", "log").stdout.contains("mia\tref.create\tdist"))
    }

    /// The audit log is hash-chained: changing, removing or reordering an entry is found by `audit verify` (exit 12).
    @Test func auditLogDetectsTampering() throws {
        let f = try TeamFixture()
        let log = try f.server.admin("audit", "log", "--json")
        let entries = (try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [String: Any])?["entries"] as? [[String: Any]] ?? []
        let push = entries.first { $0["action"] as? String == "ref.create" && $0["target"] as? String == "refs/heads/main" }
        #expect(push?["actor"] as? String == "root" && push?["source"] as? String == "127.0.0.1" && (push?["new"] as? String)?.count == 64)
        #expect(entries.contains { $0["action"] as? String == "token.create" } && entries.contains { $0["action"] as? String == "policy.set" })
        #expect(try f.server.admin("audit", "verify").stdout.contains("intact"))
        let db = f.server.root + "/server.sqlite"
        for (sql, what) in [
            ("UPDATE audit SET actor = 'mallory' WHERE action = 'ref.create'", "changed"),
            ("DELETE FROM audit WHERE seq = 2", "removed"),
        ] {
            try FileManager.default.copyItem(atPath: db, toPath: db + ".bak")
            _ = try python(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", db, sql])
            let v = try f.server.admin("audit", "verify")
            #expect(v.status == 12 && v.stderr.contains("audit log is broken at entry"), "\(what): \(v.stderr)")
            try FileManager.default.removeItem(atPath: db)
            try FileManager.default.moveItem(atPath: db + ".bak", toPath: db)
        }
    }

    /// The JSON API answers with the repository's own calls; cat honours Range; the OpenAPI document is the one in
    /// the repository; health, readiness and metrics answer.
    @Test func jsonAPIAndOperations() throws {
        let f = try TeamFixture()
        try f.store.write("tables/orgs.csv", "id,name\n1,Acme\n2,Globex\n3,Initech\n")
        try f.store.run("commit", "-m", "v2")
        #expect(try f.store.run(["push"], env: ["STRATA_TOKEN": f.rootToken]).status == 0)
        let t = f.rootToken, base = f.url + "/api"
        let log = http("GET", base + "/log?rev=main", token: t).json["commits"] as? [[String: Any]] ?? []
        #expect(log.map { $0["message"] as? String ?? "" } == ["v2", "v1"])
        let shown = http("GET", base + "/commits/main", token: t).json
        #expect(((shown["changes"] as? [[String: Any]])?.first?["path"] as? String) == "tables/orgs.csv")
        let tree = http("GET", base + "/tree/main?path=tables", token: t).text
        #expect(tree.contains("tables/orgs.csv"))
        let file = http("GET", base + "/file/main?path=tables/orgs.csv", token: t)
        #expect(file.status == 200 && file.text == "id,name\n1,Acme\n2,Globex\n3,Initech\n")
        let slice = http("GET", base + "/file/main?path=tables/orgs.csv", token: t, headers: ["Range": "bytes=8-13"])
        #expect(slice.status == 206 && slice.text == "1,Acme" && slice.headers["content-range"] == "bytes 8-13/34", "\(slice.headers)")
        let diff = http("GET", base + "/diff?from=main~1&to=main", token: t).text
        #expect(diff.contains("\"modified\"") && diff.contains("tables/orgs.csv"))
        let rows = http("GET", base + "/rows?from=main~1&to=main&path=tables/orgs.csv&key=id", token: t).json
        let added = (rows["changes"] as? [[String: Any]])?.first
        #expect(added?["op"] as? String == "added" && "\(added?["key"] ?? "")".contains("3"), "\(rows)")
        #expect(rows["truncated"] as? Bool == false)
        for bad in ["../server.sqlite", "/etc/passwd", "tables/../../x", "a//b"] {
            let r = http("GET", base + "/file/main?path=" + bad.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, token: t)
            #expect(r.status == 400, "\(bad): \(r.status) \(r.text)")
        }
        for raw in ["/dev/store/../../server.sqlite", "/dev/store/refs/heads/%2e%2e/%2e%2e/STRATA", "/dev/store/packs/..%2f..%2fserver.sqlite"] {
            let r = try curl(["--path-as-is", "-H", "Authorization: Bearer " + t, f.server.url + raw])
            #expect(r.status == 400 || r.status == 404, "\(raw): \(r.status) \(r.body)")
            #expect(!r.body.contains("SQLite format"))
        }
        #expect(http("GET", f.server.url + "/healthz").status == 200)
        #expect(http("GET", f.server.url + "/readyz").status == 200)
        let metrics = http("GET", f.server.url + "/metrics").text
        #expect(metrics.contains("strata_ref_updates_total") && metrics.contains("strata_http_request_duration_seconds"))
        #expect(
            metrics.contains("strata_fetch_bytes_total") && metrics.contains("strata_packs_received_total")
                && metrics.contains("strata_namespace_lock_wait_seconds"))
        let doc = http("GET", f.server.url + "/openapi.json").body
        let inRepo = try Data(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("docs/reference/openapi.json"))
        #expect(
            String(decoding: doc, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                == String(decoding: inRepo, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// schemathesis fuzzes the live server from /openapi.json with a valid token, a bounded number of cases per
    /// operation: no 5xx, every status, content type, header and body as documented, invalid input refused, and
    /// undeclared methods answered 405.
    @Test(.enabled(if: PythonFixture.available("schemathesis"), "schemathesis is not installed (requirements-test.txt)"))
    func openAPIConformance() throws {
        let f = try TeamFixture()
        let config = f.store.directory + "-schemathesis.toml"
        try "[parameters]\n\"path.namespace\" = \"dev\"\n\"path.revision\" = \"main\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let checks = [
            "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
            "response_headers_conformance", "negative_data_rejection", "unsupported_method",
        ]
        let (status, out) = try python(
            [
                "-c", "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; sys.exit(schemathesis())",
                "--config-file", config, "run", f.server.url + "/openapi.json", "--url", f.server.url, "-H", "Authorization: Bearer " + f.rootToken,
                "--max-examples", "40", "--seed", "20261201", "--checks", checks.joined(separator: ","), "--phases", "examples,coverage,fuzzing",
                "--request-timeout", "30",
            ], timeout: 600)
        #expect(status == 0, "\(out.suffix(4000))")
        #expect(out.contains("passed") && !out.contains(String(f.rootToken.suffix(64))))
        let log = try String(contentsOfFile: f.server.logPath, encoding: .utf8)
        #expect(!log.contains("status=5"), "a request ended in a 5xx")
    }

    /// What a hostile client pushes is checked before anything is published: a pack whose bytes do not hash to its
    /// name, a pack with a damaged object, an index fragment naming a pack that was never pushed, a ref to a commit
    /// that is on no pack, an oversized body.
    @Test func hostilePushesAreRefused() throws {
        let f = try TeamFixture(extra: ["--max-body", "1"])
        let t = f.rootToken, store = f.url + "/store/"
        let fake = String(repeating: "ab", count: 32)
        let r1 = http("PUT", store + "packs/\(fake).pack", token: t, headers: ["If-None-Match": "*"], body: Data("not a pack".utf8))
        #expect(r1.status == 422 && r1.code == "server.verification-failed", "\(r1.text)")
        // A real pack with one byte flipped in its body, renamed to its new hash: the trailer or the frame check fails.
        let packs = try FileManager.default.contentsOfDirectory(atPath: f.server.root + "/ns/dev/remote/packs")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: f.server.root + "/ns/dev/remote/packs/" + packs[0]))
        bytes[20] ^= 0xFF
        let name = ObjectID.hash([UInt8](bytes)).hex
        let r2 = http("PUT", store + "packs/\(name).pack", token: t, headers: ["If-None-Match": "*"], body: bytes)
        #expect(r2.status == 422, "\(r2.text)")
        #expect(!FileManager.default.fileExists(atPath: f.server.root + "/ns/dev/remote/packs/\(name).pack"))
        let ref = Data("{\"format\":\"strata-ref\",\"target\":\"\(fake)\",\"version\":1}\n".utf8)
        let r3 = http("PUT", store + "refs/heads/evil", token: t, headers: ["If-None-Match": "*"], body: ref)
        #expect(r3.status == 422 && r3.text.contains("no pack"), "\(r3.text)")
        let r4 = http("PUT", store + "STRATA", token: t, headers: ["If-Match": "x"], body: Data("{}".utf8))
        #expect(r4.status == 403)
        let r5 = http("PUT", store + "other/key", token: t, headers: ["If-None-Match": "*"], body: Data())
        #expect(r5.status == 400)
        // A push of more than --max-body (1 MiB) per pack is refused with 413; the remote's refs stay as they were.
        var rng = SplitMix(seed: 7)
        try f.store.write("data/big.bin", randomData(3 << 20, &rng))
        try f.store.run("commit", "-m", "big")
        try f.store.run("config", "remote.origin.pack-size", "16777216")
        let big = try f.store.run(["push"], env: ["STRATA_TOKEN": t])
        #expect(big.status != 0 && big.stderr.contains("413"), "\(big.stderr)")
        let (c, _) = try f.clone(t)
        #expect(try c.run("log", "--oneline").stdout.contains("v1") && !(try c.run("log").stdout.contains("big")))
        #expect(try c.run("fsck").status == 0)
    }

    /// Plain HTTP is refused on an address other than loopback unless --insecure-http; HTTPS with a self-signed
    /// certificate serves clients that trust it.
    @Test func tlsAndPlainHTTP() throws {
        let dir = try StrataCLI()
        let plain = try dir.run("serve", "--listen", "192.0.2.1:0", dir.path("root"))
        #expect(plain.status == 64 && plain.stderr.contains("--insecure-http"), "\(plain.stderr)")
        let key = dir.path("key.pem"), cert = dir.path("cert.pem")
        let gen = Process()
        gen.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gen.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        gen.standardError = FileHandle.nullDevice
        try gen.run()
        gen.waitUntilExit(within: 120)
        let server = try TestServer(extra: ["--tls-cert", cert, "--tls-key", key])
        #expect(server.url.hasPrefix("https://127.0.0.1:"))
        let ok = try curl(["--cacert", cert, server.url + "/healthz"])
        #expect(ok.status == 200, "\(ok)")
        let untrusted = try curl([server.url + "/healthz"])
        #expect(untrusted.status == 0)
        let overPlain = try curl([server.url.replacingOccurrences(of: "https://", with: "http://") + "/healthz"])
        #expect(overPlain.status != 200)
        // The client never trusts a certificate the system does not: it refuses, naming the TLS failure.
        try server.admin("namespace", "add", "dev")
        let token = try server.token(for: "root")
        try server.admin("policy", "set", "root", "admin", "**")
        let a = try StrataCLI()
        try a.run("init")
        let refused = try a.run(["clone", server.url + "/dev", a.directory + "-tls"], env: ["STRATA_TOKEN": token])
        #expect(refused.status == 1 && refused.stderr.contains("certificate"), "\(refused.stderr)")
        #expect(!refused.stderr.contains(token))
    }

    /// SIGTERM: the server stops taking connections, lets what is in flight finish and exits 0; the store is as it was.
    @Test func sigtermShutsDownCleanly() throws {
        let f = try TeamFixture()
        f.server.stop()
        #expect(f.server.process.terminationStatus == 0)
        let log = try String(contentsOfFile: f.server.logPath, encoding: .utf8)
        #expect(!log.contains("error"), "\(log)")
        let again = try TestServer(root: f.server.root)
        let r = try StrataCLI().run(["clone", again.url + "/dev", NSTemporaryDirectory() + "after-" + UUID().uuidString], env: ["STRATA_TOKEN": f.rootToken])
        #expect(r.status == 0, "\(r.stderr)")
    }
}

@Suite("strata serve under faults", .serialized) struct ServerFaultTests {
    /// Slow clients (headers or a body trickled a byte at a time) lose their connections; a normal client is served
    /// all the while.
    @Test(arguments: ["headers", "body"]) func slowClientsTimeOutWithoutStarvingOthers(mode: String) throws {
        let server = try TestServer(extra: ["--header-timeout", "2"])
        try server.admin("namespace", "add", "dev")
        let token = try server.token(for: "writer")
        try server.admin("policy", "set", "writer", "writer", "**")
        let port = String(server.url.split(separator: ":").last!)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("slowloris.py").path
        let (status, out) = try python([script, "127.0.0.1", port, "40", mode, mode == "body" ? "14" : "6", token])
        #expect(status == 0, "\(out)")
        let r = (try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]) ?? [:]
        #expect(r["closed"] as? Int == 40, "\(out)")
        #expect(r["failures"] as? Int == 0 && (r["served"] as? Int ?? 0) > 10, "\(out)")
    }

    /// Load (Benchmarks/server_load.py): 32 concurrent readers (wrk) against cat and log while 4 clients push to
    /// their own branches and 2 to the same branch, for 60 s: nothing is lost, every contested push has one winner,
    /// and a fresh clone, the mirror and the audit log are clean afterwards. Figures are the benchmark's business.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk"), "wrk is not installed (dist/install-deps.sh)"))
    func loadWithConcurrentPushers() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Benchmarks/server_load.py").path
        let (status, out) = try python([script, "--strata", StrataCLI.binary, "--duration", "60", "--json"])
        let r = (try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]) ?? [:]
        #expect(status == 0 && (r["problems"] as? [String])?.isEmpty == true, "\(out)")
        #expect((r["reads"] as? Int ?? 0) > 0)
        #expect((r["own_branch_pushes"] as? [Int] ?? []).allSatisfy { $0 > 0 }, "\(out)")
        #expect((r["shared_pushes_won"] as? [Int] ?? []).reduce(0, +) > 0, "\(out)")
    }

    /// `kill -9` of the server while clients push, five times: each client's push either lands whole or fails
    /// cleanly, a retry after the restart succeeds, and the remote, the mirror and the audit log stay consistent.
    @Test func killedServerDuringPushes() throws {
        let root = NSTemporaryDirectory() + "server-kill-" + String(UUID().uuidString.prefix(8))
        let first = try TestServer(root: root)
        let url = first.url
        let port = String(url.split(separator: ":").last!)
        try first.admin("namespace", "add", "dev")
        let token = try first.token(for: "root")
        try first.admin("policy", "set", "root", "admin", "**")
        first.stop()
        func startDirect() throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: StrataCLI.binary)
            p.arguments = ["serve", "--listen", "127.0.0.1:" + port, root]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            for _ in 0..<100 where http("GET", url + "/healthz").status != 200 { Thread.sleep(forTimeInterval: 0.05) }
            return p
        }
        var server = try startDirect()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        let a = try StrataCLI()
        try a.run("init")
        try a.run(["remote", "add", "origin", url + "/dev"], env: ["STRATA_TOKEN": token])
        var rng = SplitMix(seed: 99)
        for round in 0..<5 {
            for i in 0..<4 { try a.write("data/r\(round)-\(i).bin", randomData(1 << 20, &rng)) }
            try a.run("commit", "-m", "round \(round)")
            let push = try a.start(["push", "origin", "main"], environment: ProcessInfo.processInfo.environment.merging(["STRATA_TOKEN": token]) { $1 })
            Thread.sleep(forTimeInterval: Double(round) * 0.05 + 0.05)
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            server = try startDirect()
            push.waitUntilExit(within: Watchdog.defaultLimit)
            #expect([0, 1, 4].contains(push.terminationStatus), "round \(round): push exited \(push.terminationStatus)")
            let retry = try a.run(["push", "origin", "main"], env: ["STRATA_TOKEN": token])
            #expect(retry.status == 0, "round \(round): \(retry.stderr)")
        }
        let (b, cloned) = try a.clone(RemoteTarget(url: url + "/dev", extra: [], env: ["STRATA_TOKEN": token], folder: nil))
        #expect(cloned.status == 0, "\(cloned.stderr)")
        #expect(try b.hashes() == a.hashes())
        #expect(try b.run("fsck").status == 0)
        #expect(try StrataCLI(directory: root + "/ns/dev/mirror").run("fsck").status == 0)
        #expect(try StrataCLI(directory: root).run(["audit", "verify"], env: ["STRATA_SERVER_ROOT": root]).status == 0)
    }
}
