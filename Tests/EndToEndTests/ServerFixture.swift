import Foundation
import StrataTestSupport
import Testing

/// A `strata serve` on 127.0.0.1 (any free port) over a fresh server root, started through a shell that stops it
/// (SIGTERM) when the test process's end closes its stdin: no server outlives the tests.
final class TestServer: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe()
    /// The server root.
    let root: String
    /// `http://127.0.0.1:PORT`.
    let url: String
    /// The log (stderr) of the server.
    let logPath: String

    /// One server for the whole test process, for the remote scenarios: user `tester` is admin everywhere.
    static let shared: TestServer? = try? TestServer()
    /// The token of `tester` on `shared`.
    static let sharedToken: String? = {
        guard let s = shared else { return nil }
        _ = try? s.admin("user", "add", "tester")
        _ = try? s.admin("policy", "set", "tester", "admin", "**")
        return try? s.admin("token", "create", "tester").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    init(extra: [String] = [], root given: String? = nil) throws {
        root = given ?? NSTemporaryDirectory() + "server-" + String(UUID().uuidString.prefix(8)).lowercased()
        logPath = root + ".log"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let args = (["serve", "--listen", "127.0.0.1:0"] + extra + [root]).map { "'\($0)'" }.joined(separator: " ")
        process.arguments = ["-c", "\"$0\" \(args) 2>>\"$1\" </dev/null & p=$!; cat >/dev/null; kill -TERM $p; wait $p", StrataCLI.binary, logPath]
        let out = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        try process.run()
        let line = PythonFixture.firstLine(out, of: process)
        let text = String(decoding: line, as: UTF8.self)
        guard let r = text.range(of: "listening on ") else { throw CocoaError(.fileReadCorruptFile) }
        url = String(text[r.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { stop() }

    /// Stops the server (SIGTERM) and waits.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit(within: 120)
    }

    /// Runs an admin command (`user`, `token`, `policy`, `namespace`, `protect`, `audit`) on this server's root.
    @discardableResult
    func admin(_ args: String...) throws -> StrataCLI.Result {
        try StrataCLI(directory: root).run(args, env: ["STRATA_SERVER_ROOT": root])
    }

    /// Adds a user with a token and returns the token.
    func token(for user: String, expires: String? = nil) throws -> String {
        try admin("user", "add", user)
        let r = try StrataCLI(directory: root).run(["token", "create", user] + (expires.map { ["--expires", $0] } ?? []), env: ["STRATA_SERVER_ROOT": root])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
