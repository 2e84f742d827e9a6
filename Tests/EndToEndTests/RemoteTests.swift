import Foundation
import StrataRemote
import StrataRepository
import StrataWorkflows
import StrataTestSupport
import Testing

/// Storage that ignores conditional writes (as some S3-compatible servers and proxies do).
struct IgnoresConditions: RemoteBackend {
    let inner: FolderBackend
    var displayName: String { "careless://" + inner.root }
    func get(_ key: String) throws -> StoredObject? { try inner.get(key) }
    func getRange(_ key: String, offset: Int64, length: Int) throws -> [UInt8] { try inner.getRange(key, offset: offset, length: length) }
    func head(_ key: String) throws -> String? { try inner.head(key) }
    func create(_ key: String, _ bytes: [UInt8]) throws -> PutOutcome {
        try? inner.delete(key)
        return try inner.create(key, bytes)
    }
    func put(_ key: String, _ bytes: [UInt8], ifMatch etag: String) throws -> PutOutcome {
        try? inner.delete(key)
        return try inner.create(key, bytes)
    }
    func list(prefix: String) throws -> [String] { try inner.list(prefix: prefix) }
    func listDetailed(prefix: String) throws -> [ListedObject] { try inner.listDetailed(prefix: prefix) }
    func delete(_ key: String) throws { try inner.delete(key) }
}

@Suite("Remotes: add, list, remove", .serialized) struct RemoteSetupTests {
    @Test func folderRemoteThroughTheBinary() throws {
        let s = try StrataCLI()
        try s.run("init")
        let url = "file://" + s.directory + "-remote"
        let add = try s.run("remote", "add", "origin", url)
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("create-only writes yes, compare-and-swap yes"))
        #expect(try s.run("remote", "add", "origin", url).status == 64)  // name taken
        let list = try s.run("remote", "list", "--json")
        #expect(list.stdout.contains("\"name\" : \"origin\"") && list.stdout.contains("\"compare_and_swap\" : true"))
        #expect(try s.run("remote", "remove", "origin").status == 0)
        #expect(try s.run("remote", "remove", "origin").status == 3)
        #expect(try s.run("remote", "add", "bad", "http://user:pw@host/x").stderr.contains("***@"))
        #expect(try s.run("remote", "add", "rel", "file://relative").status == 64)
    }

    /// The STRATA marker: created by the first `add`, shared by every store that adds the remote; a folder holding
    /// something else, or a newer layout, is refused with nothing written.
    @Test func markerIsSharedAndForeignOrNewerRemotesAreRefused() throws {
        let a = try StrataCLI(), b = try StrataCLI()
        try a.run("init"); try b.run("init")
        let remote = a.directory + "-shared"
        #expect(try a.run("remote", "add", "origin", "file://" + remote).status == 0)
        #expect(try b.run("remote", "add", "origin", "file://" + remote).status == 0)
        func repoID(_ s: StrataCLI) throws -> String? {
            let obj = try JSONSerialization.jsonObject(with: Data(try s.run("remote", "list", "--json").stdout.utf8)) as? [String: Any]
            return ((obj?["remotes"] as? [[String: Any]])?.first?["repo_id"]) as? String
        }
        #expect(try repoID(a) != nil && repoID(a) == repoID(b))
        let foreign = a.directory + "-foreign"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try Data("not ours\n".utf8).write(to: URL(fileURLWithPath: foreign + "/STRATA"))
        let r = try a.run("remote", "add", "other", "file://" + foreign)
        #expect(r.status == 12 && r.stderr.contains("not a Strata remote"))
        try Data(#"{"format":"strata-remote","repoId":"x","version":99}"#.utf8).write(to: URL(fileURLWithPath: foreign + "/STRATA"))
        #expect(try a.run("remote", "add", "other", "file://" + foreign).status == 15)
        #expect(try a.run("remote", "list").stdout.contains("other") == false)
    }

    @Test func storageIgnoringConditionalWritesIsRefusedUnlessSingleWriter() throws {
        let dir = NSTemporaryDirectory() + "careless-" + UUID().uuidString.prefix(6)
        let repo = try Repository.initialize(at: dir + "/ws")
        let careless = IgnoresConditions(inner: try FolderBackend(root: dir + "/remote"))
        let location = try RemoteLocation(url: "file://" + dir + "/remote")
        #expect(try RemoteProbe.probe(careless) == RemoteCapabilities(createOnly: false, compareAndSwap: false))
        #expect(throws: RemoteSetupError.self) { _ = try RemoteWorkflow.add(repo, name: "origin", location: location, backend: careless) }
        #expect(try RemoteWorkflow.list(repo).isEmpty)
        let e = try RemoteWorkflow.add(repo, name: "origin", location: location, singleWriter: true, backend: careless)
        #expect(e.singleWriter && !e.capabilities.createOnly)
        #expect(try RemoteWorkflow.list(repo).first?.singleWriter == true)
    }

    /// Against a moto S3 server in auth mode: credentials from the environment (never stored or printed), the probe
    /// finds both conditional writes, and a wrong secret fails with a clear error.
    @Test(.enabled(if: RemoteSetupTests.motoAvailable, "moto[server] is not installed (requirements-test.txt)"))
    func s3RemoteAgainstMoto() throws {
        let moto = try PythonFixture(script: PythonFixture.script("moto_fixture.py"))
        defer { withExtendedLifetime(moto) {} }  // the server lives until the test ends
        let info = moto.info
        let s = try StrataCLI()
        try s.run("init")
        let env = ["AWS_ACCESS_KEY_ID": info["access_key"]!, "AWS_SECRET_ACCESS_KEY": info["secret_key"]!, "AWS_REGION": "us-east-1"]
        let add = try s.run(["remote", "add", "origin", "s3://\(info["bucket"]!)/team", "--endpoint", info["endpoint"]!], env: env)
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("create-only writes yes, compare-and-swap yes"))
        let config = try s.run("config")  // every setting
        #expect(!(config.stdout + add.stdout + add.stderr).contains(info["secret_key"]!))
        var wrong = env
        wrong["AWS_SECRET_ACCESS_KEY"] = "planted-wrong-secret-XYZ"
        let bad = try s.run(["remote", "add", "other", "s3://\(info["bucket"]!)/team", "--endpoint", info["endpoint"]!], env: wrong)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("SignatureDoesNotMatch") && !bad.stderr.contains("planted-wrong-secret-XYZ"))
    }

    static let motoAvailable = PythonFixture.motoAvailable
}
