import Foundation
import StrataModel
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StrataRepository
import StrataTestSupport
import Testing

/// Where the sync tests push: a folder remote, or a prefix of the shared moto bucket (auth mode), with the
/// arguments and environment the binary needs.
struct RemoteTarget: Sendable {
    var url: String
    var extra: [String]
    var env: [String: String]
    var folder: String?

    /// One moto server for the whole test process (it stops when the process ends); each target has its own prefix.
    static let moto: PythonFixture? = PythonFixture.motoAvailable ? try? PythonFixture(script: PythonFixture.script("moto_fixture.py")) : nil

    static func make(_ kind: String) throws -> RemoteTarget {
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        if kind == "folder" {
            let dir = NSTemporaryDirectory() + "remote-" + tag
            return RemoteTarget(url: "file://" + dir, extra: [], env: [:], folder: dir)
        }
        if kind == "server" {
            guard let server = TestServer.shared, let token = TestServer.sharedToken else { throw CocoaError(.featureUnsupported) }
            let ns = "t" + tag
            _ = try server.admin("namespace", "add", ns)
            return RemoteTarget(url: server.url + "/" + ns, extra: [], env: ["STRATA_TOKEN": token], folder: server.root + "/ns/" + ns + "/remote")
        }
        guard let info = moto?.info else { throw CocoaError(.featureUnsupported) }
        return RemoteTarget(
            url: "s3://\(info["bucket"]!)/\(tag)", extra: ["--endpoint", info["endpoint"]!],
            env: ["AWS_ACCESS_KEY_ID": info["access_key"]!, "AWS_SECRET_ACCESS_KEY": info["secret_key"]!, "AWS_REGION": "us-east-1"], folder: nil)
    }

    var secret: String? { env["AWS_SECRET_ACCESS_KEY"] ?? env["STRATA_TOKEN"] }
}

/// `n` bytes from a seeded generator (incompressible test data).
func randomData(_ n: Int, _ rng: inout SplitMix) -> Data {
    var d = Data(count: n)
    d.withUnsafeMutableBytes { b in for i in stride(from: 0, to: b.count - 7, by: 8) { b.storeBytes(of: rng.next(), toByteOffset: i, as: UInt64.self) } }
    return d
}

/// Kinds of remote every scenario runs against: the folder and a `strata serve` always, S3 when moto is installed.
let remoteKinds: [String] = PythonFixture.motoAvailable ? ["folder", "s3", "server"] : ["folder", "server"]

extension StrataCLI {
    /// Runs with the remote's environment.
    @discardableResult
    func run(_ t: RemoteTarget, _ args: String...) throws -> Result { try run(args, env: t.env) }

    /// A clone of `t` in a new folder.
    func clone(_ t: RemoteTarget, _ extra: [String] = []) throws -> (StrataCLI, Result) {
        let dir = directory + "-clone-" + String(UUID().uuidString.prefix(6))
        let r = try run(["clone", t.url, dir] + t.extra + extra, env: t.env)
        return (StrataCLI(directory: dir), r)
    }

    /// A store with a small file, a chunked 3 MB file, an executable and a symlink, pushed to `t` as origin.
    static func seeded(pushingTo t: RemoteTarget) throws -> StrataCLI {
        let a = try StrataCLI()
        try a.run("init")
        try a.write("tables/orgs.csv", "id,name\n1,Acme\n2,Umbrella\n")
        var rng = SplitMix(seed: 7)
        try a.write("data/big.bin", randomData(3 << 20, &rng))
        try a.write("run.sh", "#!/bin/sh\necho hi\n")
        chmod(a.path("run.sh"), 0o755)
        symlink("tables/orgs.csv", a.path("latest.csv"))
        try a.run("commit", "-m", "v1")
        let add = try a.run(["remote", "add", "origin", t.url] + t.extra, env: t.env)
        #expect(add.status == 0, "\(add.stderr)")
        let push = try a.run(t, "push")
        #expect(push.status == 0, "\(push.stderr)")
        return a
    }
}

@Suite("Remotes: push, fetch, pull, clone", .serialized) struct SyncTests {
    /// Round trips are byte-identical; an incremental push sends only what changed; the tracking refs, ahead/behind
    /// and `log origin/main` follow; no secret reaches any output.
    @Test(arguments: remoteKinds) func roundTrips(kind: String) throws {
        let t = try RemoteTarget.make(kind)
        let a = try StrataCLI.seeded(pushingTo: t)
        let (b, cloned) = try a.clone(t)
        #expect(cloned.status == 0, "\(cloned.stderr)")
        #expect(try b.hashes() == a.hashes())
        #expect(try b.run("fsck").status == 0)
        // v2: one line of the small table and 4 KiB inside the big file change.
        try a.write("tables/orgs.csv", "id,name\n1,Acme\n2,Umbrella\n3,Initech\n")
        var big = try a.read("data/big.bin")
        big.replaceSubrange(1_500_000..<1_504_096, with: Data(repeating: 0x41, count: 4096))
        try a.write("data/big.bin", big)
        try a.run("commit", "-m", "v2")
        let push2 = try a.run(t, "push", "--json")
        #expect(push2.status == 0, "\(push2.stderr)")
        let sent = (try JSONSerialization.jsonObject(with: Data(push2.stdout.utf8)) as? [String: Any])?["bytes_sent"] as? Int ?? -1
        #expect(sent > 0 && sent < 1 << 20, "incremental push sent \(sent) bytes")
        #expect(try a.run("status").stdout.contains("Up to date with origin/main"))
        // Lineage: the push is a `publish` run whose outputs carry the remote address (OpenLineage object-storage
        // naming: namespace s3://bucket, name prefix/path; a folder: namespace file), in PROV as prov:atLocation.
        let events = try a.run("lineage", "export").stdout.split(separator: "\n")
        let publish = events.last { $0.contains("strata.push") && $0.contains("COMPLETE") }.map(String.init) ?? ""
        let event = (try? JSONSerialization.jsonObject(with: Data(publish.utf8))) as? [String: Any]
        let outputs = (event?["outputs"] as? [[String: Any]]) ?? []
        let expectedNamespace =
            kind == "folder" ? "file" : String(t.url.prefix(while: { $0 != "/" })) + "//" + t.url.split(separator: "/")[1]
        #expect(
            outputs.contains { $0["namespace"] as? String == expectedNamespace && ($0["name"] as? String ?? "").hasSuffix("tables/orgs.csv") }, "\(publish)")
        let runs = try a.run("runs", "--json").stdout
        let runID =
            (try? JSONSerialization.jsonObject(with: Data(runs.utf8)) as? [String: Any]).flatMap { $0["runs"] as? [[String: Any]] }?
            .first { $0["kind"] as? String == "publish" }?["runId"] as? String
        let provText = try a.run("lineage", "prov", runID ?? "none").stdout
        #expect(provText.contains("prov:atLocation"))
        // Each published copy derives from its own version (its alternate), never from every file pushed with it.
        let prov = (try? JSONSerialization.jsonObject(with: Data(provText.utf8))) as? [String: Any]
        let copies = (prov?["@graph"] as? [[String: Any]] ?? []).filter { $0["prov:atLocation"] != nil }
        #expect(copies.count > 1, "\(provText.prefix(2000))")
        for c in copies {
            let from = (c["prov:wasDerivedFrom"] as? [[String: Any]])?.compactMap { $0["@id"] as? String }
            #expect(from == [(c["prov:alternateOf"] as? [String: Any])?["@id"] as? String].compactMap { $0 }, "\(c)")
        }
        let pull = try b.run(t, "pull")
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(try b.hashes() == a.hashes())
        #expect(try b.run("log", "origin/main").stdout.contains("v2"))
        #expect(try b.run("fsck").status == 0)
        // b is one behind after a's v3 is fetched (not pulled); one ahead after its own commit.
        try a.write("notes.md", "v3\n")
        try a.run("commit", "-m", "v3")
        #expect(try a.run(t, "push").status == 0)
        #expect(try b.run(t, "fetch").status == 0)
        #expect(try b.run("status").stdout.contains("ahead 0, behind 1 of origin/main"))
        try b.write("mine.txt", "b's work\n")
        try b.run("commit", "-m", "b")
        #expect(try b.run("status").stdout.contains("ahead 1, behind 1 of origin/main"))
        let refused = try b.run(t, "push")
        #expect(refused.status == 4 && refused.stderr.contains("fetch and merge, or --force-with-lease"))
        let diverged = try b.run(t, "pull")
        #expect(diverged.status == 4 && diverged.stderr.contains("diverged"))
        // --force-with-lease: b saw v3 by fetching, so it may overwrite it.
        #expect(try b.run(t, "push", "--force-with-lease").status == 0)
        let noop = try b.run(t, "push", "--json")
        #expect(noop.stdout.contains("\"up-to-date\""))
        if let secret = t.secret {
            for out in [cloned, push2, pull, refused, noop] { #expect(!(out.stdout + out.stderr).contains(secret)) }
            #expect(!(try b.run("config").stdout.contains(secret)))
        }
    }

    /// Two clones push the same branch at the same moment, ten times: exactly one wins each time, the other is told,
    /// and nothing is lost (the loser's commit is still in its store, the winner's on the remote).
    @Test(arguments: remoteKinds) func concurrentPushersOneWins(kind: String) throws {
        let t = try RemoteTarget.make(kind)
        let a = try StrataCLI.seeded(pushingTo: t)
        let (b, _) = try a.clone(t)
        let (c, _) = try a.clone(t)
        for round in 0..<10 {
            #expect(try b.run(t, "pull").status == 0)
            #expect(try c.run(t, "pull").status == 0)
            try b.write("b.txt", "b \(round)\n"); try b.run("commit", "-m", "b\(round)")
            try c.write("c.txt", "c \(round)\n"); try c.run("commit", "-m", "c\(round)")
            let results = Locked<[String: StrataCLI.Result]>([:])
            let group = DispatchGroup()
            for (name, s) in [("b", b), ("c", c)] {
                group.enter()
                Thread.detachNewThread {
                    let r = try? s.run(["push"], env: t.env)
                    results.with { $0[name] = r }
                    group.leave()
                }
            }
            group.wait()
            let r = results.with { $0 }
            let winners = r.filter { $0.value.status == 0 }
            #expect(winners.count == 1, "round \(round): \(r.mapValues { $0.status })")
            guard let winner = winners.first, let loser = r.first(where: { $0.key != winner.key }) else { continue }
            #expect(loser.value.status == 4, "\(loser.value.stderr)")
            #expect(loser.value.stderr.contains("lost a race") || loser.value.stderr.contains("not a fast-forward"))
            let (w, l) = winner.key == "b" ? (b, c) : (c, b)
            let head = try w.run("log", "--json", "-n", "1").stdout
            let fresh = try a.clone(t).0
            #expect(try fresh.run("log", "--json", "-n", "1").stdout == head)
            #expect(try l.run("log", "-n", "1").stdout.contains(winner.key == "b" ? "c\(round)" : "b\(round)"))
            // The loser catches up by moving its branch onto the winner (merge comes with issue 12).
            #expect(try l.run(t, "fetch").status == 0)
            #expect(try l.run("reset", "--hard", "origin/main").status == 0)
        }
    }

    /// A push killed (SIGKILL) at random moments, 20 times: the remote stays consistent (every ref's objects are
    /// there), and the next push and a clone succeed, byte-identical.
    @Test(arguments: remoteKinds) func killedPushesLeaveTheRemoteConsistent(kind: String) throws {
        let t = try RemoteTarget.make(kind)
        let a = try StrataCLI.seeded(pushingTo: t)
        var rng = SplitMix(seed: 2026)
        for trial in 0..<20 {
            let blob = randomData(2 << 20, &rng)
            try a.write("data/trial-\(trial).bin", blob)
            try a.run("commit", "-m", "trial \(trial)")
            var env = ProcessInfo.processInfo.environment
            for (k, v) in t.env { env[k] = v }
            let p = try a.start(["push"], environment: env)
            usleep(UInt32(rng.next() % 250_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let (probe, r) = try a.clone(t)
            #expect(r.status == 0, "trial \(trial): clone after a killed push: \(r.stderr)")
            #expect(try probe.run("fsck").status == 0)
            try? FileManager.default.removeItem(atPath: probe.directory)
        }
        let push = try a.run(t, "push")
        #expect(push.status == 0, "\(push.stderr)")
        let (b, r) = try a.clone(t)
        #expect(r.status == 0)
        #expect(try b.hashes() == a.hashes())
    }

    /// `clone --no-checkout` downloads history only; `checkout REV -- PATH` downloads just that path's data;
    /// `fetch --all-data` makes the store whole.
    @Test(arguments: remoteKinds) func partialCloneDownloadsPerPath(kind: String) throws {
        let t = try RemoteTarget.make(kind)
        let a = try StrataCLI.seeded(pushingTo: t)
        let (p, r) = try a.clone(t, ["--no-checkout", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let received =
            (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]).flatMap { $0["fetch"] as? [String: Any] }?[
                "bytes_received"] as? Int ?? -1
        #expect(received > 0 && received < 64 << 10, "history only, got \(received) bytes")
        #expect(!FileManager.default.fileExists(atPath: p.path("data/big.bin")))
        let fsck = try p.run("fsck")
        #expect(fsck.status == 0 && fsck.stdout.contains("partial store"))
        let co = try p.run(t, "checkout", "main", "--", "tables/orgs.csv")
        #expect(co.status == 0, "\(co.stderr)")
        #expect(try p.read("tables/orgs.csv") == a.read("tables/orgs.csv"))
        #expect(!FileManager.default.fileExists(atPath: p.path("data/big.bin")))
        let cat = try p.run(t, "cat", "main:data/big.bin")
        let original = try a.read("data/big.bin")
        #expect(cat.status == 0 && cat.stdoutBytes == original)
        #expect(try p.run(t, "fetch", "--all-data").status == 0)
        #expect(!(try p.run("fsck").stdout.contains("partial store")))
        #expect(try p.run(t, "checkout", "main", "--force").status == 0)
        #expect(try p.hashes() == a.hashes())
    }

    /// A pack damaged on the remote is caught on fetch, naming the object, and nothing is checked out.
    @Test func corruptPackIsDetectedOnFetch() throws {
        let t = try RemoteTarget.make("folder")
        let a = try StrataCLI.seeded(pushingTo: t)
        let packs = try FileManager.default.contentsOfDirectory(atPath: t.folder! + "/packs")
        for name in packs {
            let path = t.folder! + "/packs/" + name
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 2] ^= 0xFF
            chmod(path, 0o644)
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let (b, r) = try a.clone(t)
        #expect(r.status == 12, "\(r.stderr)")
        #expect(r.stderr.contains("corrupt") && r.stderr.range(of: "[0-9a-f]{12}", options: .regularExpression) != nil)
        #expect(!FileManager.default.fileExists(atPath: b.path("data/big.bin")))
    }

    /// `push --delete` removes a branch on the remote (only where this store last saw it); `fetch --prune` drops the
    /// tracking ref in another clone; the branch's commits stay in the stores that had them.
    @Test(arguments: remoteKinds) func deleteRemoteBranchAndPruneTrackingRefs(kind: String) throws {
        let t = try RemoteTarget.make(kind)
        let a = try StrataCLI.seeded(pushingTo: t)
        try a.run("branch", "feature")
        #expect(try a.run(t, "push", "origin", "feature").status == 0)
        let (b, _) = try a.clone(t)
        #expect(try b.run("log", "origin/feature").status == 0)
        let del = try a.run(t, "push", "origin", "--delete", "feature", "--json")
        #expect(del.status == 0 && del.stdout.contains("\"deleted\""), "\(del.stderr)")
        #expect(try a.run(t, "push", "origin", "--delete", "feature").status != 0)  // gone already
        let fetched = try b.run(t, "fetch", "--prune", "--json")
        #expect(fetched.status == 0 && fetched.stdout.contains("refs/remotes/origin/feature"))
        #expect(try b.run("log", "origin/feature").status != 0)
        #expect(try b.run("log", "origin/main").status == 0)
    }

    /// `push --require-lineage` refuses commits without recorded lineage, before anything is sent.
    @Test func requireLineageRefusesCommitsWithoutLineage() throws {
        let t = try RemoteTarget.make("folder")
        let a = try StrataCLI.seeded(pushingTo: t)
        try a.write("late.txt", "made by a tool that records no lineage\n")
        let repo = try Repository.open(at: a.directory)
        _ = try repo.commit(CommitOptions(message: "no lineage"))
        let before = try FileManager.default.contentsOfDirectory(atPath: t.folder! + "/packs").count
        let r = try a.run("push", "--require-lineage")
        #expect(r.status != 0 && r.stderr.contains("no lineage is recorded"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.folder! + "/packs").count == before)
        #expect(try a.run("push").status == 0)
    }
}

@Suite("Remotes: prune and gc", .serialized) struct RemoteRetentionTests {
    /// Remote prune releases old data; gc drops it from the index, rewrites the mostly dead pack, and deletes the old
    /// one only once the grace period has passed; a clone afterwards is complete and knows what was pruned.
    @Test(arguments: remoteKinds) func pruneAndGcReclaimSpace(kind: String) throws {
        let t = try RemoteTarget.make(kind)
        let a = try StrataCLI.seeded(pushingTo: t)
        var rng = SplitMix(seed: 11)
        for v in 2...4 {
            let blob = randomData(2 << 20, &rng)
            try a.write("data/big.bin", blob)
            try a.run("commit", "-m", "v\(v)")
        }
        #expect(try a.run(t, "push").status == 0)
        let prune = try a.run(t, "prune", "--remote", "origin", "--keep-last", "1")
        #expect(prune.status == 0 && prune.stdout.contains("forgot 3"), "\(prune.stdout)\(prune.stderr)")
        let gc1 = try a.run(t, "gc", "--remote", "origin", "--grace", "1h", "--json")
        #expect(gc1.status == 0, "\(gc1.stderr)")
        #expect(gc1.stdout.contains("\"packs_deleted\" : 0"))
        let gc2 = try a.run(t, "gc", "--remote", "origin", "--grace", "0s", "--json")
        let deleted = (try JSONSerialization.jsonObject(with: Data(gc2.stdout.utf8)) as? [String: Any])?["bytes_deleted"] as? Int ?? 0
        #expect(deleted > 6 << 20, "\(gc2.stdout)")
        let (b, r) = try a.clone(t)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try b.run("fsck").status == 0)
        #expect(try b.read("data/big.bin") == a.read("data/big.bin"))
        #expect(try b.run("checkout", "HEAD~2").status == 14)  // its data was released on the remote
    }

    /// gc runs while another clone keeps pushing new versions (and the remote is pruned between rounds): nothing
    /// reachable is ever deleted; afterwards a clone is complete and identical to the pusher.
    @Test(arguments: remoteKinds) func gcWhileAnotherClonePushes(kind: String) throws {
        let t = try RemoteTarget.make(kind)
        let a = try StrataCLI.seeded(pushingTo: t)
        let (gcer, _) = try a.clone(t)
        let stop = Locked(false)
        let failures = Locked<[String]>([])
        let done = DispatchGroup()
        done.enter()
        Thread.detachNewThread {
            defer { done.leave() }
            var rng = SplitMix(seed: 5)
            var round = 0
            while !stop.with({ $0 }) && round < 12 {
                round += 1
                try? a.write("data/big.bin", randomData(1 << 20 + 4096, &rng))
                try? a.write("round.txt", "\(round)\n")
                _ = try? a.run("commit", "-m", "round \(round)")
                if let r = try? a.run(["push"], env: t.env), r.status != 0 && !r.stderr.contains("push.index-changed") {
                    failures.with { $0.append(r.stderr) }
                }
            }
        }
        for _ in 0..<4 {
            _ = try gcer.run(t, "prune", "--remote", "origin", "--keep-last", "2")
            let g = try gcer.run(t, "gc", "--remote", "origin", "--grace", "1h")
            #expect(g.status == 0 || g.stderr.contains("lease"), "\(g.stderr)")
        }
        stop.with { $0 = true }
        done.wait()
        #expect(failures.with { $0 }.isEmpty, "\(failures.with { $0 })")
        #expect(try a.run(t, "push").status == 0)
        let (b, r) = try a.clone(t)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try b.run("fsck").status == 0)
        #expect(try b.hashes() == a.hashes())
    }

    /// gc killed (SIGKILL) at random moments, 20 times: the remote stays consistent (a clone is complete), the lease
    /// of the killed gc expires by itself, and pushes go on.
    @Test(arguments: remoteKinds) func killedGcLeavesTheRemoteConsistent(kind: String) throws {
        let t = try RemoteTarget.make(kind)
        let a = try StrataCLI.seeded(pushingTo: t)
        var rng = SplitMix(seed: 99)
        var env = ProcessInfo.processInfo.environment
        for (k, v) in t.env { env[k] = v }
        for trial in 0..<20 {
            let blob = randomData(1 << 20 + 8192, &rng)
            try a.write("data/big.bin", blob)
            try a.run("commit", "-m", "trial \(trial)")
            #expect(try a.run(t, "push").status == 0)
            _ = try a.run(t, "prune", "--remote", "origin", "--keep-last", "1")
            let p = try a.start(["gc", "--remote", "origin", "--grace", "0s", "--lease", "1s"], environment: env)
            usleep(UInt32(rng.next() % 400_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let (probe, r) = try a.clone(t)
            #expect(r.status == 0, "trial \(trial): \(r.stderr)")
            #expect(try probe.run("fsck").status == 0)
            #expect(try probe.read("data/big.bin") == blob)
            try? FileManager.default.removeItem(atPath: probe.directory)
            usleep(1_100_000)  // the killed gc's lease expires
        }
        let g = try a.run(t, "gc", "--remote", "origin", "--grace", "0s")
        #expect(g.status == 0, "\(g.stderr)")
        let (b, r) = try a.clone(t)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try b.hashes() == a.hashes())
    }
}

@Suite("Remotes under faults (the fault proxy in front of moto)", .serialized) struct SyncFaultTests {
    /// Push, clone and pull through a proxy that answers 503 SlowDown and 500, drops connections, truncates bodies
    /// and delays: every transfer is retried and the result is byte-identical.
    @Test(.enabled(if: PythonFixture.motoAvailable, "moto[server] is not installed (requirements-test.txt)"))
    func pushCloneAndPullThroughFaults() throws {
        guard let info = RemoteTarget.moto?.info else { return }
        let proxy = try PythonFixture(script: PythonFixture.script("fault_proxy.py"), arguments: [info["endpoint"]!])
        defer { withExtendedLifetime(proxy) {} }
        let endpoint = proxy.info["endpoint"]!
        func plan(_ faults: String) {
            var req = URLRequest(url: URL(string: endpoint + "/__faults")!)
            req.httpMethod = "POST"
            req.httpBody = Data(faults.utf8)
            let done = DispatchSemaphore(value: 0)
            URLSession.shared.dataTask(with: req) { _, _, _ in done.signal() }.resume()
            #expect(done.wait(timeout: .now() + 120) == .success, "the fault proxy did not answer")
        }
        var t = try RemoteTarget.make("s3")
        t.extra = ["--endpoint", endpoint]
        plan("503,500,drop,truncate,delay")
        let a = try StrataCLI.seeded(pushingTo: t)
        plan("drop,503,truncate,500,delay,drop")
        let (b, r) = try a.clone(t)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try b.hashes() == a.hashes())
        try a.write("tables/orgs.csv", "id,name\n1,Acme\n")
        try a.run("commit", "-m", "v2")
        plan("truncate,drop,503")
        #expect(try a.run(t, "push").status == 0)
        plan("503,drop,truncate")
        let pull = try b.run(t, "pull")
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(try b.hashes() == a.hashes())
        #expect(try b.run("fsck").status == 0)
    }
}
