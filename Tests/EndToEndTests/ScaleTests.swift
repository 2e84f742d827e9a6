import Foundation
import Testing

/// GNU time, which reports a command's peak RSS (dist/install-deps.sh installs it).
let gnuTimeAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/time")

@Suite("Scale through the binary", .serialized, .enabled(if: gnuTimeAvailable, "/usr/bin/time is not installed (dist/install-deps.sh)"))
struct ScaleTests {
    /// Runs strata under GNU time: the result and the peak RSS in MB.
    func measured(_ s: StrataCLI, _ args: String...) throws -> (StrataCLI.Result, rss: Int) {
        let report = s.directory + "/../" + UUID().uuidString + ".time"
        defer { try? FileManager.default.removeItem(atPath: report) }
        let r = try s.run(args, launcher: ["/usr/bin/time", "-o", report, "-f", "%M"])
        let kb = Int(String(decoding: try Data(contentsOf: URL(fileURLWithPath: report)), as: UTF8.self).split(separator: "\n").last ?? "") ?? -1
        return (r, kb / 1024)
    }

    /// 200,000 files in 400 folders: `status` stays under 100 MB of peak RSS (it streams: no listing of the
    /// workspace is built), and a commit of one changed file writes the objects on its path only: the file, its
    /// folder's tree, the root tree and the commit. `ls -r --json` of them all stays under 100 MB as well.
    @Test func statusStaysSmallAndAOneFileCommitWritesItsPathOnly() throws {
        let s = try StrataCLI()
        defer { try? FileManager.default.removeItem(atPath: s.directory) }  // 200,000 files: not left in the temp folder
        #expect(try s.run("init").status == 0)
        for d in 0..<400 {
            let folder = s.directory + String(format: "/f%03d", d)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for i in 0..<500 {
                let n = d * 500 + i
                let fd = open(folder + String(format: "/ev-%06d.json", n), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                let text = "{\"record\": \(n), \"decision\": \"\(n % 2 == 0 ? "keep" : "drop")\"}\n"
                _ = text.withCString { write(fd, $0, strlen($0)) }
                close(fd)
            }
        }
        Thread.sleep(forTimeInterval: 1.2)  // past the stat cache's racy window, as files at rest are
        #expect(try s.run("commit", "-m", "v1").status == 0)
        let (status, rss) = try measured(s, "status")
        #expect(status.status == 0 && status.stdout.contains("nothing to commit"), "\(status.stdout)")
        #expect(rss > 0 && rss <= 100, "status at 200,000 files: peak RSS \(rss) MB")
        try s.write("f123/ev-061500.json", "{\"record\": 61500, \"decision\": \"changed\"}\n")
        let (commit, commitRSS) = try measured(s, "commit", "-m", "one file", "--json")
        #expect(commit.status == 0)
        let doc = try JSONSerialization.jsonObject(with: Data(commit.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(doc["objects_written"] as? Int == 4, "\(commit.stdout)")
        #expect(commitRSS > 0 && commitRSS <= 100, "one-file commit at 200,000 files: peak RSS \(commitRSS) MB")
        // A recursive listing streams too (before, `ls -r --json` held every entry and its encoding: 1.1 GB at 10⁶).
        let (ls, lsRSS) = try measured(s, "ls", "-r", "HEAD", "--json")
        #expect(ls.status == 0, "\(ls.stderr)")
        let listed = (try JSONSerialization.jsonObject(with: ls.stdoutBytes) as? [String: Any])?["entries"] as? [[String: Any]]
        #expect(listed?.count == 200_000 && listed?.last?["path"] as? String == "f399/ev-199999.json")
        #expect(lsRSS > 0 && lsRSS <= 100, "ls -r --json at 200,000 files: peak RSS \(lsRSS) MB")
    }
}
