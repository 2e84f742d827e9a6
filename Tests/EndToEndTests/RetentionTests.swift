import Foundation
import StrataTestSupport
import Testing

@Suite("End to end: retention", .serialized) struct RetentionTests {
    /// Writes a table whose content depends on `k` (about 60 KB of fresh data per commit).
    func writeVersion(_ s: StrataCLI, _ k: Int) throws {
        var rows = "id,value,commit\n"
        for r in 0..<2000 { rows += "\(r),\((r &* 2654435761 &+ k &* 97) % 1_000_003),\(k)\n" }
        try s.write("tables/t.csv", rows)
        try s.write("evidence/e\(k % 7).jsonl", "{\"k\":\(k)}\n")
    }

    @Test func gfsPolicyOverTwoYears() throws {
        let s = try StrataCLI()
        try s.run("init")
        let start = ISO8601DateFormatter().date(from: "2024-11-01T09:00:00Z")!
        var hashesByCommit: [String: [String: String]] = [:]
        var ids: [String] = []
        for k in 0..<200 {
            try writeVersion(s, k)
            let when = ISO8601DateFormatter().string(from: start.addingTimeInterval(Double(k) * 3.65 * 86400))
            let r = try s.run("commit", "-q", "-m", "version \(k)", "--date", when)
            #expect(r.status == 0, "\(r.stderr)")
            let id = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            ids.append(id)
            hashesByCommit[id] = try s.hashes()
        }
        try s.run("tag", "audit-2025", ids[50])
        // Preview first: the dry run changes nothing.
        let dry = try s.run(
            "prune", "--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "12", "--keep-yearly", "3",
            "--now", "2026-10-28T00:00:00Z", "--dry-run", "--json")
        #expect(dry.status == 0, "\(dry.stderr)")
        let plan = try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as! [String: Any]
        let forgotten = plan["forgotten"] as! Int
        #expect(forgotten > 100 && forgotten < 195, "forgot \(forgotten)")
        let commits = plan["commits"] as! [[String: Any]]
        let tagged = commits.first { $0["commit"] as? String == ids[50] }!
        #expect(tagged["action"] as? String == "keep")
        #expect((tagged["reasons"] as! [String]).contains("tag audit-2025"))
        #expect(try s.run("log", "--json").stdout.contains("\"pruned\" : true") == false)

        let storeBefore = try storeBytes(s)
        let pr = try s.run(
            "prune", "--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "12", "--keep-yearly", "3",
            "--now", "2026-10-28T00:00:00Z")
        #expect(pr.status == 0)
        #expect(pr.stdout.contains("forget"))
        #expect(pr.stdout.contains("monthly 2026-"))
        let gc = try s.run("gc", "--grace", "0s", "--json")
        #expect(gc.status == 0, "\(gc.stderr)")
        let g = try JSONSerialization.jsonObject(with: Data(gc.stdout.utf8)) as! [String: Any]
        let storeAfter = try storeBytes(s)
        #expect((g["bytes_reclaimed"] as! Int) > 0)
        #expect(Int64(g["bytes_before"] as! Int) - Int64(g["bytes_after"] as! Int) == Int64(g["bytes_reclaimed"] as! Int))
        #expect(storeBefore - storeAfter >= Int64(g["bytes_reclaimed"] as! Int) - 65536, "packs shrank by \(storeBefore - storeAfter)")
        #expect(try s.run("fsck").status == 0)

        // Every kept commit checks out byte-identical; every pruned one still shows in log, show and diff.
        let log = try s.run("log", "--json").stdout
        #expect(log.contains("\"pruned\" : true"))
        let kept = commits.filter { $0["action"] as? String == "keep" }.map { $0["commit"] as! String }
        let pruned = commits.filter { $0["action"] as? String == "forget" }.map { $0["commit"] as! String }
        for id in kept.prefix(12) + [ids[50]] {
            let co = try s.run("checkout", "--force", id)
            #expect(co.status == 0, "\(co.stderr)")
            #expect(try s.hashes() == hashesByCommit[id], "checkout of \(id.prefix(12)) differs")
        }
        // gc works per frame: data sharing a frame with live data may survive; what was collected is refused clearly.
        var refused = 0
        for id in pruned.prefix(12) {
            #expect(try s.run("show", id).status == 0)
            #expect(try s.run("diff", id, ids.last!).status == 0)
            let co = try s.run("checkout", "--force", id)
            if co.status == 0 { #expect(try s.hashes() == hashesByCommit[id]); continue }
            refused += 1
            #expect(co.status == 14)
            #expect(co.stderr.contains("prune #1"))
        }
        #expect(refused > 0)
        #expect(try s.run("checkout", "--force", "main").status == 0)
        #expect(try s.run("prune", "--undo").status == 3)  // already swept by gc: nothing to undo
    }

    @Test func undoBeforeGcAndSavedPolicies() throws {
        let s = try StrataCLI()
        try s.run("init")
        for k in 0..<6 {
            try writeVersion(s, k)
            try s.run("commit", "-q", "-m", "v\(k)", "--date", "2026-01-0\(k + 1)T10:00:00Z")
        }
        #expect(try s.run("prune").status == 64)  // no rules and nothing saved
        #expect(try s.run("retention", "set", "short", "--keep-last", "2").status == 0)
        #expect(try s.run("retention", "show").stdout.contains("short: --keep-last 2"))
        let pr = try s.run("prune")
        #expect(pr.stdout.contains("kept, forgot 4"), "\(pr.stdout)")
        #expect(try s.run("prune", "--undo").status == 0)
        #expect(!(try s.run("log", "--json").stdout.contains("\"pruned\" : true")))
        #expect(try s.run("checkout", "HEAD~5").status == 0)
        #expect(try s.run("checkout", "main").status == 0)
        #expect(try s.run("retention", "rm", "short").status == 0)
        #expect(try s.run("retention", "rm", "short").status == 64)
        // Pruning twice equals pruning once.
        try s.run("prune", "--keep-last", "3")
        let second = try s.run("prune", "--keep-last", "3")
        #expect(second.stdout.contains("forgot 3"))
        #expect(try s.run("log", "--json").stdout.components(separatedBy: "\"pruned\" : true").count - 1 == 3)
    }

    @Test func commitsInALoopWhileGcRunsLoseNothing() throws {
        let s = try StrataCLI()
        try s.run("init")
        for k in 0..<30 {
            try writeVersion(s, k)
            try s.run("commit", "-q", "-m", "v\(k)")
        }
        try s.run("prune", "--keep-last", "3")
        let gc = try s.start(["gc", "--grace", "0s"])
        var recorded: [String: [String: String]] = [:]
        for k in 30..<45 {
            try writeVersion(s, k)
            let r = try s.run("commit", "-q", "-m", "v\(k)")
            #expect(r.status == 0 || r.status == 11, "\(r.stderr)")
            if r.status == 0 { recorded[r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)] = try s.hashes() }
        }
        gc.waitUntilExit(within: Watchdog.defaultLimit)
        #expect(gc.terminationStatus == 0)
        let again = try s.run("gc", "--grace", "0s")
        #expect(again.status == 0)
        #expect(try s.run("fsck").status == 0)
        for (id, hashes) in recorded {
            #expect(try s.run("checkout", "--force", id).status == 0)
            #expect(try s.hashes() == hashes)
        }
    }

    @Test func killedGcLeavesTheStoreConsistentAndRerunFinishes() throws {
        let s = try StrataCLI()
        try s.run("init")
        for k in 0..<40 {
            try writeVersion(s, k)
            try s.run("commit", "-q", "-m", "v\(k)")
        }
        let head = try s.hashes()
        try s.run("prune", "--keep-last", "2")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            let p = try s.start(["gc", "--grace", "0s"])
            usleep(UInt32.random(in: 5_000...150_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let f = try s.run("fsck")
            #expect(f.status == 0, "\(f.stdout)")
        }
        let done = try s.run("gc", "--grace", "0s")
        #expect(done.status == 0, "\(done.stderr)")
        #expect(try s.run("fsck").status == 0)
        #expect(try s.run("checkout", "--force", "HEAD~1").status == 0)
        #expect(try s.run("checkout", "--force", "main").status == 0)
        #expect(try s.hashes() == head)
    }

    func storeBytes(_ s: StrataCLI) throws -> Int64 {
        let dir = s.path(".strata/objects/packs")
        return try FileManager.default.contentsOfDirectory(atPath: dir).reduce(Int64(0)) {
            $0 + ((try FileManager.default.attributesOfItem(atPath: dir + "/" + $1)[.size] as? Int64) ?? 0)
        }
    }
}

/// The maintenance lock: a holder that died leaves its line behind and the next gc takes over with a note; a
/// holder that is alive makes gc wait for nothing and fail with status 11.
@Suite("End to end: maintenance lock", .serialized) struct MaintenanceLockTests {
    @Test func staleLockIsTakenOverAndALiveOneRefuses() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("a.txt", "a\n")
        try s.run("commit", "-m", "one")
        try FileManager.default.createDirectory(atPath: s.path(".strata/locks"), withIntermediateDirectories: true)
        // A crashed gc: the flock died with it, its holder line stayed.
        try Data("host=elsewhere pid=999999 time=1\n".utf8).write(to: URL(fileURLWithPath: s.path(".strata/locks/maintenance.lock")))
        let gc = try s.run("gc", "--grace", "0s")
        #expect(gc.status == 0, "\(gc.stderr)")
        #expect(gc.stderr.contains("took over a stale maintenance lock"))
        #expect(gc.stderr.contains("pid=999999"))
        // A live holder (flock(1) keeps the lock for a few seconds).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [s.path(".strata/locks/maintenance.lock"), "sleep", "4"]
        try holder.run()
        usleep(300_000)
        let busy = try s.run("gc", "--grace", "0s")
        #expect(busy.status == 11, "\(busy.stderr)")
        #expect(busy.stderr.contains("another prune or gc is running"))
        holder.waitUntilExit(within: Watchdog.defaultLimit)
        #expect(try s.run("gc", "--grace", "0s").status == 0)
    }
}
