import Foundation
import StrataTestSupport
import Testing

/// An MCP client over `strata mcp`'s stdin and stdout: JSON-RPC requests one a line, answers matched by id.
final class MCPClient {
    let process = Process()
    let input = Pipe(), output = Pipe()
    var buffer = Data()
    /// Ends a server that stops answering, so a read of its output returns instead of blocking the suite.
    var watchdog: Watchdog?
    var nextID = 1

    init(in directory: String) throws {
        process.executableURL = URL(fileURLWithPath: StrataCLI.binary)
        process.arguments = ["mcp"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        watchdog = Watchdog(process)
    }

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit(within: 120)
        watchdog?.disarm()
    }

    func send(_ message: [String: Any]) throws {
        var m = message
        m["jsonrpc"] = "2.0"
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: m) + Data([10]))
    }

    /// Sends a request and waits for the answer with its id.
    func request(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
        let id = nextID
        nextID += 1
        try send(["id": id, "method": method, "params": params])
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = buffer[buffer.startIndex..<nl]
                buffer = Data(buffer[(nl + 1)...])
                if let obj = try JSONSerialization.jsonObject(with: line) as? [String: Any], obj["id"] as? Int == id { return obj }
                continue
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw CocoaError(.fileReadUnknown) }
            buffer.append(chunk)
        }
    }

    /// Calls a tool: its result (`content`, `structuredContent`, `isError`), or the JSON-RPC error.
    func call(_ tool: String, _ arguments: [String: Any]) throws -> [String: Any] {
        let r = try request("tools/call", ["name": tool, "arguments": arguments])
        return (r["result"] as? [String: Any]) ?? ["error": r["error"] ?? "none"]
    }
}

@Suite("MCP: strata mcp over stdio") struct MCPTests {
    /// initialize, tools/list (every input schema a valid JSON Schema), every tool with valid and invalid arguments,
    /// and the confirm rule of the writing tools.
    @Test func toolsOverStdio() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("tables/orgs.csv", "id,name\n1,Acme\n2,Globex\n")
        try s.run("commit", "-m", "v1")
        try s.write("tables/orgs.csv", "id,name\n1,Acme\n2,Globex Ltd\n3,Initech\n")
        try s.run("commit", "-m", "v2")
        try s.write("notes.md", "uncommitted\n")
        try s.write(
            "Pipeline.swift",
            """
            import PipelineDescription
            let pipeline = Pipeline(name: "p", stages: [
                .stage(name: "sorted", command: "sort tables/orgs.csv > out/sorted.csv", inputs: ["tables/orgs.csv"], outputs: [.file("out/sorted.csv")]),
            ])
            """)
        let c = try MCPClient(in: s.directory)
        let initialized = try c.request(
            "initialize", ["protocolVersion": "2025-06-18", "capabilities": [String: Any](), "clientInfo": ["name": "test", "version": "1"]])
        #expect(((initialized["result"] as? [String: Any])?["serverInfo"] as? [String: Any])?["name"] as? String == "strata")
        try c.send(["method": "notifications/initialized"])
        let tools = ((try c.request("tools/list")["result"] as? [String: Any])?["tools"] as? [[String: Any]]) ?? []
        let names = Set(tools.compactMap { $0["name"] as? String })
        #expect(
            names == [
                "log", "show", "ls", "status", "diff", "cat_rows", "runs", "stages", "repro_dry_run", "prune_dry_run", "lineage_prov", "commit",
                "branch_create", "tag_create", "lineage_graph", "repro",
            ])
        let schemas = String(decoding: try JSONSerialization.data(withJSONObject: tools.map { $0["inputSchema"] ?? [:] }), as: UTF8.self)
        let (st, out) = try python([
            "-c", "import json, sys, jsonschema; [jsonschema.Draft202012Validator.check_schema(s) for s in json.loads(sys.argv[1])]; print('ok')", schemas,
        ])
        #expect(st == 0 && out.contains("ok"), "\(out)")
        func structured(_ r: [String: Any]) -> [String: Any] { r["structuredContent"] as? [String: Any] ?? [:] }
        let log = try c.call("log", ["limit": 5])
        #expect((structured(log)["commits"] as? [[String: Any]])?.map { $0["message"] as? String ?? "" } == ["v2", "v1"])
        #expect((structured(try c.call("show", ["rev": "HEAD"]))["changes"] as? [[String: Any]])?.first?["path"] as? String == "tables/orgs.csv")
        #expect((structured(try c.call("ls", ["path": "tables"]))["entries"] as? [[String: Any]])?.count == 1)
        #expect((structured(try c.call("status", [:]))["changes"] as? [[String: Any]])?.contains { $0["path"] as? String == "notes.md" } == true)
        let stages = structured(try c.call("stages", [:]))["stages"] as? [[String: Any]]
        #expect(stages?.first?["name"] as? String == "sorted", "\(String(describing: stages))")
        let dry = structured(try c.call("repro_dry_run", [:]))["stages"] as? [[String: Any]]
        #expect(dry?.first?["action"] as? String == "would-run", "\(String(describing: dry))")
        #expect(!FileManager.default.fileExists(atPath: s.path("out/sorted.csv")))
        let prune = structured(try c.call("prune_dry_run", ["rules": "--keep-last 1"]))["commits"] as? [[String: Any]]
        #expect(prune?.map { $0["action"] as? String ?? "" }.sorted() == ["forget", "keep"], "\(String(describing: prune))")
        let files = try c.call("diff", ["from": "HEAD~1", "to": "HEAD"])
        #expect((structured(files)["changes"] as? [[String: Any]])?.count == 1)
        let rows = try c.call("diff", ["from": "HEAD~1", "to": "HEAD", "path": "tables/orgs.csv", "key": "id"])
        let ops = (structured(rows)["rows"] as? [[String: Any]])?.compactMap { $0["op"] as? String }.sorted()
        #expect(ops == ["added", "modified"], "\(rows)")
        let page = try c.call("cat_rows", ["path": "tables/orgs.csv", "offset": 1, "limit": 1])
        #expect((structured(page)["rows"] as? [[String: Any]])?.first?["name"] as? String == "Globex Ltd")
        #expect(structured(try c.call("runs", ["limit": 3]))["runs"] != nil)
        // Invalid arguments: tool errors naming the argument; an unknown tool: a protocol error.
        for (tool, args, says) in [
            ("show", [String: Any](), "'rev' is required"), ("log", ["limit": -1], "'limit'"), ("ls", ["path": "../etc"], "not a path inside"),
            ("cat_rows", ["path": "notes.md"], "not a table"), ("log", ["rev": "no-such-branch"], "no-such-branch"),
            ("prune_dry_run", ["rules": "--keep-sometimes 3"], "keep-sometimes"),
        ] {
            let r = try c.call(tool, args)
            let text = ((r["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            #expect(r["isError"] as? Bool == true && text.contains(says), "\(tool) \(args): \(r)")
        }
        #expect(try c.call("nope", [:])["error"] != nil)
        // Writes need confirm.
        let refused = try c.call("branch_create", ["name": "agent/x"])
        #expect(refused["isError"] as? Bool == true)
        #expect(try s.run("branch").stdout.contains("agent/x") == false)
        let made = try c.call("branch_create", ["name": "agent/x", "confirm": true])
        #expect(made["isError"] as? Bool == false, "\(made)")
        #expect(try s.run("branch").stdout.contains("agent/x"))
        #expect(try c.call("tag_create", ["name": "v2", "message": "second", "confirm": true])["isError"] as? Bool == false)
        let prov = structured(try c.call("lineage_prov", ["run": "HEAD"]))["prov"] as? [String: Any]
        #expect(prov?["@graph"] != nil, "\(String(describing: prov))")
        #expect(try c.call("commit", ["message": "by an agent"])["isError"] as? Bool == true)
        let committed = try c.call("commit", ["message": "by an agent", "confirm": true])
        #expect(committed["isError"] as? Bool == false, "\(committed)")
        #expect(try s.run("log", "-n", "1").stdout.contains("by an agent"))
        let graph = structured(try c.call("lineage_graph", ["rev": "HEAD"]))
        #expect((graph["nodes"] as? [[String: Any]])?.contains { $0["kind"] as? String == "run" } == true, "\(graph)")
        #expect(try c.call("repro", [:])["isError"] as? Bool == true)
        let repro = try c.call("repro", ["confirm": true])
        #expect(repro["isError"] as? Bool == false && (structured(repro)["stages"] as? [[String: Any]])?.first?["name"] as? String == "sorted", "\(repro)")
        #expect(FileManager.default.fileExists(atPath: s.path("out/sorted.csv")))
        let resources = ((try c.request("resources/list")["result"] as? [String: Any])?["resources"] as? [[String: Any]]) ?? []
        #expect(resources.isEmpty, "nothing is published here: \(resources)")
        // Every call is an OpenLineage run (job strata.mcp.<tool>); a refused or failed one ends FAIL.
        let events = try s.run("lineage", "export").stdout.split(separator: "\n")
        for tool in [
            "log", "show", "ls", "status", "diff", "cat_rows", "runs", "stages", "repro_dry_run", "prune_dry_run", "lineage_prov", "commit", "branch_create",
            "tag_create", "lineage_graph", "repro",
        ] {
            #expect(events.contains { $0.contains("\"strata.mcp.\(tool)\"") && $0.contains("\"COMPLETE\"") }, "no COMPLETE event for \(tool)")
        }
        #expect(events.contains { $0.contains("\"strata.mcp.show\"") && $0.contains("\"FAIL\"") })
        #expect(events.contains { $0.contains("\"strata_arguments\"") && $0.contains("\"tool\":\"cat_rows\"") && $0.contains("tables/orgs.csv") })
    }
}
