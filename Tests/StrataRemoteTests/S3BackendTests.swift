import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StrataModel
import StrataPlatform
import StrataTestSupport
import Testing
@testable import StrataRemote

/// A moto S3 server in auth mode, started once for the suite (Tests/StrataRemoteTests/moto_fixture.py) and stopped
/// when the test process ends (the fixture exits when its stdin closes).
final class MotoServer: @unchecked Sendable {
    static let available = PythonFixture.motoAvailable
    static let shared: MotoServer? = available ? try? MotoServer() : nil

    let fixture: PythonFixture
    let endpoint: URL
    let credentials: AWSCredentials
    let bucket: String

    init() throws {
        fixture = try PythonFixture(script: PythonFixture.script("moto_fixture.py"))
        endpoint = URL(string: fixture.info["endpoint"]!)!
        credentials = AWSCredentials(accessKeyID: fixture.info["access_key"]!, secretAccessKey: fixture.info["secret_key"]!)
        bucket = fixture.info["bucket"]!
    }

    /// A backend on a fresh prefix of the test bucket.
    func backend(credentials: AWSCredentials? = nil) -> S3Backend {
        S3Backend(endpoint: endpoint, bucket: bucket, prefix: "t-" + Posix.randomHex(6), region: "us-east-1", credentials: credentials ?? self.credentials)
    }
}

@Suite("Remote backend conformance: S3 (moto, auth mode)", .enabled(if: MotoServer.available, "moto[server] is not installed (requirements-test.txt)"))
struct S3BackendConformanceTests {
    func fresh() throws -> S3Backend {
        guard let m = MotoServer.shared else { throw CocoaError(.featureUnsupported) }
        return m.backend()
    }

    @Test func createIsCreateOnly() throws { try BackendConformance.createIsCreateOnly(try fresh()) }
    @Test func putIfMatchIsCompareAndSwap() throws { try BackendConformance.putIfMatchIsCompareAndSwap(try fresh()) }
    @Test func missingObjects() throws { try BackendConformance.missingObjects(try fresh()) }
    @Test func rangesAndListing() throws { try BackendConformance.rangesAndListing(try fresh()) }
    @Test func hostileKeysAreRefused() throws { try BackendConformance.hostileKeysAreRefused(try fresh()) }

    /// A wrong secret is refused by the server with a clear error that names neither the secret nor the key's secret.
    @Test func wrongSecretFailsClearlyWithoutLeakingIt() throws {
        guard let m = MotoServer.shared else { return }
        let bad = m.backend(credentials: AWSCredentials(accessKeyID: m.credentials.accessKeyID, secretAccessKey: "planted-WRONG-secret-123"))
        do {
            _ = try bad.create("refs/heads/main", Array("x".utf8))
            Issue.record("a wrong secret was accepted")
        } catch let e as RemoteError {
            #expect(e.code == "remote.refused")
            #expect(e.description.contains("SignatureDoesNotMatch"))
            #expect(!e.description.contains("planted-WRONG-secret-123") && !e.description.contains(m.credentials.secretAccessKey))
            #expect(e.nextStep?.contains("AWS_SECRET_ACCESS_KEY") == true)
        }
    }

    /// A file above the threshold goes up in 8 MiB parts and reads back identical; the probe finds multipart support;
    /// completing onto an existing key is refused as a create-only write is.
    @Test func multipartUploadOfAFile() throws {
        var b = try fresh()
        b.multipartThreshold = 1 << 20
        let size = (8 << 20) + 123_457
        var bytes = [UInt8](repeating: 0, count: size)
        for i in stride(from: 0, to: size, by: 4096) { bytes[i] = UInt8(truncatingIfNeeded: i / 4096) }
        let file = NSTemporaryDirectory() + "mp-" + Posix.randomHex(4)
        try Posix.writeAtomically(file, bytes)
        defer { try? Posix.unlink(file) }
        let sha = ObjectID.hash(bytes).hex
        guard case .written = try b.createFile("packs/big.pack", path: file, sha256: sha, size: Int64(size)) else {
            Issue.record("multipart upload did not write"); return
        }
        #expect(try b.get("packs/big.pack")?.bytes == bytes)
        #expect(try b.getRange("packs/big.pack", offset: Int64(8 << 20) - 2, length: 4) == Array(bytes[(8 << 20) - 2..<(8 << 20) + 2]))
        #expect(try b.createFile("packs/big.pack", path: file, sha256: sha, size: Int64(size)) == .conditionFailed)
        #expect(try RemoteProbe.probe(b).multipart)
    }

    /// Listing pages through continuation tokens.
    @Test func listingPaginates() throws {
        let b = try fresh()
        for k in 0..<(1005) where k % 67 == 0 || k > 995 { _ = try b.create("index/\(String(k).leftPad(4))", Array("\(k)".utf8)) }
        let keys = try b.list(prefix: "index/")
        #expect(keys == keys.sorted() && keys.count == 24)
    }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

/// The fault-injecting proxy (Tests/StrataRemoteTests/fault_proxy.py) in front of the moto server.
final class FaultProxy: @unchecked Sendable {
    let fixture: PythonFixture
    let endpoint: URL

    init(upstream: URL) throws {
        fixture = try PythonFixture(script: PythonFixture.script("fault_proxy.py"), arguments: [upstream.absoluteString])
        endpoint = URL(string: fixture.info["endpoint"]!)!
    }

    /// The next requests fail this way, one fault each.
    func plan(_ faults: [String]) throws {
        var req = URLRequest(url: endpoint.appendingPathComponent("__faults"))
        req.httpMethod = "POST"
        req.httpBody = Data(faults.joined(separator: ",").utf8)
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: req) { _, _, _ in done.signal() }.resume()
        // Bounded: a proxy that never answers fails the test instead of holding the suite.
        #expect(done.wait(timeout: .now() + 120) == .success, "the fault proxy did not answer")
    }
}

@Suite("S3 backend under faults (proxy in front of moto)", .enabled(if: MotoServer.available, "moto[server] is not installed (requirements-test.txt)"))
struct S3FaultTests {
    func setUp() throws -> (FaultProxy, S3Backend) {
        guard let m = MotoServer.shared else { throw CocoaError(.featureUnsupported) }
        let proxy = try FaultProxy(upstream: m.endpoint)
        return (
            proxy, S3Backend(endpoint: proxy.endpoint, bucket: m.bucket, prefix: "f-" + Posix.randomHex(6), region: "us-east-1", credentials: m.credentials)
        )
    }

    /// 503 SlowDown, 500, a dropped connection and a truncated body are retried; the data arrives intact.
    @Test func transientFaultsAreRetried() throws {
        let (proxy, b) = try setUp()
        let data = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try proxy.plan(["503", "500", "drop"])
        guard case .written = try b.create("packs/p.pack", data) else { Issue.record("create failed"); return }
        try proxy.plan(["truncate", "503"])
        #expect(try b.get("packs/p.pack")?.bytes == data)
        try proxy.plan(["delay", "drop"])
        #expect(try b.getRange("packs/p.pack", offset: 100, length: 10) == Array(data[100..<110]))
        try proxy.plan(["500", "truncate"])
        #expect(try b.list(prefix: "packs/") == ["packs/p.pack"])
    }

    /// More failures than attempts: a clear error naming the remote and the key, not a hang or a wrong answer.
    @Test func persistentFailureIsReported() throws {
        let (proxy, b) = try setUp()
        try proxy.plan(Array(repeating: "503", count: b.attempts))
        do {
            _ = try b.get("refs/heads/main")
            Issue.record("a persistent failure was not reported")
        } catch let e as RemoteError {
            #expect(e.code == "remote.unreachable")
            #expect(e.description.contains("refs/heads/main") && e.description.contains(b.displayName))
        }
    }

    /// A 412 from the server is a lost race, reported as such (the caller retries with fresh state).
    @Test func preconditionFailedIsALostRace() throws {
        let (proxy, b) = try setUp()
        try proxy.plan(["412"])
        #expect(try b.create("refs/heads/main", Array("x".utf8)) == .conditionFailed)
        #expect(try b.get("refs/heads/main") == nil)
    }
}
