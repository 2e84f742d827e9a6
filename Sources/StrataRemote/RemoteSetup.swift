import Foundation
import StrataPlatform

/// What a remote's storage can do, found by `RemoteProbe`.
public struct RemoteCapabilities: Sendable, Equatable, Codable {
    /// `create` fails when the key exists (S3 `If-None-Match: *`).
    public var createOnly: Bool
    /// `put(ifMatch:)` fails when the object changed (S3 `If-Match`).
    public var compareAndSwap: Bool
    /// Multipart uploads work (S3 CreateMultipartUpload / UploadPart / CompleteMultipartUpload); folders: no need.
    public var multipart: Bool = false
    /// Creates a value.
    public init(createOnly: Bool, compareAndSwap: Bool, multipart: Bool = false) {
        self.createOnly = createOnly; self.compareAndSwap = compareAndSwap; self.multipart = multipart
    }
    /// Both conditional writes work: several writers are safe.
    public var safeForManyWriters: Bool { createOnly && compareAndSwap }
    /// As stored in the store's config and shown by `remote list`.
    public var summary: String {
        [createOnly ? "create-only" : nil, compareAndSwap ? "compare-and-swap" : nil, multipart ? "multipart" : nil].compactMap { $0 }.joined(
            separator: ",")
    }
}

/// Probes a backend's conditional writes on a scratch key under `.strata-probe/`, which it removes again.
public enum RemoteProbe {
    /// Creates a key twice and replaces it with a stale and a fresh entity tag; a backend that lets the second create
    /// or the stale replace through ignores that condition.
    /// A strata server promises both conditions (it performs them under its own lock), so it is not probed: a reader
    /// without write rights can add it too.
    public static func probe(_ b: any RemoteBackend) throws -> RemoteCapabilities {
        if b is HTTPBackend { return RemoteCapabilities(createOnly: true, compareAndSwap: true) }
        let key = ".strata-probe/" + Posix.randomHex(8)
        defer { try? b.delete(key) }
        guard case .written(let etag) = try b.create(key, Array("probe 1".utf8)) else {
            return RemoteCapabilities(createOnly: false, compareAndSwap: false)
        }
        let createOnly = try b.create(key, Array("probe 2".utf8)) == .conditionFailed
        let stale = try b.put(key, Array("probe 3".utf8), ifMatch: "0000000000000000000000000000000000000000")
        var cas = stale == .conditionFailed
        if cas, case .written = try b.put(key, Array("probe 4".utf8), ifMatch: try b.head(key) ?? etag) {} else { cas = false }
        var multipart = false
        if let s3 = b as? S3Backend {
            // A one-part multipart upload of a small scratch file, read back.
            let mkey = key + "-multipart", file = NSTemporaryDirectory() + "strata-probe-" + Posix.randomHex(6)
            defer { try? b.delete(mkey); try? Posix.unlink(file) }
            let bytes = Array("multipart probe".utf8)
            if (try? Posix.writeAtomically(file, bytes)) != nil, case .written? = try? s3.multipartCreate(mkey, path: file, size: Int64(bytes.count)) {
                multipart = (try? b.get(mkey))??.bytes == bytes
            }
        }
        return RemoteCapabilities(createOnly: createOnly, compareAndSwap: cas, multipart: multipart)
    }
}

/// Where a remote is and how to reach it: `file:///path` or `s3://bucket/prefix` with an endpoint and region.
public struct RemoteLocation: Sendable, Equatable {
    /// The URL as the user gave it (never with credentials).
    public var url: String
    /// An S3 endpoint (`http://127.0.0.1:5000`), nil for AWS's own or for folders.
    public var endpoint: String?
    /// The S3 region.
    public var region: String?

    /// Checks the URL: `file://` with an absolute path, or `s3://bucket[/prefix]`; userinfo is refused.
    public init(url: String, endpoint: String? = nil, region: String? = nil) throws {
        if let scheme = url.range(of: "://"), url[scheme.upperBound...].split(separator: "/", maxSplits: 1).first?.contains("@") == true {
            throw RemoteSetupError.badURL(
                URLRedaction.redact(url), reason: "credentials do not belong in a remote URL; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a profile")
        }
        guard url.hasPrefix("file:///") || url.hasPrefix("s3://") || url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw RemoteSetupError.badURL(url, reason: "a remote is file:///absolute/path, s3://bucket[/prefix] or http(s)://server:port/NAMESPACE")
        }
        if url.hasPrefix("http") {
            guard let u = URL(string: url), u.host != nil, u.path.split(separator: "/").count == 1, u.query == nil else {
                throw RemoteSetupError.badURL(url, reason: "a server remote is http(s)://host:port/NAMESPACE (strata serve)")
            }
        }
        if url.hasPrefix("s3://") && url.dropFirst(5).split(separator: "/").first == nil {
            throw RemoteSetupError.badURL(url, reason: "it names no bucket")
        }
        self.url = url; self.endpoint = endpoint; self.region = region
    }

    /// The backend, with credentials and defaults taken as the AWS CLI takes them (`environment`, then the profile in
    /// `~/.aws/credentials` and `~/.aws/config`).
    public func backend(environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> any RemoteBackend {
        if url.hasPrefix("file://") { return try FolderBackend(root: String(url.dropFirst("file://".count))) }
        if url.hasPrefix("http"), let u = URL(string: url) {
            let token = try ServerCredentials.token(for: u, environment: env)
            // A token sent in clear text to another machine could be read on the way; loopback is only this machine.
            let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(u.host ?? "")
            if u.scheme == "http" && !loopback && token != nil && env["STRATA_INSECURE_HTTP"] != "1" {
                throw RemoteSetupError.badURL(
                    url, reason: "a token would cross the network unencrypted; use https (or set STRATA_INSECURE_HTTP=1 on a trusted network)")
            }
            return HTTPBackend(base: u, token: token)
        }
        let parts = url.dropFirst(5).split(separator: "/", maxSplits: 1).map(String.init)
        let config = AWSConfig(environment: env)
        guard let credentials = config.credentials else { throw RemoteSetupError.noCredentials(url) }
        let endpointText =
            endpoint ?? env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"] ?? "https://s3.\(region ?? config.region ?? "us-east-1").amazonaws.com"
        guard let endpointURL = URL(string: endpointText), endpointURL.host != nil else {
            throw RemoteSetupError.badURL(endpointText, reason: "the endpoint is not a URL")
        }
        return S3Backend(
            endpoint: endpointURL, bucket: parts[0], prefix: parts.count > 1 ? parts[1] : "",
            region: region ?? config.region ?? "us-east-1", credentials: credentials)
    }
}

/// AWS settings as the CLI and SDKs read them: `AWS_*` variables first, then `AWS_PROFILE` (default `default`) in
/// `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`) and `~/.aws/config` (or `AWS_CONFIG_FILE`).
public struct AWSConfig: Sendable {
    /// The credentials found, if any.
    public var credentials: AWSCredentials?
    /// The region found, if any.
    public var region: String?

    /// Reads the settings from an environment.
    public init(environment env: [String: String]) {
        let home = env["HOME"] ?? "/root"
        let profile = env["AWS_PROFILE"] ?? env["AWS_DEFAULT_PROFILE"] ?? "default"
        let creds = AWSConfig.ini(env["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials")[profile] ?? [:]
        let conf = AWSConfig.ini(env["AWS_CONFIG_FILE"] ?? home + "/.aws/config")[profile == "default" ? "default" : "profile " + profile] ?? [:]
        if let id = env["AWS_ACCESS_KEY_ID"], let secret = env["AWS_SECRET_ACCESS_KEY"], !id.isEmpty, !secret.isEmpty {
            credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: env["AWS_SESSION_TOKEN"])
        } else if let id = creds["aws_access_key_id"], let secret = creds["aws_secret_access_key"] {
            credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: creds["aws_session_token"])
        }
        region = env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? conf["region"] ?? creds["region"]
    }

    /// `[section]` → key → value of an INI file (missing file: empty).
    static func ini(_ path: String) -> [String: [String: String]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var out: [String: [String: String]] = [:]
        var section = ""
        for raw in text.textLines() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") { section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces); continue }
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[section, default: [:]][line[..<eq].trimmingCharacters(in: .whitespaces)] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        return out
    }
}

/// Failures of setting a remote up.
public enum RemoteSetupError: StrataError {
    /// A URL that is not a remote.
    case badURL(String, reason: String)
    /// No credentials for an S3 remote.
    case noCredentials(String)
    /// The storage ignores conditional writes and `--single-writer` was not given.
    case unsafeStorage(String, RemoteCapabilities)
    /// A remote name that is taken or malformed.
    case badName(String, reason: String)
    /// No remote of that name.
    case unknownRemote(String)
    /// Storage that holds something other than a Strata remote.
    case notARemote(String, reason: String)
    /// A remote written by a newer Strata.
    case remoteTooNew(String, version: Int)

    public var code: String {
        switch self {
        case .badURL: "remote.bad-url"
        case .noCredentials: "remote.no-credentials"
        case .unsafeStorage: "remote.no-conditional-writes"
        case .badName: "remote.bad-name"
        case .unknownRemote: "remote.unknown"
        case .notARemote: "remote.not-a-remote"
        case .remoteTooNew: "remote.too-new"
        }
    }
    public var category: ErrorCategory {
        switch self {
        case .badURL, .badName: .usage
        case .noCredentials: .failure
        case .unsafeStorage: .conflict
        case .unknownRemote: .notFound
        case .notARemote: .integrity
        case .remoteTooNew: .tooNew
        }
    }
    public var message: String {
        switch self {
        case .badURL(let u, let r): "'\(u)' is not a usable remote: \(r)"
        case .noCredentials(let u): "no AWS credentials for \(u)"
        case .unsafeStorage(let u, let c):
            "the storage of \(u) ignores \(c.createOnly ? "" : "If-None-Match")\(c.createOnly || c.compareAndSwap ? "" : " and ")\(c.compareAndSwap ? "" : "If-Match") conditional writes: two writers could overwrite each other's refs"
        case .badName(let n, let r): "remote name '\(n)': \(r)"
        case .unknownRemote(let n): "no remote named '\(n)'"
        case .notARemote(let u, let r): "\(u) is not a Strata remote: \(r); nothing was written"
        case .remoteTooNew(let u, let v):
            "\(u) uses remote layout version \(v), newer than this strata knows (\(RemoteMarker.currentVersion)); nothing was written"
        }
    }
    public var nextStep: String? {
        switch self {
        case .badURL: "give file:///absolute/path or s3://bucket[/prefix] (with --endpoint for S3-compatible storage)"
        case .noCredentials: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials"
        case .unsafeStorage: "use storage with conditional writes, or pass --single-writer if only one machine ever writes (see docs/runbooks)"
        case .badName: "pick a name like origin (letters, digits, '-', '_')"
        case .unknownRemote: "list them with 'strata remote list'"
        case .notARemote: "point the remote at an empty folder or bucket prefix, or at an existing Strata remote"
        case .remoteTooNew: "upgrade strata"
        }
    }
}

/// The `STRATA` marker at the root of a remote: what it is, its layout version, and the id every clone shares.
public struct RemoteMarker: Sendable, Equatable, Codable {
    /// Always `strata-remote`.
    public var format: String
    /// The remote layout version this build writes and reads.
    public var version: Int
    /// The remote repository's id (a random 128-bit hex string), set by whoever created the marker.
    public var repoId: String

    /// The layout version of this build.
    public static let currentVersion = 1

    /// Reads the marker, creating it (create-only) on an empty remote. A remote that holds something else, or a marker
    /// of a newer layout, is refused before anything is written.
    public static func ensure(_ b: any RemoteBackend) throws -> RemoteMarker {
        if let existing = try b.get("STRATA") { return try check(existing.bytes, b) }
        let fresh = RemoteMarker(format: "strata-remote", version: currentVersion, repoId: Posix.randomHex(16))
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        switch try b.create("STRATA", [UInt8](try enc.encode(fresh)) + [10]) {
        case .written: return fresh
        case .conditionFailed:  // someone else created it meanwhile: theirs counts
            guard let theirs = try b.get("STRATA") else { throw RemoteSetupError.notARemote(b.displayName, reason: "its STRATA marker vanished") }
            return try check(theirs.bytes, b)
        }
    }

    /// Decodes a marker read from `b`, refusing foreign content and newer layouts.
    public static func check(_ bytes: [UInt8], _ b: any RemoteBackend) throws -> RemoteMarker {
        guard let m = try? JSONDecoder().decode(RemoteMarker.self, from: Data(bytes)), m.format == "strata-remote", !m.repoId.isEmpty else {
            throw RemoteSetupError.notARemote(b.displayName, reason: "its STRATA marker is not a Strata remote marker")
        }
        if m.version > currentVersion { throw RemoteSetupError.remoteTooNew(b.displayName, version: m.version) }
        return m
    }
}
