import StrataWorkflows
import ArgumentParser
import Foundation
import StrataDiff
import StrataModel
import StrataPlatform
import StrataRepository

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Print nothing but errors (and the requested data).")
    var quiet = false

    @Option(name: .customShort("C"), help: ArgumentHelp("Run as if strata was started in DIR.", valueName: "DIR"))
    var directory: String?

    /// Opens the store that contains the working folder.
    func repository() throws -> Repository { try Self.repository(directory: directory) }

    /// Opens the store that contains `directory`, or the working folder when it is nil.
    static func repository(directory: String?) throws -> Repository {
        if let directory { guard chdir(directory) == 0 else { throw RepositoryError.notAStore(directory) } }
        let repo = try StoreSchemas.discover()
        SyncWorkflow.installSupplier(repo)
        return repo
    }
}

/// Writes to stdout without Foundation's buffering surprises.
enum Out {
    nonisolated(unsafe) static var buffer: [UInt8] = []

    static func line(_ s: String) { write(s + "\n") }

    static func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count > 1 << 16 { flush() }
    }

    static func flush() {
        buffer.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = Foundation.write(1, b.baseAddress! + off, b.count - off)
                if n <= 0 { break }
                off += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    static func raw(_ b: UnsafeRawBufferPointer) {
        flush()
        var off = 0
        while off < b.count {
            let n = Foundation.write(1, b.baseAddress! + off, b.count - off)
            if n <= 0 { break }
            off += n
        }
    }

    static func err(_ s: String) { FileHandle.standardError.write(Data((URLRedaction.redact(s) + "\n").utf8)) }

    /// Prints a value as stable JSON: sorted keys, no escaped slashes, one document.
    static func json<T: Encodable>(_ value: T) throws {
        line(String(decoding: try jsonEncoder.encode(value), as: UTF8.self))
        flush()
    }

    static var jsonEncoder: JSONEncoder {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return enc
    }

    /// Writes `value` as `json(_:)` does, with its top-level array `key` (empty in `value`) filled by `elements`, which
    /// passes each element as it is read: the output is the same as encoding the whole list, without holding it.
    static func json<T: Encodable, E: Encodable>(_ value: T, streaming key: String, _ elements: (((E) throws -> Void) throws -> Void)?) throws {
        guard let elements else { return try json(value) }
        let enc = jsonEncoder
        let whole = String(decoding: try enc.encode(value), as: UTF8.self)
        // The key's empty array, written as the encoder writes it ("[]", or "[" and "]" on separate lines).
        guard let at = whole.range(of: "\n  \"\(key)\" : ["), let end = whole[at.upperBound...].firstIndex(of: "]") else { return try json(value) }
        // Straight into the output buffer, indented byte by byte as they are copied (splitting each element's text at
        // Characters took half of the time of `show --json` of a million changes). The buffer flushes past 64 KiB,
        // so a short document still leaves in one write: a second write for the closing lines, after
        // `strata ls --json | head -12` had read what it wanted, died of SIGPIPE (exit 141).
        let indent = Array("    ".utf8)
        var first = true
        try elements { e in
            if first { buffer.append(contentsOf: whole[..<at.upperBound].utf8) } else { buffer.append(UInt8(ascii: ",")) }
            buffer.append(0x0A)
            first = false
            buffer.append(contentsOf: indent)
            for byte in try enc.encode(e) {
                buffer.append(byte)
                if byte == 0x0A { buffer.append(contentsOf: indent) }
            }
            if buffer.count > 1 << 16 { flush() }
        }
        // No element: the document is the value as encoded, with the encoder's empty array.
        if first { return try json(value) }
        line("\n  ]" + whole[whole.index(after: end)...])
        flush()
    }
}

/// Progress on stderr when it is a terminal: phase, files, bytes and rate, redrawn at most ten times a second.
final class ProgressPrinter: @unchecked Sendable {
    // `lock` guards `last` and `started`.
    private let lock = NSLock()
    private var last: UInt64 = 0
    private let started = Posix.monotonicNs()
    private var drew = false

    /// A handler when progress should be shown, else nil.
    static func handler(quiet: Bool) -> (ProgressHandler?, ProgressPrinter?) {
        guard !quiet, isatty(2) != 0 else { return (nil, nil) }
        let p = ProgressPrinter()
        return ({ r in p.report(r) }, p)
    }

    func report(_ r: ProgressReport) {
        lock.lock(); defer { lock.unlock() }
        let now = Posix.monotonicNs()
        if now - last < 100_000_000 && r.files < r.totalFiles { return }
        last = now
        let secs = max(Double(now - started) / 1e9, 0.001)
        let rate = Double(r.bytes) / secs / 1e6
        let line =
            "\r\(r.phase): \(r.files)/\(r.totalFiles) files, \(Format.bytes(r.bytes))" + (r.totalBytes > 0 ? "/\(Format.bytes(r.totalBytes))" : "")
            + String(format: ", %.0f MB/s", rate) + "\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
        drew = true
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if drew { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// Human-readable formatting helpers.
enum Format {
    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n), i = 0
        while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }

    static func date(_ t: Int64, offsetMinutes: Int = 0) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: offsetMinutes * 60)
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    static func statusLetter(_ s: Change.Status) -> String {
        switch s {
        case .added: "A";
        case .deleted: "D";
        case .modified: "M";
        case .renamed: "R"
        }
    }

    /// Parses an ISO-8601 date (`2026-01-05`, `2026-01-05T12:00:00Z`, `2026-01-05T12:00:00+02:00`, or with a space).
    static func parseDate(_ s: String) -> (Int64, Int)? {
        let text = s.replacingOccurrences(of: " ", with: "T")
        let formats = ["yyyy-MM-dd'T'HH:mm:ssXXXXX", "yyyy-MM-dd'T'HH:mm:ss.SSSXXXXX", "yyyy-MM-dd'T'HH:mmXXXXX", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"]
        for fmt in formats {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = fmt
            if let d = f.date(from: text) {
                var offset = 0
                if fmt.hasSuffix("XXXXX") {
                    if let r = text.range(of: "[+-]\\d\\d:?\\d\\d$", options: .regularExpression) {
                        let z = text[r].replacingOccurrences(of: ":", with: "")
                        let sign = z.hasPrefix("-") ? -1 : 1
                        offset = sign * ((Int(z.dropFirst().prefix(2)) ?? 0) * 60 + (Int(z.suffix(2)) ?? 0))
                    }
                }
                return (Int64(d.timeIntervalSince1970), offset)
            }
        }
        return nil
    }
}

/// JSON shapes of `--json` output (documented in docs/reference/json.md).
struct JSONFileVersion: Encodable {
    var type: String; var mode: String; var sha256: String; var size: UInt64
    init(_ v: FileVersion) { type = v.kind.typeName; mode = v.kind.mode; sha256 = v.id.hex; size = v.size }
}

struct JSONChange: Encodable {
    var status: String; var path: String; var oldPath: String?; var old: JSONFileVersion?; var new: JSONFileVersion?
    init(_ c: Change) {
        status = c.status.rawValue; path = c.path; oldPath = c.oldPath
        old = c.old.map(JSONFileVersion.init); new = c.new.map(JSONFileVersion.init)
    }
    enum CodingKeys: String, CodingKey {
        case status, path
        case oldPath = "old_path"
        case old, new
    }
}

struct JSONCommit: Encodable {
    var id: String; var tree: String; var parents: [String]; var author: String; var email: String; var time: String; var timestamp: Int64; var message: String
    var pruned: Bool
    init(_ c: CommitInfo, pruned: Bool = false) {
        id = c.id.hex; tree = c.commit.tree.hex; parents = c.commit.parents.map(\.hex)
        author = c.commit.author.name; email = c.commit.author.email
        time = Format.date(c.commit.time, offsetMinutes: c.commit.timeZoneOffsetMinutes); timestamp = c.commit.time
        message = c.commit.message; self.pruned = pruned
    }
}

extension Change {
    var displayPath: String { oldPath.map { "\($0) -> \(path)" } ?? path }
}

/// Column padding for the listings. Foundation's `padding(toLength:)` cuts text longer than the width (a branch named
/// `feature/a-rather-long-name` was listed as `feature/a-rather-lon`) and counts UTF-16 units, so a name written in
/// NFD was padded short; these count Characters and never cut.
extension String {
    /// The text followed by spaces up to `width` Characters.
    func padded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }

    /// The text after spaces up to `width` Characters.
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
