import Foundation
import Testing

@Suite("End to end: workflows", .serialized) struct WorkflowTests {
    /// Listings pad their columns and never cut a name. Before, `strata branch` and `strata tag` printed at most 20
    /// characters of a name (Foundation's `padding(toLength:)` cuts), so `feature/a-rather-long-branch-name` was listed
    /// as `feature/a-rather-lon`, a name that does not exist; a name in NFD was padded one short per combining mark.
    @Test func listingsNeverCutNames() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("a.csv", "a\n")
        #expect(try s.run("commit", "-m", "one").status == 0)
        let long = "feature/a-rather-long-branch-name-2026", tag = "release-candidate-2026-12-03-final", nfd = "cafe\u{301}"
        for b in [long, nfd] { #expect(try s.run("branch", b).status == 0) }
        #expect(try s.run("tag", tag).status == 0)
        let branches = try s.run("branch").stdout.split(separator: "\n").map(String.init)
        #expect(branches.contains { $0.hasPrefix("  \(long) ") }, "\(branches)")
        #expect(try s.run("tag").stdout.hasPrefix(tag + " "))
        // The short names' ids line up, NFD included.
        let columns = branches.filter { !$0.contains(long) }.map { $0.count - ($0.split(separator: " ").last?.count ?? 0) }
        #expect(Set(columns).count == 1, "\(branches)")
        #expect(branches.contains { $0.hasPrefix("  \(nfd) ") }, "\(branches)")
    }

    @Test func fullWorkflow() throws {
        let s = try StrataCLI()
        #expect(try s.run("status").status == 10)
        #expect(try s.run("init").status == 0)
        #expect(try s.run("init").status == 10)
        try s.write("tables/organisations.csv", "id,name\n1,Ubuntu Holdings\n")
        try s.write("evidence/run 1/décision ü.jsonl", "{\"decision\":\"keep\"}\n")
        try s.write("empty.txt", "")
        try s.write("steps/run.sh", "#!/bin/sh\necho hi\n")
        chmod(s.path("steps/run.sh"), 0o755)
        symlink("../tables/organisations.csv", s.path("steps/orgs-link"))
        let st = try s.run("status", "--json")
        #expect(st.status == 0)
        #expect(st.stdout.contains("\"status\" : \"added\""))
        let c1 = try s.run("commit", "-m", "v1", "--quiet")
        #expect(c1.status == 0, "\(c1.stderr)")
        let id1 = c1.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id1.count == 64)
        let again = try s.run("commit", "-m", "nothing")
        #expect(again.status == 2)
        #expect(again.stderr.contains("nothing to commit"))
        let v1Hashes = try s.hashes()

        // ls --json agrees with sha256sum, and reports type and mode.
        let ls = try s.run("ls", "HEAD", "-r", "--json")
        let obj = try JSONSerialization.jsonObject(with: Data(ls.stdout.utf8)) as! [String: Any]
        let entries = obj["entries"] as! [[String: Any]]
        #expect(entries.count == 5)
        for e in entries where e["type"] as? String == "file" {
            #expect(v1Hashes["./" + (e["path"] as! String)] == e["sha256"] as? String)
        }
        #expect(entries.contains { $0["path"] as? String == "steps/run.sh" && $0["mode"] as? String == "100755" })
        #expect(entries.contains { $0["path"] as? String == "steps/orgs-link" && $0["type"] as? String == "symlink" })

        // v2: modify, delete, rename.
        try s.write("tables/organisations.csv", "id,name\n1,Ubuntu Holdings\n2,Karoo Data (Pty) Ltd\n")
        try FileManager.default.moveItem(atPath: s.path("evidence/run 1/décision ü.jsonl"), toPath: s.path("evidence/moved.jsonl"))
        try FileManager.default.removeItem(atPath: s.path("empty.txt"))
        let diffWs = try s.run("diff", "--json")
        #expect(diffWs.stdout.contains("\"status\" : \"renamed\""))
        #expect(try s.run("commit", "-m", "v2").status == 0)
        let d = try s.run("diff", "HEAD~1", "HEAD")
        #expect(d.stdout.contains("M  tables/organisations.csv"))
        #expect(d.stdout.contains("R  evidence/run 1/décision ü.jsonl -> evidence/moved.jsonl"))
        #expect(d.stdout.contains("D  empty.txt"))
        #expect(try s.run("diff", "HEAD", "HEAD", "--json").stdout.contains("\"changes\" : [\n\n  ]"))
        #expect(try s.run("diff", "HEAD~1", "HEAD", "--", "tables").stdout.split(separator: "\n").count == 1)
        let cat = try s.run("cat", "HEAD~1:tables/organisations.csv")
        #expect(cat.stdout == "id,name\n1,Ubuntu Holdings\n")
        #expect(try s.run("log", "--json").stdout.contains(id1))
        #expect(try s.run("show", "HEAD").stdout.contains("tables/organisations.csv"))

        // Time travel: byte-identical checkout of v1, then back.
        #expect(try s.run("tag", "v1", id1, "-m", "first").status == 0)
        let co = try s.run("checkout", "v1")
        #expect(co.status == 0, "\(co.stderr)")
        #expect(try s.hashes() == v1Hashes)
        #expect(try s.run("status").stdout.contains("HEAD detached"))
        #expect(try s.run("checkout", "main").status == 0)
        // Path checkout leaves HEAD alone.
        #expect(try s.run("checkout", "v1", "--", "tables/organisations.csv").status == 0)
        #expect(try s.read("tables/organisations.csv") == Data("id,name\n1,Ubuntu Holdings\n".utf8))
        #expect(try s.run("status").stdout.contains("modified  tables/organisations.csv"))
        // Refuses to overwrite uncommitted changes without --force.
        try s.write("tables/organisations.csv", "id,name\n9,local edit\n")
        let refused = try s.run("checkout", "v1")
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("tables/organisations.csv"))
        #expect(try s.run("checkout", "main", "--force").status == 0)
        #expect(try s.run("status").stdout.contains("nothing to commit"))

        // Branches, switch, reset (rollback) and undo through the reflog.
        #expect(try s.run("switch", "-c", "experiment").status == 0)
        try s.write("new.csv", "x\n")
        #expect(try s.run("commit", "-m", "exp").status == 0)
        #expect(try s.run("switch", "main").status == 0)
        #expect(!FileManager.default.fileExists(atPath: s.path("new.csv")))
        #expect(try s.run("branch").stdout.contains("experiment"))
        #expect(try s.run("branch", "-d", "main").status == 4)
        let head2 = try s.run("log", "-n", "1", "--oneline").stdout
        #expect(try s.run("reset", "--hard", "v1").status == 0)
        #expect(try s.hashes() == v1Hashes)
        let reflog = try s.run("reflog", "main").stdout
        #expect(reflog.contains("reset: moving to v1"))
        #expect(try s.run("reset", "--hard", "main@{1}").status != 0)  // not supported syntax: clear error
        let back = String(head2.prefix(12))
        #expect(try s.run("reset", "--hard", back).status == 0)
        #expect(try s.run("log", "-n", "1", "--oneline").stdout == head2)
        #expect(try s.run("fsck").status == 0)

        // Errors are clear and mapped to statuses.
        let unknown = try s.run("show", "no-such-ref")
        #expect(unknown.status == 3)
        #expect(unknown.stderr.contains("unknown revision 'no-such-ref'"))
        #expect(try s.run("cat", "HEAD:missing.csv").status == 3)
        // Works from a subfolder.
        #expect(try s.run("status", cwd: s.path("tables")).status == 0)
    }

    @Test func ignoreFileAndRevisionSyntax() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write(".strataignore", "*.tmp\nscratch/\n")
        try s.write("a.csv", "1"); try s.write("x.tmp", "t"); try s.write("scratch/y", "y")
        try s.run("commit", "-m", "1")
        let ls = try s.run("ls", "HEAD", "-r").stdout
        #expect(ls.contains("a.csv") && !ls.contains("x.tmp") && !ls.contains("scratch"))
        try s.write("a.csv", "2"); try s.run("commit", "-m", "2")
        try s.write("a.csv", "3"); try s.run("commit", "-m", "3")
        #expect(try s.run("cat", "HEAD~2:a.csv").stdout == "1")
        #expect(try s.run("cat", "HEAD^^:a.csv").stdout == "1")
        #expect(try s.run("cat", "HEAD~1^:a.csv").stdout == "1")
        #expect(try s.run("cat", "HEAD~3:a.csv").status == 3)
    }

    @Test func helpForEveryCommand() throws {
        let s = try StrataCLI()
        for c in ["init", "status", "commit", "log", "show", "ls", "cat", "diff", "branch", "switch", "tag", "checkout", "reset", "reflog", "fsck", "config"] {
            let r = try s.run(c, "--help")
            #expect(r.status == 0)
            #expect(r.stdout.contains("USAGE: strata \(c)"))
        }
    }
}
