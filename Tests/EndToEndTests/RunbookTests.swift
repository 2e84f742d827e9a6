import Foundation
import StrataTestSupport
import Testing

/// The runbooks are followed literally: every ```sh block of a runbook runs, in order, in one bash session
/// (`set -euo pipefail`, the built `strata` first on PATH) on the sample pipeline's workspace with two commits.
@Suite("End to end: runbooks", .serialized) struct RunbookTests {
    /// The sample pipeline, run and committed twice (the second commit changes curated/organisations.csv).
    func workspace() throws -> StrataCLI {
        let s = try StrataCLI()
        try setUpPipeline(s)
        let first = try s.run("repro", "--commit", "-m", "first")
        #expect(first.status == 0, "\(first.stderr)")
        try s.write("raw/organisations.csv", "id,name\n1,Karoo Data\n2,Ubuntu Holdings\n3,Bad Row Ltd\n")
        let second = try s.run("repro", "--commit", "-m", "second: a bad row")
        #expect(second.status == 0, "\(second.stderr)")
        return s
    }

    /// Runs the runbook's shell blocks; returns (status, output).
    func follow(_ runbook: String, in s: StrataCLI) throws -> (Int32, String) {
        let text = try String(contentsOfFile: projectRoot + "/docs/runbooks/" + runbook, encoding: .utf8)
        var blocks: [String] = [], current: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```sh" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n")); current = nil
            } else if current != nil {
                current!.append(String(line))
            }
        }
        #expect(!blocks.isEmpty, "\(runbook) has no ```sh block")
        let bin = URL(fileURLWithPath: StrataCLI.binary).deletingLastPathComponent().path
        let script = "set -euo pipefail\nexport PATH='\(bin)':\"$PATH\"\nset -x\n" + blocks.joined(separator: "\n") + "\n"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        p.currentDirectoryURL = URL(fileURLWithPath: s.directory)
        var env = ProcessInfo.processInfo.environment
        env["STRATA_AUTHOR"] = "Runbook Operator <ops@example.org>"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out; p.standardError = out
        let (data, note) = try p.runToEnd(reading: out)
        return (p.terminationStatus, String(decoding: data, as: UTF8.self) + note)
    }

    @Test func rollbackRunbook() throws {
        let s = try workspace()
        let good = try s.run("cat", "HEAD~1:curated/organisations.csv").stdout
        #expect(!good.isEmpty && !good.contains("Bad Row"))
        let (status, out) = try follow("rollback.md", in: s)
        #expect(status == 0, "\(out)")
        // The single-table rollback survived `repro`: the stage was protected, not re-run over it.
        #expect(out.contains("protected"), "\(out)")
        #expect(out.contains("Bad Row Ltd"), "the row diff shows the bad row: \(out)")
        #expect(try s.read("curated/organisations.csv") == Data(good.utf8))
    }

    @Test func provenanceRunbook() throws {
        let s = try workspace()
        let (status, out) = try follow("provenance.md", in: s)
        #expect(status == 0, "\(out)")
        #expect(out.contains("reproduced: every output is byte-identical"), "\(out)")
        #expect(out.contains("lineage of HEAD is complete"), "\(out)")
        #expect(out.contains("wrote ") && out.contains("catalog.jsonld"), "\(out)")
        // The shipped sample declares every input (report's script too), so a whole pipeline run reproduces.
        let runs = try JSONSerialization.jsonObject(with: Data(try s.run("runs", "--json").stdout.utf8)) as! [String: Any]
        let pipeline = (runs["runs"] as! [[String: Any]]).first { ($0["kind"] as? String) == "pipeline" && ($0["status"] as? String) == "COMPLETE" }
        let r = try s.run("reproduce", pipeline?["runId"] as? String ?? "-")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    @Test func retentionRunbook() throws {
        let s = try workspace()
        let (status, out) = try follow("retention.md", in: s)
        #expect(status == 0, "\(out)")
    }
}
