import Foundation

/// A Python helper the tests start (the moto S3 server, the fault proxy): it prints one JSON object on its first line
/// and runs until its stdin closes, which happens when this object goes away or the test process ends.
public final class PythonFixture: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe()
    /// The JSON object the fixture printed.
    public let info: [String: String]

    /// Starts `python3 script arguments…` and waits for its first line.
    public init(script: String, arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let out = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        try process.run()
        let line = PythonFixture.firstLine(out, of: process)
        guard let obj = try JSONSerialization.jsonObject(with: line) as? [String: String] else { throw CocoaError(.fileReadCorruptFile) }
        info = obj
    }

    deinit { stop() }

    /// What a child printed up to its first newline (or until its output ended): how fixtures announce they are ready.
    /// A child that has not announced itself after `seconds` is killed, which ends its output.
    public static func firstLine(_ pipe: Pipe, of process: Process, within seconds: Double = 300) -> Data {
        let dog = Watchdog(process, seconds: seconds)
        defer { dog.disarm() }
        var line = Data()
        while !line.contains(10) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        return line
    }

    /// Closes the fixture's stdin and waits for it to exit (it stops what it started); safe to call twice.
    public func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit(within: 120)
    }

    /// `Tests/StrataRemoteTests/<name>`, the fixtures' folder.
    public static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("StrataRemoteTests/" + name).path
    }

    /// Whether Python can import every module in `modules` (comma-separated), and run `check` when given.
    public static func available(_ modules: String, check: String = "") -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import \(modules)" + (check.isEmpty ? "" : "; " + check)]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        guard p.waitUntilExit(within: 120) else { return false }
        return p.terminationStatus == 0
    }

    /// Whether moto's server and boto3 are installed (requirements-test.txt).
    public static let motoAvailable = available("moto, boto3, flask, shutil, sys", check: "sys.exit(0 if shutil.which('moto_server') else 1)")
}
