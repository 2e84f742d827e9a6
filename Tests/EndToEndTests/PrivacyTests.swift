import Foundation
import StrataTestSupport
import Testing

/// POPIA: personal data planted everywhere a user can put it never reaches anything Strata emits.
@Suite("End to end: privacy", .serialized) struct PrivacyE2ETests {
    /// Property test over seeds: e-mails, SA ID numbers with valid checksums, phone numbers in every common form and
    /// configured names are planted into the workspace folder, folder and file names, commit messages, authors, stage
    /// commands, parameters, stderr and CSV cells. Every export and output (events as stored and as delivered, PROV of
    /// every run, the DCAT catalogue and its page names, `runs`, `runs --json`, `reproduce`, `lineage verify`,
    /// `config`) is then searched for each planted value, plain, lower-cased and percent-encoded.
    @Test(arguments: [UInt64(0x0015), 0x00AB, 0x1234])
    func plantedPersonalDataNeverLeaves(seed: UInt64) throws {
        var g = SplitMix(seed: seed)
        let person = PersonalData.names[Int(seed % UInt64(PersonalData.names.count))]
        let email = PersonalData.email(&g), id = PersonalData.idNumber(&g)
        let phones = (0..<6).map { PersonalData.phone(&g, form: $0) }
        let other = PersonalData.names[Int((seed + 1) % UInt64(PersonalData.names.count))]
        // The workspace lives in a folder named after a person, as a home folder would be.
        let base = NSTemporaryDirectory() + "privacy-\(UUID().uuidString.prefix(6))/\(person)/work"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let s = StrataCLI(directory: URL(fileURLWithPath: base).resolvingSymlinksInPath().path)
        #expect(try s.run("init").status == 0)
        #expect(try s.run("config", "lineage.redact-names", PersonalData.names.joined(separator: "\n")).status == 0)
        let reviewFile = "evidence/reviews/review-\(email).jsonl"
        let peopleTable = "people/\(other)/contacts-\(phones[4]).csv"
        try s.write("raw/contacts.csv", "id,contact,phone,id_number\n1,\(other),\(phones[0]),\(id)\n2,\(email),\(phones[2]),x\n")
        try s.write("audit.mode", "ok\n")
        try s.write("approved.flag", "yes\n")
        try s.write(
            "steps/review.py",
            """
            import os, sys, shutil
            os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
            shutil.copy("raw/contacts.csv", sys.argv[2])
            os.makedirs("evidence/reviews", exist_ok=True)
            open(sys.argv[1], "w").write('{"reviewer": "%s"}\\n' % sys.argv[3])
            """)
        try s.write(
            "steps/audit.py",
            """
            import sys
            if open("audit.mode").read().strip() != "ok":
                sys.exit("audit failed for \(person), ID \(id), call \(phones[3]) or \(phones[5]), mail \(email)")
            open("audit.txt", "w").write("ok\\n")
            """)
        let review =
            "python3 steps/review.py '\(reviewFile)' '\(peopleTable)' '\(phones[1])' && test -f approved.flag || { echo 'rejected by \(email) \(phones[1]) \(id)' >&2; exit 3; }"
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription

            let pipeline = Pipeline(
                name: "privacy",
                stages: [
                    .stage(
                        name: "review",
                        command: #"\(review)"#,
                        inputs: ["raw/contacts.csv", "steps/review.py"],
                        outputs: [.evidence("evidence/reviews/"), .table("\(peopleTable)", key: "id", published: true)],
                        params: ["reviewer": "\(email)", "owner": "\(person)"]
                    ),
                    .stage(name: "audit", command: "python3 steps/audit.py", inputs: ["audit.mode", "steps/audit.py", "\(peopleTable)"], outputs: [.file("audit.txt")]),
                ]
            )
            """)
        let repro = try s.run("repro")
        #expect(repro.status == 0, "\(repro.stderr)")
        let commit = try s.run("commit", "-q", "-m", "reviewed by \(person) <\(email)>, call \(phones[0]), ID \(id)", "--author", "\(person) <\(email)>")
        #expect(commit.status == 0, "\(commit.stderr)")
        // A failing stage: its stderr (with every kind of personal data) becomes an errorMessage.
        try s.write("audit.mode", "fail\n")
        #expect(try s.run("repro").status == 20)

        var outputs: [(String, String)] = []
        func capture(_ label: String, _ args: String...) throws {
            let r = try s.run(args)
            outputs.append((label + " stdout", r.stdout)); outputs.append((label + " stderr", r.stderr))
        }
        try capture("lineage export", "lineage", "export")
        try capture("runs", "runs")
        try capture("runs --json", "runs", "--json")
        try capture("lineage verify", "lineage", "verify")
        try capture("config", "config")
        try capture("config lineage.salt", "config", "lineage.salt")
        let runs = try JSONSerialization.jsonObject(with: Data(try s.run("runs", "--json").stdout.utf8)) as? [String: Any]
        let list = runs?["runs"] as? [[String: Any]] ?? []
        #expect(list.count >= 5)
        for r in list {
            let runID = r["runId"] as? String ?? ""
            try capture("prov \(runID)", "lineage", "prov", runID)
        }
        // Reproduce the review stage: in the scratch folder approved.flag is missing, so it fails with stderr.
        if let reviewRun = list.first(where: { ($0["job"] as? String) == "privacy.review" && ($0["status"] as? String) == "COMPLETE" })?["runId"] as? String {
            let r = try s.run("reproduce", reviewRun)
            #expect(r.status == 23, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("FAILED") && r.stdout.contains("rejected by [email]"), "reproduce shows the stderr, redacted: \(r.stdout)")
            outputs.append(("reproduce", r.stdout + r.stderr))
            try capture("reproduce --json", "reproduce", reviewRun, "--json")
        } else {
            Issue.record("no completed review run in \(list)")
        }
        let cat = try s.run("catalog", "--include", peopleTable, "--out", s.path("site"))
        #expect(cat.status == 0, "\(cat.stderr)")
        outputs.append(("catalog", cat.stdout + cat.stderr))
        for name in try FileManager.default.contentsOfDirectory(atPath: s.path("site")) {
            outputs.append(("catalogue file name", name))
            outputs.append(("catalogue file " + name, try String(contentsOfFile: s.path("site/" + name), encoding: .utf8)))
        }
        // Events as the file transport delivered them.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: s.path(".strata/lineage/events"))) ?? [] {
            outputs.append(("delivered " + name, try String(contentsOfFile: s.path(".strata/lineage/events/" + name), encoding: .utf8)))
        }
        #expect(outputs.contains { $0.0 == "lineage export stdout" && $0.1.contains("\"eventType\":\"FAIL\"") })

        let salt = try saltValue(s)
        #expect(salt.count >= 16)
        var planted = [email, id, person, other, salt] + phones
        planted += person.split(separator: " ").map(String.init).filter { $0.count > 3 }
        for (label, text) in outputs {
            let decoded = text.removingPercentEncoding ?? text
            for p in planted {
                for form in Set([p, p.lowercased(), p.replacingOccurrences(of: " ", with: "_")]) {
                    #expect(!text.contains(form) && !decoded.contains(form) && !decoded.lowercased().contains(form.lowercased()), "\(label) leaks '\(form)'")
                }
            }
        }
    }

    /// The salt, read straight from the store (the CLI never shows it).
    func saltValue(_ s: StrataCLI) throws -> String {
        let r = try python([
            "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select value from config where key='lineage.salt'\").fetchone()[0])",
            s.path(".strata/strata.db"),
        ])
        return r.1.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
