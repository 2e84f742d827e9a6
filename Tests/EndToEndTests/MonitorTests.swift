import Foundation
import StrataModel
import StrataTestSupport
import Testing

/// The file-system monitor (`strata watch`, `core.fsmonitor = true`) never changes an answer: status through it, status
/// without it and a from-scratch hash of the workspace agree, whatever happens to the files or to the monitor.
@Suite("File-system monitor", .serialized) struct MonitorTests {
    /// The changes `status --json` reports, as (status, path, old path) triples.
    func changes(_ s: StrataCLI, monitor: Bool) throws -> [String] {
        let r = try s.run(["status", "--json"], env: monitor ? ["STRATA_FSMONITOR_TRACE": s.directory + ".trace"] : ["STRATA_FSMONITOR": "0"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return ((doc?["changes"] as? [[String: Any]]) ?? []).map {
            "\($0["status"] ?? "") \($0["path"] ?? "") \($0["old_path"] ?? $0["oldPath"] ?? "")"
        }.sorted()
    }

    /// The paths whose bytes differ from HEAD, computed from scratch: every workspace file hashed, HEAD listed.
    func differing(_ s: StrataCLI) throws -> Set<String> {
        var disk: [String: String] = [:]
        let root = URL(fileURLWithPath: s.directory)
        let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in e {
            let rel = String(url.path.dropFirst(root.path.count + 1))
            if rel.hasPrefix(".strata") { e.skipDescendants(); continue }
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                disk[rel] = ObjectID.hash([UInt8](try Data(contentsOf: url))).hex
            }
        }
        var head: [String: String] = [:]
        let ls = try s.run("ls", "HEAD", "--json", "-r")
        if ls.status == 0, let doc = try JSONSerialization.jsonObject(with: Data(ls.stdout.utf8)) as? [String: Any] {
            for entry in (doc["entries"] as? [[String: Any]]) ?? [] where entry["type"] as? String != "tree" && entry["kind"] as? String != "directory" {
                if let p = entry["path"] as? String, let h = (entry["sha256"] ?? entry["id"]) as? String { head[p] = h }
            }
        }
        return Set(disk.keys.filter { head[$0] != disk[$0] }).union(head.keys.filter { disk[$0] == nil })
    }

    func paths(_ changes: [String]) -> Set<String> {
        Set(changes.flatMap { line -> [String] in line.split(separator: " ").dropFirst().map(String.init) })
    }

    /// Property: random creations, modifications (including same-size edits with the old mtime put back, the
    /// racy-git case), deletions, renames, folder moves, folder creations and deletions, with commits and a killed
    /// monitor in between: after every step the three answers agree.
    @Test(arguments: [UInt64(11), 0x5EED, 2026])
    func statusWithAndWithoutTheMonitorAndAHashAgree(seed: UInt64) throws {
        var g = SplitMix(seed: seed)
        let s = try StrataCLI()
        FileManager.default.createFile(atPath: s.directory + ".trace", contents: nil)
        try s.run("init")
        var files: [String] = []
        for d in ["a", "b", "c/d"] {
            for i in 0..<4 {
                let p = "\(d)/f\(i).txt"
                try s.write(p, "\(p) \(i)\n")
                files.append(p)
            }
        }
        try s.run("commit", "-m", "base")
        try s.run("config", "core.fsmonitor", "true")
        #expect(try s.run("watch").status == 0)
        var counter = 0
        for step in 0..<30 {
            counter += 1
            let fm = FileManager.default
            let existing = files.filter { fm.fileExists(atPath: s.path($0)) }
            switch Int.random(in: 0..<12, using: &g) {
            case 0, 1:
                let dir = ["a", "b", "c/d", "e", "a/x"][Int.random(in: 0..<5, using: &g)]
                let p = "\(dir)/new\(counter).txt"
                try s.write(p, "created \(counter)\n")
                files.append(p)
            case 2, 3:
                if let p = existing.randomElement(using: &g) {
                    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: s.path(p)))
                    h.seekToEndOfFile()
                    h.write(Data("more \(counter)\n".utf8))
                    try h.close()
                }
            case 4:
                // Same size, old mtime put back.
                if let p = existing.randomElement(using: &g) {
                    let full = s.path(p)
                    var st = stat()
                    stat(full, &st)
                    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: full)))
                    if !bytes.isEmpty { bytes[0] = bytes[0] == 0x5A ? 0x59 : 0x5A }
                    try Data(bytes).write(to: URL(fileURLWithPath: full))
                    var times = [st.st_atim, st.st_mtim]
                    utimensat(AT_FDCWD, full, &times, 0)
                }
            case 5:
                if let p = existing.randomElement(using: &g) { try fm.removeItem(atPath: s.path(p)) }
            case 6:
                if let p = existing.randomElement(using: &g) {
                    let q = ["a", "b", "e"][Int.random(in: 0..<3, using: &g)] + "/moved\(counter).txt"
                    try fm.createDirectory(atPath: (s.path(q) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try fm.moveItem(atPath: s.path(p), toPath: s.path(q))
                    files.append(q)
                }
            case 7:
                // A folder moves (inside the workspace, or under another folder).
                let dirs = ["a", "b", "c", "c/d", "e", "a/x"].filter {
                    var isDir: ObjCBool = false; return fm.fileExists(atPath: s.path($0), isDirectory: &isDir) && isDir.boolValue
                }
                if let d = dirs.randomElement(using: &g) {
                    let to = "m\(counter)"
                    try fm.moveItem(atPath: s.path(d), toPath: s.path(to))
                    files = files.map { $0.hasPrefix(d + "/") ? to + $0.dropFirst(d.count) : $0 }
                }
            case 8:
                let d = "new\(counter)/deep"
                for i in 0..<3 {
                    try s.write("\(d)/g\(i).txt", "in a new folder \(i)\n")
                    files.append("\(d)/g\(i).txt")
                }
            case 9:
                // A commit through the monitor records everything: a full scan finds nothing left.
                let r = try s.run(["commit", "-m", "step \(step)"], env: ["STRATA_FSMONITOR_TRACE": s.directory + ".trace"])
                if r.status == 0 { #expect(try changes(s, monitor: false).isEmpty, "step \(step): the commit left changes behind") }
            case 10:
                // A checkout of the commit before HEAD through the monitor: it keeps the workspace's own changes, or
                // refuses when one would be overwritten; either way the answers below still agree.
                _ = try s.run(["checkout", "HEAD~1"], env: ["STRATA_FSMONITOR_TRACE": s.directory + ".trace"])
            default:
                if let info = try? JSONSerialization.jsonObject(with: Data(s.run("watch", "status", "--json").stdout.utf8)) as? [String: Any],
                    let pid = info["pid"] as? Int
                {
                    kill(pid_t(pid), SIGKILL)
                    usleep(50_000)
                }
            }
            let monitored = try changes(s, monitor: true)
            let scanned = try changes(s, monitor: false)
            #expect(monitored == scanned, "step \(step): with the monitor \(monitored), without \(scanned)")
            let hashed = try differing(s)
            #expect(paths(scanned) == hashed, "step \(step): status \(scanned) and the hashes disagree")
        }
        try s.run("watch", "stop")
        // Most statuses were answered through the monitor (the others: after a commit, or a killed monitor).
        let trace = try String(contentsOfFile: s.directory + ".trace", encoding: .utf8).split(separator: "\n")
        #expect(trace.filter { $0.hasPrefix("monitor") }.count >= 12, "\(trace)")
        #expect(trace.contains { $0.hasPrefix("commit monitor") }, "no commit went through the monitor: \(trace)")
    }

    /// A checkout through the monitor looks for the workspace's own changes among the paths the monitor reports:
    /// it keeps a local edit where both commits agree, refuses one that the checkout would overwrite, and leaves
    /// status (with and without the monitor) and the bytes on disk agreeing.
    @Test func checkoutThroughTheMonitor() throws {
        let s = try StrataCLI()
        let trace = s.directory + ".trace"
        FileManager.default.createFile(atPath: trace, contents: nil)
        try s.run("init")
        for d in ["a", "b"] { for i in 0..<5 { try s.write("\(d)/f\(i).txt", "\(d) \(i)\n") } }
        try s.run("commit", "-m", "v1")
        try s.write("b/f1.txt", "b one, v2\n")
        try s.write("c/new.txt", "v2 only\n")
        try s.run("commit", "-m", "v2")
        try s.run("config", "core.fsmonitor", "true")
        #expect(try s.run("watch").status == 0)
        #expect(try changes(s, monitor: true).isEmpty)  // seeds the monitor's state
        try s.write("a/f2.txt", "a local edit\n")
        try s.write("untracked.txt", "mine\n")
        let env = ["STRATA_FSMONITOR_TRACE": trace]
        let back = try s.run(["checkout", "HEAD~1"], env: env)
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try s.read("b/f1.txt") == Data("b 1\n".utf8))
        #expect(!FileManager.default.fileExists(atPath: s.path("c/new.txt")))
        #expect(try s.read("a/f2.txt") == Data("a local edit\n".utf8))
        #expect(try changes(s, monitor: true) == changes(s, monitor: false))
        #expect(try paths(changes(s, monitor: false)) == differing(s))
        // A local edit of a file the next checkout changes is refused, and nothing moves.
        try s.write("b/f1.txt", "edited where v2 differs\n")
        let refused = try s.run(["switch", "main"], env: env)
        #expect(refused.status != 0, "\(refused.stdout)")
        #expect(try s.read("b/f1.txt") == Data("edited where v2 differs\n".utf8))
        try s.write("b/f1.txt", "b 1\n")
        #expect(try s.run(["switch", "main"], env: env).status == 0)
        #expect(try s.read("b/f1.txt") == Data("b one, v2\n".utf8))
        #expect(try s.read("a/f2.txt") == Data("a local edit\n".utf8))
        #expect(try changes(s, monitor: true) == changes(s, monitor: false))
        #expect(try paths(changes(s, monitor: false)) == differing(s))
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("checkout monitor") }.count == 3, "\(lines)")
        // A missed event: after a status through the monitor has seen an edit of a file the checkout would
        // overwrite, the state is made to forget it (as if the monitor had never reported it). The checkout still
        // compares the paths it overwrites, and refuses.
        try s.write("b/f1.txt", "an edit the monitor is made to miss\n")
        #expect(try changes(s, monitor: true).contains("modified b/f1.txt "))
        let statePath = s.directory + "/.strata/fsmonitor.state"
        var state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))) as? [String: Any] ?? [:]
        #expect((state["dirty"] as? [String])?.contains("b/f1.txt") == true, "\(state)")
        state["dirty"] = ((state["dirty"] as? [String]) ?? []).filter { $0 != "b/f1.txt" }
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: statePath))
        let missed = try s.run(["checkout", "HEAD~1"], env: env)
        #expect(missed.status != 0, "a checkout overwrote an edit the monitor missed: \(missed.stdout)")
        #expect(try s.read("b/f1.txt") == Data("an edit the monitor is made to miss\n".utf8))
        let last = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").last ?? ""
        #expect(last.hasPrefix("checkout monitor"), "the checkout did not go through the monitor: \(last)")
        try s.run("watch", "stop")
    }

    /// More changed paths than the monitor keeps: it answers "full" for older tokens, status scans everything and
    /// stays right; `watch status` counts the overflow.
    @Test func overflowFallsBackToAFullScan() throws {
        let s = try StrataCLI()
        FileManager.default.createFile(atPath: s.directory + ".trace", contents: nil)
        try s.run("init")
        try s.write("a/one.txt", "1\n")
        try s.run("commit", "-m", "one")
        try s.run("config", "core.fsmonitor", "true")
        #expect(try s.run(["watch"], env: ["STRATA_FSMONITOR_MAX_PATHS": "5"]).status == 0)
        #expect(try changes(s, monitor: true).isEmpty)
        for i in 0..<20 { try s.write("a/n\(i).txt", "\(i)\n") }
        let monitored = try changes(s, monitor: true)
        let scanned = try changes(s, monitor: false)
        #expect(monitored.count == 20 && monitored == scanned)
        let info = try JSONSerialization.jsonObject(with: Data(s.run("watch", "status", "--json").stdout.utf8)) as? [String: Any]
        #expect((info?["overflows"] as? Int ?? 0) >= 1, "\(String(describing: info))")
        // After the full scan the monitor vouches again: one more change is seen through it.
        try s.write("a/one.txt", "changed\n")
        #expect(try changes(s, monitor: true).contains("modified a/one.txt "))
        let trace = try String(contentsOfFile: s.directory + ".trace", encoding: .utf8).split(separator: "\n")
        #expect(trace.contains("full (the monitor cannot vouch)") && trace.last?.hasPrefix("monitor") == true, "\(trace)")
        #expect(try s.run("watch", "stop").stdout.contains("stopped"))
        #expect(try s.run("watch", "status").stdout.contains("no monitor"))
    }

    /// The kernel's event queue overflows (the monitor is made to stop reading for 10 s, its longest test stall,
    /// while 20,000 files are written: 60,000 events against a queue of 16,384): the monitor sees the overflow,
    /// answers "full", and status stays right. (With a 4 s stall, writing the files on a loaded machine outlasted it
    /// once and the queue never overflowed.)
    @Test func kernelQueueOverflowFallsBackToAFullScan() throws {
        let limit =
            Int(
                (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16_384
        let files = max(20_000, limit * 2 / 3 + 1_000)
        let s = try StrataCLI()
        FileManager.default.createFile(atPath: s.directory + ".trace", contents: nil)
        try s.run("init")
        try s.write("a/one.txt", "1\n")
        try s.write("b/keep.txt", "the folder is watched before the flood\n")
        try s.run("commit", "-m", "one")
        try s.run("config", "core.fsmonitor", "true")
        #expect(try s.run(["watch"], env: ["STRATA_FSMONITOR_TEST_STALL_MS": "10000"]).status == 0)
        #expect(try changes(s, monitor: true).isEmpty)  // seeds the state; the monitor now stops reading for 10 s
        for i in 0..<files { FileManager.default.createFile(atPath: s.path("b/f\(i).txt"), contents: Data("\(i)\n".utf8)) }
        let monitored = try changes(s, monitor: true)
        let scanned = try changes(s, monitor: false)
        #expect(monitored.count == files && monitored == scanned)
        let info = try JSONSerialization.jsonObject(with: Data(s.run("watch", "status", "--json").stdout.utf8)) as? [String: Any]
        #expect((info?["overflows"] as? Int ?? 0) >= 1, "\(String(describing: info))")
        let trace = try String(contentsOfFile: s.directory + ".trace", encoding: .utf8).split(separator: "\n")
        #expect(trace.contains("full (the monitor cannot vouch)"), "\(trace)")
        try s.run("watch", "stop")
    }
}
