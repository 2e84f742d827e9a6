import Foundation
import StrataPlatform
import Testing
@testable import StrataRemote

/// A moto S3 server in auth mode, started once for the suite (Tests/StrataRemoteTests/moto_fixture.py) and stopped
/// when the test process ends (the fixture exits when its stdin closes).
final class MotoServer: @unchecked Sendable {
    static let available: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import moto, boto3, flask; import shutil, sys; sys.exit(0 if shutil.which('moto_server') else 1)"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    static let shared: MotoServer? = available ? try? MotoServer() : nil

    let process = Process()
    let stdin = Pipe()
    let endpoint: URL
    let credentials: AWSCredentials
    let bucket: String

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("moto_fixture.py").path]
        let out = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(10) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let obj = try JSONSerialization.jsonObject(with: line) as? [String: String] else { throw CocoaError(.fileReadCorruptFile) }
        endpoint = URL(string: obj["endpoint"]!)!
        credentials = AWSCredentials(accessKeyID: obj["access_key"]!, secretAccessKey: obj["secret_key"]!)
        bucket = obj["bucket"]!
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
